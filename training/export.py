"""Stage 4: the trained weights as a real diffusers folder (StableDiffusion3Pipeline.save_pretrained:
model_index.json, transformer/, vae/, text_encoder/, text_encoder_2/, tokenizer/, tokenizer_2/,
scheduler/, no T5), which `npm run convert` turns into the studio's pack and diffusers itself can
run. The transformer and text encoders are the EMA weights. Adds studio.json (what the studio
says about the pack: its description, vocabulary, defaults, and that cached references are exact
because the model was trained in that layout) and LICENSE."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from diffusers import StableDiffusion3Pipeline

from toy_models import make_scheduler, make_vae
from train_dit import Model
from world_text import WorldTokens  # puts fixtures/ (clip_bpe) on the path

from clip_bpe import finish_tokenizer  # noqa: E402

DESCRIPTION = (
    "A small model of a toy world, trained by this project: toys, vases, birds, boxes and mugs on plain, "
    "striped, sky, grass and water backgrounds. It knows only the world's words."
)


def export(out: Path, folder: Path, steps: int, text_guidance: float) -> None:
    tokens = WorldTokens(out / "tokenizers")
    model = Model(tokens.vocab_size)
    st = torch.load(out / "dit" / "state.pt", weights_only=False)
    model.load_state_dict(st["ema"])
    vae = make_vae()
    vae.load_state_dict(torch.load(out / "vae" / "state.pt", weights_only=False)["model"])
    stats = json.loads((out / "latents" / "stats.json").read_text())
    vae.register_to_config(scaling_factor=1 / stats["std"], shift_factor=stats["mean"])
    pipe = StableDiffusion3Pipeline(
        transformer=model.transformer.eval(),
        scheduler=make_scheduler(),
        vae=vae.eval(),
        text_encoder=model.text_encoder.eval(),
        tokenizer=tokens.tok1,
        text_encoder_2=model.text_encoder_2.eval(),
        tokenizer_2=tokens.tok2,
        text_encoder_3=None,
        tokenizer_3=None,
    )
    pipe.save_pretrained(str(folder), safe_serialization=True)
    vocab = json.loads((out / "tokenizers" / "tokenizer" / "vocab.json").read_text())
    merges_lines = (out / "tokenizers" / "tokenizer" / "merges.txt").read_text().splitlines()[1:]
    merges = [tuple(line.split(" ")) for line in merges_lines if line]
    for sub, pad in (("tokenizer", "<|endoftext|>"), ("tokenizer_2", "!")):
        finish_tokenizer(folder / sub, vocab, merges, pad)
    words = json.loads((out / "words.json").read_text())
    (folder / "studio.json").write_text(
        json.dumps(
            {
                "name": "toy-world",
                "description": DESCRIPTION,
                "vocabulary": words,
                "referenceModes": {"cached": "exact", "full": "approximate"},
                "guidance": {"steps": steps, "text": text_guidance, "reference": 1},
                "trainedSteps": st["step"],
            },
            indent=2,
        )
        + "\n"
    )
    (folder / "LICENSE").write_text(
        "Weights trained by Subject Studio from procedurally generated pictures (training/ in the repository);\n"
        "no third-party data or weights. Same terms as the Subject Studio repository.\n"
    )
    print(f"exported step {st['step']} to {folder}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True, help="the training run's folder")
    ap.add_argument("--folder", type=Path, required=True, help="where the diffusers folder goes")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--text-guidance", type=float, default=3.0)
    a = ap.parse_args()
    export(a.out, a.folder, a.steps, a.text_guidance)


if __name__ == "__main__":
    main()
