"""Carry a training run across sessions in the repository (files under 25 MB):

    checkpoint.py save <run folder>      -> training/checkpoint/dit-resume.pt (raw and EMA weights of the
                                           transformer and text encoders, step, log; no optimizer moments)
    checkpoint.py restore <run folder>   -> <run>/dit/state.pt and <run>/vae/state.pt (the VAE from the
                                           committed diffusers folder training/toy-world), so that
                                           encode_latents.py and train_dit.py resume where it stopped

train_dit.py resumes a state without optimizer moments with a fresh AdamW (and its warm-up).
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch
from diffusers import AutoencoderKL

HERE = Path(__file__).resolve().parent
FILE = HERE / "checkpoint" / "dit-resume.pt"


def save(run: Path) -> None:
    st = torch.load(run / "dit" / "state.pt", weights_only=False, map_location="cpu")
    FILE.parent.mkdir(exist_ok=True)
    torch.save({"model": st["model"], "ema": st["ema"], "step": st["step"], "log": st["log"], "args": st.get("args", {})}, FILE)
    print(f"saved step {st['step']} to {FILE} ({FILE.stat().st_size / 2**20:.1f} MiB)")


def restore(run: Path) -> None:
    st = torch.load(FILE, weights_only=False, map_location="cpu")
    (run / "dit").mkdir(parents=True, exist_ok=True)
    if (run / "dit" / "state.pt").exists():
        raise SystemExit(f"{run}/dit/state.pt exists: not overwriting a run")
    torch.save(st, run / "dit" / "state.pt")
    vae = AutoencoderKL.from_pretrained(str(HERE / "toy-world" / "vae"))
    (run / "vae").mkdir(parents=True, exist_ok=True)
    torch.save({"model": vae.state_dict(), "complete": True}, run / "vae" / "state.pt")
    print(f"restored step {st['step']} into {run}")


if __name__ == "__main__":
    {"save": save, "restore": restore}[sys.argv[1]](Path(sys.argv[2]))
