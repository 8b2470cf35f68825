"""Reference outputs of the trained toy-world model, for the TypeScript tests that show the studio
computes what training computed (fixtures/toy-world/reference/, small .npy files + index.json):

- velocity_ref.npy: one cached-mode step with a subject's reference (studio_forward.py, the code the
  model was trained with): the studio's converted graphs must give the same velocity;
- image.npy / latents.npy: diffusers' StableDiffusion3Pipeline on the exported folder, no subject,
  plain CFG, from noise.npy: the studio's whole generation must give the same picture.

    /work/venv/bin/python training/record_fixtures.py --folder training/toy-world --latents <run>/latents
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from diffusers import StableDiffusion3Pipeline

from studio_forward import layout_references, reference_bias, reference_pass, step_forward
from world_text import WorldTokens, encode_prompts

OUT = Path(__file__).resolve().parent.parent / "fixtures" / "toy-world" / "reference"
PROMPT_REF = "<s1> toy, large, on the left, on a striped blue background"
PROMPT_PLAIN = "a bird, small, on the right, in the sky, next to a red ball"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", type=Path, required=True, help="the exported diffusers folder")
    ap.add_argument("--latents", type=Path, required=True, help="the run's latents/ (for a real reference's latents and mask)")
    ap.add_argument("--example", type=int, default=-1, help="which dataset example's reference (default: the last, never trained on)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    OUT.mkdir(parents=True, exist_ok=True)
    pipe = StableDiffusion3Pipeline.from_pretrained(str(a.folder), text_encoder_3=None, tokenizer_3=None, torch_dtype=torch.float32)
    tr = pipe.transformer.eval()
    tokens = WorldTokens(a.folder)
    files: dict[str, dict] = {}

    def save(name: str, array, what: str, **inputs):
        arr = np.ascontiguousarray(np.asarray(array, dtype=np.float32))
        np.save(OUT / name, arr)
        files[name] = {"what": what, "shape": list(arr.shape), **({"inputs": inputs} if inputs else {})}

    # One cached-mode step with a reference, as in training.
    stats_shift, stats_scale = pipe.vae.config.shift_factor, pipe.vae.config.scaling_factor
    lat = np.load(a.latents / "latents.npy", mmap_mode="r")
    masks = np.load(a.latents / "masks.npy", mmap_mode="r")
    ex = a.example % lat.shape[0]
    ref = (torch.from_numpy(lat[ex, 2].astype(np.float32))[None] - stats_shift) * stats_scale  # slot 0, free reference
    mask = torch.from_numpy(masks[ex, 0, 1].astype(np.float32))
    g = torch.Generator().manual_seed(11)
    x_t = torch.randn(1, 16, 16, 16, generator=g)
    t = torch.tensor([640.0])
    ids1, ids2, concepts = tokens.encode(PROMPT_REF)
    enc = [pipe.text_encoder, pipe.text_encoder_2]
    context, pooled = encode_prompts(enc, torch.tensor([ids1]), torch.tensor([ids2]), tokens.eos, tr.config.joint_attention_dim)
    r1, r2, _ = tokens.encode("a photo of a toy")
    _, ref_pooled = encode_prompts(enc, torch.tensor([r1]), torch.tensor([r2]), tokens.eos, tr.config.joint_attention_dim)
    kv = layout_references(reference_pass(tr, ref, ref_pooled), torch.tensor([0]), 1)
    present = torch.tensor([[True, False]])
    tmask = torch.stack([mask, torch.zeros(64)])[None]
    concept = torch.zeros(1, 2, context.shape[1], dtype=torch.bool)
    concept[0, 0, concepts[0]] = True
    bias = reference_bias(tmask, present, concept, context.shape[1])
    # Only the real reference's columns: the studio's plan has no second, empty set.
    v = step_forward(tr, x_t, t, context, pooled, [(k[:, :, :64], vv[:, :, :64]) for k, vv in kv], bias[:, :, :64])
    save("ref_latents.npy", ref, "normalised VAE latents of a reference photo (background filled black), [1, 16, 16, 16]")
    save("ref_token_mask.npy", mask, "the reference's mask on the 8x8 token grid")
    save("x_t.npy", x_t, "noisy latents")
    save("velocity_ref.npy", v, "cached-mode velocity with the reference (training's forward)", prompt=PROMPT_REF, timestep=float(t), latents="x_t.npy", reference="ref_latents.npy", mask="ref_token_mask.npy", reference_prompt="a photo of a toy")
    save("ids.npy", np.array(ids1, dtype=np.float32), "tokenizer/ ids of the prompt with the placeholder <s1> (id = vocabulary size)", prompt=PROMPT_REF)
    save("context.npy", context[:, :77], "the 77 CLIP rows of the text conditioning", prompt=PROMPT_REF)
    save("pooled.npy", pooled, "pooled text vector", prompt=PROMPT_REF)

    # The whole pipeline without a subject: plain CFG from given noise.
    g = torch.Generator().manual_seed(5)
    noise = torch.randn(1, 16, 16, 16, generator=g)
    steps, cfg = 8, 3.0
    out = pipe(prompt=PROMPT_PLAIN, negative_prompt="", height=128, width=128, num_inference_steps=steps, guidance_scale=cfg, latents=noise.clone(), output_type="latent")
    latents = out.images
    image = pipe.vae.decode(latents / stats_scale + stats_shift).sample
    image = (image / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1)
    save("noise.npy", noise, "initial noise")
    save("latents.npy", latents, "the pipeline's final latents (before the VAE's normalisation is undone)", prompt=PROMPT_PLAIN, steps=steps, guidance=cfg)
    save("image.npy", image, "decoded image, NHWC in [0, 1]", prompt=PROMPT_PLAIN, steps=steps, guidance=cfg)
    (OUT / "index.json").write_text(json.dumps({"folder": str(a.folder.name), "files": files}, indent=2) + "\n")
    print(f"wrote {len(files)} files to {OUT}")


if __name__ == "__main__":
    main()
