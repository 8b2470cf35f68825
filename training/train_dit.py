"""Stage 3: the transformer and both text encoders, jointly, in the studio's cached reference mode
(studio_forward.py), with flow matching on the VAE latents of encode_latents.py.

Per sample (the studio's branches are what training sees):
- text only (the text-to-image base): the prompt without placeholders ("a toy, ..."), no reference;
- with references: the prompt with placeholders ("<s1> toy, ..."), each subject's reference photo
  (background filled black) with its mask on the image rows' bias; the reference is "aligned" (the
  subject at its target place and size) or "free" (anywhere), by the curriculum;
- reference dropped (the drop ratio as training dropout, AlignGen): the black image in its place;
- text dropped (for CFG): the empty prompt and black references, as the studio's uncond branch.
Curriculum over the run's fraction f: f < base_until text only; then references mostly aligned
until aligned_until; then mostly free. Every `diag_every` steps it logs, on fixed held batches, the
loss with the reference and with the black one (same prompts, noise and times): copying is learned
when the first falls clearly below the second. Resumable from out/dit/state.pt."""
from __future__ import annotations

import argparse
import copy
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from studio_forward import REF_SLOTS, layout_references, reference_bias, reference_pass, step_forward
from toy_models import make_text_encoder, make_transformer
from world_data import WorldShards
from world_text import WorldTokens, encode_prompts


class Batches:
    def __init__(self, data: WorldShards, latent_dir: Path, tokens: WorldTokens):
        self.data, self.tokens = data, tokens
        self.lat = np.load(latent_dir / "latents.npy", mmap_mode="r")
        self.masks = np.load(latent_dir / "masks.npy", mmap_mode="r")
        self.black = torch.from_numpy(np.load(latent_dir / "black.npy"))
        stats = json.loads((latent_dir / "stats.json").read_text())
        self.shift, self.scale = stats["mean"], 1 / stats["std"]
        self.encoded = stats["examples"]

    def norm(self, z: torch.Tensor) -> torch.Tensor:
        """The pipeline's latent normalisation: (z - shift_factor) * scaling_factor."""
        return (z - self.shift) * self.scale

    def make(self, idx: list[int], kinds: list[str], drop_ref: list[bool], drop_text: list[bool]) -> dict:
        """kinds: 'text' | 'aligned' | 'free' per sample."""
        B = len(idx)
        x0 = self.norm(torch.from_numpy(self.lat[idx, 0].astype(np.float32)))
        prompts, ref_lat, ref_slot, ref_class = [], [], [], []
        present = torch.zeros(B, REF_SLOTS, dtype=torch.bool)
        tmask = torch.zeros(B, REF_SLOTS, 64)
        concept = torch.zeros(B, REF_SLOTS, 78, dtype=torch.bool)
        subject = torch.zeros(B, 1, 16, 16)
        black = self.norm(self.black)
        for b, (i, kind) in enumerate(zip(idx, kinds)):
            ex = self.data.examples[i]
            subject[b, 0] = latent_mask(self.data.images(i)["target_masks"])
            if kind == "text":
                prompts.append("" if drop_text[b] else ex.plain_prompt)
                continue
            prompt = "" if drop_text[b] else ex.prompt
            prompts.append(prompt)
            _, _, concepts = self.tokens.encode(prompt)
            k = 0 if kind == "aligned" else 1
            for s in range(ex.subjects):
                z = black if (drop_ref[b] or drop_text[b]) else self.norm(torch.from_numpy(self.lat[i, 1 + 2 * s + k].astype(np.float32)))
                ref_lat.append(z)
                ref_slot.append(b * REF_SLOTS + s)
                ref_class.append(ex.class_words[s])
                present[b, s] = True
                tmask[b, s] = torch.from_numpy(self.masks[i, s, k].astype(np.float32))
                for pos in concepts.get(s, []):
                    concept[b, s, pos] = True
        enc = [self.tokens.encode(p) for p in prompts]
        return {
            "x0": x0,
            "ids1": torch.tensor([e[0] for e in enc]),
            "ids2": torch.tensor([e[1] for e in enc]),
            "ref_latents": torch.stack(ref_lat) if ref_lat else None,
            "ref_slot": torch.tensor(ref_slot, dtype=torch.long),
            "ref_class": ref_class,
            "present": present,
            "token_masks": tmask,
            "concept": concept,
            "subject": subject,
        }


def latent_mask(target_masks: np.ndarray) -> torch.Tensor:
    """Where the target's subjects are, on the 16x16 latent grid (union of the masks, by area)."""
    m = torch.from_numpy(target_masks.astype(np.float32) / 255).amax(0)
    return F.avg_pool2d(m[None, None], 8)[0, 0]


class Model(torch.nn.Module):
    def __init__(self, vocab_size: int):
        super().__init__()
        self.transformer = make_transformer()
        self.text_encoder = make_text_encoder(vocab_size, "quick_gelu")
        self.text_encoder_2 = make_text_encoder(vocab_size, "gelu")

    def text(self, ids1, ids2, eos):
        return encode_prompts([self.text_encoder, self.text_encoder_2], ids1, ids2, eos, self.transformer.config.joint_attention_dim)

    def velocity(self, batch: dict, x_t: torch.Tensor, t: torch.Tensor, tokens: WorldTokens, ref_override: torch.Tensor | None = None) -> torch.Tensor:
        context, pooled = self.text(batch["ids1"], batch["ids2"], tokens.eos)
        B = x_t.shape[0]
        ref_kv = bias = None
        if batch["ref_latents"] is not None:
            classes = sorted(set(batch["ref_class"]))
            enc = [tokens.encode(f"a photo of a {c}") for c in classes]
            _, cls_pooled = self.text(torch.tensor([e[0] for e in enc]), torch.tensor([e[1] for e in enc]), tokens.eos)
            ref_pooled = cls_pooled[[classes.index(c) for c in batch["ref_class"]]]
            lat = batch["ref_latents"] if ref_override is None else ref_override
            ref_kv = layout_references(reference_pass(self.transformer, lat, ref_pooled), batch["ref_slot"], B)
            bias = reference_bias(batch["token_masks"], batch["present"], batch["concept"], context.shape[1])
        return step_forward(self.transformer, x_t, t, context, pooled, ref_kv, bias)


def flow_loss(model: Model, batch: dict, tokens: WorldTokens, g: torch.Generator, ref_override=None, subject_weight: float = 0.0) -> torch.Tensor:
    """Flow-matching MSE. subject_weight > 0 weighs the subjects' latent cells (1 + w) against the
    background's 1 (the mask-weighted loss of EqDiff): a small subject is a few cells of 256, and an
    unweighted loss spends the model on backgrounds, while the subject is what has to be copied."""
    x0 = batch["x0"]
    B = x0.shape[0]
    sigma = torch.sigmoid(torch.randn(B, generator=g))  # SD3's logit-normal times
    eps = torch.randn(x0.shape, generator=g)
    x_t = (1 - sigma[:, None, None, None]) * x0 + sigma[:, None, None, None] * eps
    v = model.velocity(batch, x_t, 1000 * sigma, tokens, ref_override)
    err = (v - (eps - x0)).pow(2)
    if subject_weight <= 0:
        return err.mean()
    w = 1 + subject_weight * batch["subject"]
    return (err * w).sum() / (w.sum() * err.shape[1])


def kinds_for(rng: np.random.Generator, f: float, a) -> str:
    if f < a.base_until or rng.random() < a.text_share:
        return "text"
    aligned_p = 0.9 if f < a.aligned_until else 0.3
    return "aligned" if rng.random() < aligned_p else "free"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--base-until", type=float, default=0.05)
    ap.add_argument("--aligned-until", type=float, default=0.4)
    ap.add_argument("--text-share", type=float, default=0.2)
    ap.add_argument("--ref-drop", type=float, default=0.2)
    ap.add_argument("--text-drop", type=float, default=0.1)
    ap.add_argument("--subject-weight", type=float, default=0.0, help="extra loss weight on the target's subject cells (0 = plain MSE)")
    ap.add_argument("--diag-every", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--stop-after", type=int, default=0, help="stop after this many steps in this run (0 = run to --steps)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    out = a.out / "dit"
    out.mkdir(parents=True, exist_ok=True)
    data = WorldShards(a.data)
    tokens = WorldTokens(a.out / "tokenizers")
    batches = Batches(data, a.out / "latents", tokens)
    # Only what encode_latents encoded (it may have been asked for the first N examples).
    n = min(len(data), batches.lat.shape[0], batches.encoded)

    torch.manual_seed(a.seed)
    model = Model(tokens.vocab_size)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.0, betas=(0.9, 0.99))
    step, log, warm_from = 0, [], 0
    state_path = out / "state.pt"
    if state_path.exists():
        st = torch.load(state_path, weights_only=False)
        model.load_state_dict(st["model"])
        ema.load_state_dict(st["ema"])
        step, log = st["step"], st["log"]
        if "opt" in st:
            opt.load_state_dict(st["opt"])
            print(f"resumed at step {step}")
        else:
            # A committed checkpoint (checkpoint.py) has no optimizer moments: a fresh AdamW with its own warm-up.
            warm_from = step
            print(f"resumed at step {step} with a fresh optimizer")

    # Held batches for the ref / no-ref diagnostic: the last 256 examples are never trained on.
    held = list(range(n - 256, n))
    train_n = n - 256
    diag = {kind: batches.make(held[:64] if kind == "aligned" else held[64:128], [kind] * 64, [False] * 64, [False] * 64) for kind in ("aligned", "free")}

    def lr_at(s: int) -> float:
        warm = min(1.0, (s + 1 - warm_from) / 300)
        return a.lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / a.steps))))

    t0, ran = time.time(), 0
    while step < a.steps and (a.stop_after == 0 or ran < a.stop_after):
        rng = np.random.default_rng([a.seed, step])
        g = torch.Generator().manual_seed(a.seed * 1_000_003 + step)
        f = step / a.steps
        idx = [int(i) for i in rng.integers(0, train_n, size=a.batch)]
        kinds = [kinds_for(rng, f, a) for _ in idx]
        drop_ref = [bool(rng.random() < a.ref_drop) for _ in idx]
        drop_text = [bool(rng.random() < a.text_drop) for _ in idx]
        batch = batches.make(idx, kinds, drop_ref, drop_text)
        for grp in opt.param_groups:
            grp["lr"] = lr_at(step)
        loss = flow_loss(model, batch, tokens, g, subject_weight=a.subject_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            d = min(a.ema, (1 + step) / (10 + step))
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.lerp_(pm, 1 - d)
        step += 1
        ran += 1
        entry = None
        if step % 25 == 0:
            entry = {"step": step, "loss": float(loss.detach()), "grad_norm": float(gn), "lr": lr_at(step), "s_per_step": (time.time() - t0) / ran}
        if step % a.diag_every == 0:
            with torch.no_grad():
                for kind, db in diag.items():
                    gd = torch.Generator().manual_seed(777)
                    with_ref = float(flow_loss(model, db, tokens, gd))
                    gd = torch.Generator().manual_seed(777)
                    black = batches.norm(batches.black).expand_as(db["ref_latents"]).contiguous()
                    without = float(flow_loss(model, db, tokens, gd, ref_override=black))
                    entry = entry or {"step": step}
                    entry[f"diag_{kind}_ref"] = with_ref
                    entry[f"diag_{kind}_black"] = without
                    if a.subject_weight > 0:
                        # The same pair under the training's weighting: copying shows on the subject's cells.
                        for name, override in (("ref", None), ("black", black)):
                            gd = torch.Generator().manual_seed(777)
                            entry[f"diag_{kind}_{name}_weighted"] = float(flow_loss(model, db, tokens, gd, ref_override=override, subject_weight=a.subject_weight))
        if entry:
            log.append(entry)
            print(json.dumps(entry), flush=True)
        if step % 200 == 0 or step == a.steps:
            torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step, "log": log, "args": vars(a) | {"data": str(a.data), "out": str(a.out)}}, state_path.with_suffix(".tmp"))
            state_path.with_suffix(".tmp").replace(state_path)
    print("dit stopped at step", step)


if __name__ == "__main__":
    main()
