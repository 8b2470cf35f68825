"""Stage 1: the VAE (AutoencoderKL, 8x, 16 channels) on the world's pictures, targets and
reference photos alike (references with their background filled black, as the studio encodes
them). L1 + MSE on pixels, a small KL so the latent scale stays put, posterior samples in the
decoder so that it tolerates the sampler's small errors. Resumable from out/vae/state.pt."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from toy_models import make_vae
from world_data import WorldShards, fill_black, to_pixels


def batch_of_images(data: WorldShards, rng: np.random.Generator, n: int) -> torch.Tensor:
    """A mix of targets (half) and black-filled reference photos (half)."""
    out = []
    for _ in range(n):
        i = int(rng.integers(len(data)))
        im = data.images(i)
        if rng.random() < 0.5:
            out.append(to_pixels(im["target"]))
        else:
            slot = int(rng.integers(data.examples[i].subjects))
            kind = "aligned" if rng.random() < 0.5 else "free"
            out.append(fill_black(to_pixels(im[f"{kind}{slot}"]), im[f"{kind}{slot}_mask"]))
    return torch.stack(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--crop", type=int, default=64, help="train on random crops (px): 4x cheaper than 128, the VAE is convolutional")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--kl", type=float, default=1e-6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    out = a.out / "vae"
    out.mkdir(parents=True, exist_ok=True)
    data = WorldShards(a.data)

    torch.manual_seed(a.seed)
    vae = make_vae()
    opt = torch.optim.AdamW(vae.parameters(), lr=a.lr, weight_decay=0.0)
    step, log = 0, []
    state_path = out / "state.pt"
    if state_path.exists():
        st = torch.load(state_path, weights_only=False)
        if st.get("complete"):
            print("vae complete (restored from the committed model)")
            return
        vae.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step, log = st["step"], st["log"]
        print(f"resumed at step {step}")
    rng = np.random.default_rng([a.seed, step])
    sched = lambda s: a.lr * min(1.0, (s + 1) / 200) * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * min(1.0, s / a.steps))))

    t0, seen = time.time(), 0
    while step < a.steps:
        x = batch_of_images(data, rng, a.batch)
        if a.crop < x.shape[-1]:
            oy, ox = (int(v) // 8 * 8 for v in rng.integers(0, x.shape[-1] - a.crop + 1, size=2))
            x = x[..., oy : oy + a.crop, ox : ox + a.crop]
        for g in opt.param_groups:
            g["lr"] = sched(step)
        post = vae.encode(x).latent_dist
        rec = vae.decode(post.sample()).sample
        l1 = F.l1_loss(rec, x)
        mse = F.mse_loss(rec, x)
        kl = post.kl().mean() / x[0].numel()
        loss = l1 + mse + a.kl * kl * x[0].numel()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        step += 1
        seen += 1
        if step % 25 == 0:
            psnr = float(10 * torch.log10(4 / mse.detach()))
            entry = {"step": step, "l1": float(l1.detach()), "mse": float(mse.detach()), "psnr": psnr, "s_per_step": (time.time() - t0) / seen}
            log.append(entry)
            print(json.dumps(entry), flush=True)
        if step % 250 == 0 or step == a.steps:
            torch.save({"model": vae.state_dict(), "opt": opt.state_dict(), "step": step, "log": log}, state_path.with_suffix(".tmp"))
            state_path.with_suffix(".tmp").replace(state_path)
    print("vae done")


if __name__ == "__main__":
    main()
