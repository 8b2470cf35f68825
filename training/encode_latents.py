"""Stage 2: every picture of the dataset through the trained VAE encoder, once (the transformer's
training then never runs the VAE). Writes out/latents/: latents.npy [examples, 5, 16, 16, 16] fp16
(target, then per subject slot the aligned and the free reference with their background filled
black; absent slots zero), masks.npy [examples, 2, 2, 64] (the reference masks on the token grid),
black.npy (the black image: the dropped reference), and stats.json (the latent mean and std that
become the VAE's shift_factor and scaling_factor). Resumable by chunk."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from toy_models import make_vae
from world_data import WorldShards, fill_black, to_pixels, token_grid

CHUNK = 500
GRID = 8


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--examples", type=int, default=0, help="encode only the first N examples (0 = all); the transformer trains on these")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    data = WorldShards(a.data)
    vae = make_vae()
    vae.load_state_dict(torch.load(a.out / "vae" / "state.pt", weights_only=False)["model"])
    vae.eval()
    out = a.out / "latents"
    out.mkdir(parents=True, exist_ok=True)
    n = len(data) if a.examples <= 0 else min(len(data), a.examples)
    lat_path, mask_path = out / "latents.npy", out / "masks.npy"
    if lat_path.exists():
        lat = np.load(lat_path, mmap_mode="r+")
        masks = np.load(mask_path, mmap_mode="r+")
        n = min(n, lat.shape[0])
    else:
        lat = np.lib.format.open_memmap(lat_path, mode="w+", dtype=np.float16, shape=(n, 5, 16, 16, 16))
        masks = np.lib.format.open_memmap(mask_path, mode="w+", dtype=np.float16, shape=(n, 2, 2, GRID * GRID))
    done_path = out / "done.json"
    done = set(json.loads(done_path.read_text())) if done_path.exists() else set()

    with torch.no_grad():
        black = vae.encode(-torch.ones(1, 3, 128, 128)).latent_dist.mean
        np.save(out / "black.npy", black[0].numpy().astype(np.float32))
        for c0 in range(0, n, CHUNK):
            if c0 in done:
                continue
            images, where = [], []
            for i in range(c0, min(n, c0 + CHUNK)):
                im = data.images(i)
                images.append(to_pixels(im["target"]))
                where.append((i, 0))
                for s in range(data.examples[i].subjects):
                    for k, kind in enumerate(("aligned", "free")):
                        images.append(fill_black(to_pixels(im[f"{kind}{s}"]), im[f"{kind}{s}_mask"]))
                        where.append((i, 1 + 2 * s + k))
                        masks[i, s, k] = token_grid(im[f"{kind}{s}_mask"], GRID)
            x = torch.stack(images)
            z = torch.cat([vae.encode(x[j : j + 64]).latent_dist.mean for j in range(0, len(x), 64)])
            for (i, slot), zz in zip(where, z):
                lat[i, slot] = zz.numpy().astype(np.float16)
            lat.flush()
            masks.flush()
            done.add(c0)
            done_path.write_text(json.dumps(sorted(done)))
            print(f"encoded examples {c0}..{min(n, c0 + CHUNK) - 1}", flush=True)
    targets = lat[:n, 0].astype(np.float32)
    stats = {"mean": float(targets.mean()), "std": float(targets.std()), "examples": n}
    (out / "stats.json").write_text(json.dumps(stats))
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
