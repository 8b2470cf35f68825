"""The studio's cached reference mode, computed with a diffusers SD3Transformer2DModel's own
modules, so that the trained weights mean in the studio exactly what they meant in training.

What the studio's SD3 graphs compute (docs/method.md, docs/pack-format.md), and so this file:
- text rows: CLIP-L and CLIP-G penultimate states side by side (77 rows), then diffusers' 256 zero
  T5 rows. Those rows enter identical and stay identical through every block (no positions on text),
  so here they are ONE row whose key logit gets + log 256: exactly the same softmax;
- image tokens at the centred crop of the sin-cos table;
- each reference: its latents, one image width to the right in the table, at timestep 0 with the
  pooled vector of its reference prompt ("a photo of a toy"), through the image stream's weights,
  attending only to its own tokens. Every layer's K (after qk-norm) and V are what the step sees;
- the step's joint attention: text and image rows over [text | image | references] with the
  attention plan's bias (workers/pipeline/attentionPlan.ts): a text row sees a subject's reference
  only at that subject's concept positions; an image row sees it with log(mask) (gamma = 1).
`check_against_diffusers` shows the first point and the no-reference path equal diffusers' forward.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from diffusers import SD3Transformer2DModel

BIAS_MIN = -10000.0  # the pack's attentionBiasMin
T5_ROWS = 256
REF_SLOTS = 2  # subjects per example in training


def log_bias(m: torch.Tensor) -> torch.Tensor:
    """logBias: log(x) clamped so that 0 maps to BIAS_MIN."""
    return torch.where(m > 0, torch.log(m.clamp_min(1e-30)).clamp_min(BIAS_MIN), torch.full_like(m, BIAS_MIN))


def heads(x: torch.Tensor, h: int) -> torch.Tensor:
    b, s, d = x.shape
    return x.view(b, s, h, d // h).transpose(1, 2)


def merge(x: torch.Tensor) -> torch.Tensor:
    b, h, s, d = x.shape
    return x.transpose(1, 2).reshape(b, s, h * d)


def embed_latents(tr: SD3Transformer2DModel, latents: torch.Tensor, reference: bool) -> torch.Tensor:
    """PatchEmbed with SD3's centred crop; a reference reads the crop one image width right."""
    p = tr.pos_embed
    x = p.proj(latents).flatten(2).transpose(1, 2)
    h, w = latents.shape[-2] // p.patch_size, latents.shape[-1] // p.patch_size
    T = p.pos_embed_max_size
    top, left = (T - h) // 2, (T - w) // 2 + (w if reference else 0)
    table = p.pos_embed.reshape(1, T, T, -1)[:, top : top + h, left : left + w]
    return x + table.reshape(1, h * w, -1)


def qkv(attn, x: torch.Tensor, context: bool):
    H = attn.heads
    if context:
        q, k, v = (heads(f(x), H) for f in (attn.add_q_proj, attn.add_k_proj, attn.add_v_proj))
        if attn.norm_added_q is not None:
            q, k = attn.norm_added_q(q), attn.norm_added_k(k)
    else:
        q, k, v = (heads(f(x), H) for f in (attn.to_q, attn.to_k, attn.to_v))
        if attn.norm_q is not None:
            q, k = attn.norm_q(q), attn.norm_k(k)
    return q, k, v


def feed_forward(norm, ff, x, shift, scale, gate):
    return x + gate.unsqueeze(1) * ff(norm(x) * (1 + scale[:, None]) + shift[:, None])


def reference_pass(tr: SD3Transformer2DModel, latents: torch.Tensor, pooled: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The dit_reference graph: every layer's (K, V) [R, heads, tokens, head_dim] of each reference alone."""
    x = embed_latents(tr, latents, reference=True)
    temb = tr.time_text_embed(torch.zeros(latents.shape[0], device=latents.device), pooled)
    out = []
    for i, blk in enumerate(tr.transformer_blocks):
        nx, gate_msa, shift_mlp, scale_mlp, gate_mlp = blk.norm1(x, emb=temb)
        q, k, v = qkv(blk.attn, nx, context=False)
        out.append((k, v))
        if i == len(tr.transformer_blocks) - 1:
            break  # the last block's output is never read
        a = blk.attn.to_out[0](merge(F.scaled_dot_product_attention(q, k, v)))
        x = x + gate_msa.unsqueeze(1) * a
        x = feed_forward(blk.norm2, blk.ff, x, shift_mlp, scale_mlp, gate_mlp)
    return out


def step_forward(
    tr: SD3Transformer2DModel,
    x_t: torch.Tensor,
    timestep: torch.Tensor,
    context: torch.Tensor,
    pooled: torch.Tensor,
    ref_kv: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
    ref_bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """One step (the dit_step graph). context: [B, 78, joint] (77 CLIP rows + the one T5 row);
    ref_kv: per layer (K, V) [B, heads, Rcols, head_dim] already laid out per sample;
    ref_bias: [B, 78 + N, Rcols], the plan's bias of text and image rows on those columns."""
    B = x_t.shape[0]
    x = embed_latents(tr, x_t, reference=False).contiguous()
    N = x.shape[1]
    temb = tr.time_text_embed(timestep, pooled)
    c = tr.context_embedder(context)
    M = c.shape[1]
    # Columns: [text M | image N | references]; the T5 column stands for 256 equal ones.
    base = torch.zeros(B, M + N, M + N, device=x.device)
    base[:, :, M - 1] = math.log(T5_ROWS)
    bias = base if ref_bias is None else torch.cat([base, ref_bias], dim=2)
    bias = bias.unsqueeze(1)
    for i, blk in enumerate(tr.transformer_blocks):
        nx, gate_msa, shift_mlp, scale_mlp, gate_mlp = blk.norm1(x, emb=temb)
        if blk.context_pre_only:
            nc = blk.norm1_context(c, temb)
        else:
            nc, c_gate_msa, c_shift_mlp, c_scale_mlp, c_gate_mlp = blk.norm1_context(c, emb=temb)
        qc, kc, vc = qkv(blk.attn, nc, context=True)
        qi, ki, vi = qkv(blk.attn, nx, context=False)
        q = torch.cat([qc, qi], dim=2)
        k = torch.cat([kc, ki] + ([ref_kv[i][0]] if ref_kv else []), dim=2)
        v = torch.cat([vc, vi] + ([ref_kv[i][1]] if ref_kv else []), dim=2)
        a = merge(F.scaled_dot_product_attention(q, k, v, attn_mask=bias))
        x = x + gate_msa.unsqueeze(1) * blk.attn.to_out[0](a[:, M:])
        x = feed_forward(blk.norm2, blk.ff, x, shift_mlp, scale_mlp, gate_mlp)
        if not blk.context_pre_only:
            c = c + c_gate_msa.unsqueeze(1) * blk.attn.to_add_out(a[:, :M])
            c = feed_forward(blk.norm2_context, blk.ff_context, c, c_shift_mlp, c_scale_mlp, c_gate_mlp)
    x = tr.proj_out(tr.norm_out(x, temb))
    p, C = tr.config.patch_size, tr.out_channels
    h, w = x_t.shape[-2] // p, x_t.shape[-1] // p
    x = x.reshape(B, h, w, p, p, C)
    return torch.einsum("nhwpqc->nchpwq", x).reshape(B, C, h * p, w * p)


def layout_references(
    per_layer: list[tuple[torch.Tensor, torch.Tensor]], slot_index: torch.Tensor, batch: int
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Reference K/V of R references -> [B, heads, REF_SLOTS * tokens, head_dim]; reference r goes to
    flat slot slot_index[r] = b * REF_SLOTS + s. Empty slots are zeros (their columns are masked)."""
    out = []
    for k, v in per_layer:
        R, H, S, Dh = k.shape
        def place(t):
            z = t.new_zeros(batch * REF_SLOTS, H, S, Dh).index_copy(0, slot_index, t)
            return z.view(batch, REF_SLOTS, H, S, Dh).permute(0, 2, 1, 3, 4).reshape(batch, H, REF_SLOTS * S, Dh)
        out.append((place(k), place(v)))
    return out


def reference_bias(token_masks: torch.Tensor, present: torch.Tensor, concept: torch.Tensor, M: int) -> torch.Tensor:
    """The plan's bias on the reference columns, [B, M + N, REF_SLOTS * N], gamma 1.
    token_masks [B, REF_SLOTS, N] on the token grid; present [B, REF_SLOTS] bool;
    concept [B, REF_SLOTS, M] bool: text rows that are the subject's concept positions."""
    B, S, N = token_masks.shape
    open_ = log_bias(token_masks)  # [B, S, N]
    open_ = torch.where(present[:, :, None], open_, torch.full_like(open_, BIAS_MIN))
    text = torch.where(concept[:, :, :, None], open_[:, :, None, :], torch.full((B, S, M, N), BIAS_MIN))  # [B, S, M, N]
    image = open_[:, :, None, :].expand(B, S, N, N)
    rows = torch.cat([text, image], dim=2)  # [B, S, M + N, N]
    return rows.permute(0, 2, 1, 3).reshape(B, M + N, S * N)


@torch.no_grad()
def check_against_diffusers(tr: SD3Transformer2DModel, seed: int = 0) -> float:
    """Max relative difference between step_forward (collapsed T5 rows, no references) and
    diffusers' own forward with 77 + 256 text rows."""
    g = torch.Generator().manual_seed(seed)
    C = tr.config.in_channels
    x = torch.randn(2, C, 16, 16, generator=g)
    clip = torch.randn(2, 77, tr.config.joint_attention_dim, generator=g)
    pooled = torch.randn(2, tr.config.pooled_projection_dim, generator=g)
    t = torch.tensor([300.0, 870.0])
    full = torch.cat([clip, torch.zeros(2, T5_ROWS, clip.shape[-1])], dim=1)
    want = tr(hidden_states=x, encoder_hidden_states=full, pooled_projections=pooled, timestep=t).sample
    got = step_forward(tr, x, t, torch.cat([clip, torch.zeros(2, 1, clip.shape[-1])], dim=1), pooled)
    return float((got - want).abs().max() / want.abs().max())
