"""The toy world's tokenizer and the text side of the studio's SD3 conditioning.

Tokenizer: CLIP's byte-level BPE with merges trained on the world's words until each is one
token (anything else still tokenizes, byte by byte), in the real SD3 folder layout: tokenizer/
pads with <|endoftext|>, tokenizer_2/ with "!". The studio appends the placeholders <s1>..<s4>
after the vocabulary, and its converter embeds each as the mean of the token table's rows
(workers/convert/sd3/clip.ts): `encode` does the same here, so training sees what the studio
computes."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import CLIPTextModelWithProjection, CLIPTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
from clip_bpe import build_clip_bpe, write_tokenizer  # noqa: E402

PLACEHOLDERS = ["<s1>", "<s2>", "<s3>", "<s4>"]
MAX_TOKENS = 77


def build_tokenizers(words: list[str], folder: Path) -> tuple[CLIPTokenizer, CLIPTokenizer]:
    vocab, merges = build_clip_bpe(" ".join(words), None)
    tok1 = write_tokenizer(folder / "tokenizer", vocab, merges, pad_token="<|endoftext|>")
    tok2 = write_tokenizer(folder / "tokenizer_2", vocab, merges, pad_token="!")
    for w in words:
        ids = tok1(w, add_special_tokens=False).input_ids
        if len(ids) != 1:
            raise SystemExit(f"world word {w!r} is {len(ids)} tokens, expected 1")
    return tok1, tok2


class WorldTokens:
    """Prompt -> ids of both tokenizers (77 each) and the concept positions of each placeholder."""

    def __init__(self, folder: Path):
        self.tok1 = CLIPTokenizer.from_pretrained(str(folder / "tokenizer"))
        self.tok2 = CLIPTokenizer.from_pretrained(str(folder / "tokenizer_2"))
        self.vocab_size = len(self.tok1.get_vocab())
        self.eos = self.tok1.eos_token_id
        self.placeholder_ids = {p: self.vocab_size + i for i, p in enumerate(PLACEHOLDERS)}
        self.cache: dict[str, tuple[list[int], list[int], dict[int, list[int]]]] = {}

    def _ids(self, tok: CLIPTokenizer, text: str) -> list[int]:
        """Placeholders as their own ids, the rest as the tokenizer splits it."""
        out: list[int] = []
        for piece in _split_placeholders(text):
            if piece in self.placeholder_ids:
                out.append(self.placeholder_ids[piece])
            elif piece.strip():
                out.extend(tok(piece, add_special_tokens=False).input_ids)
        return out

    def encode(self, text: str) -> tuple[list[int], list[int], dict[int, list[int]]]:
        """(ids1, ids2, {subject index: [placeholder position, class word position]})."""
        hit = self.cache.get(text)
        if hit:
            return hit
        body = self._ids(self.tok1, text)[: MAX_TOKENS - 2]
        ids1 = [self.tok1.bos_token_id, *body, self.eos]
        ids1 = ids1 + [self.eos] * (MAX_TOKENS - len(ids1))
        pad2 = self.tok2.pad_token_id
        ids2 = [self.tok1.bos_token_id, *body, self.eos]
        ids2 = ids2 + [pad2] * (MAX_TOKENS - len(ids2))
        concepts: dict[int, list[int]] = {}
        for i, p in enumerate(PLACEHOLDERS):
            pid = self.placeholder_ids[p]
            for pos, t in enumerate(ids1):
                if t == pid:
                    concepts.setdefault(i, []).extend([pos, pos + 1])  # the placeholder and its class word
        self.cache[text] = (ids1, ids2, concepts)
        return self.cache[text]


def _split_placeholders(text: str) -> list[str]:
    parts, rest = [], text
    while rest:
        hits = [(rest.find(p), p) for p in PLACEHOLDERS if rest.find(p) >= 0]
        if not hits:
            parts.append(rest)
            break
        at, p = min(hits)
        parts.extend([rest[:at], p])
        rest = rest[at + len(p) :]
    return parts


def clip_forward(enc: CLIPTextModelWithProjection, ids: torch.Tensor, eos: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(hidden_states[-2] [B, 77, D], text_embeds [B, P]) with placeholder ids (past the table)
    embedded as the table's mean row, and pooling at the first <|endoftext|> (the studio's rule)."""
    tm = enc.text_model
    table = tm.embeddings.token_embedding.weight
    extra = ids.max().item() + 1 - table.shape[0]
    if extra > 0:
        table = torch.cat([table, table.mean(0, keepdim=True).expand(extra, -1)], 0)
    S = ids.shape[1]
    h = F.embedding(ids, table) + tm.embeddings.position_embedding.weight[:S]
    causal = torch.full((S, S), float("-inf"), device=ids.device).triu(1)[None, None]
    layers = tm.encoder.layers
    penultimate = h
    for i, layer in enumerate(layers):
        if i == len(layers) - 1:
            penultimate = h
        h = layer(h, causal)
        if isinstance(h, tuple):
            h = h[0]
    last = tm.final_layer_norm(h)
    first_eos = (ids == eos).int().argmax(dim=1)
    pooled = enc.text_projection(last[torch.arange(ids.shape[0]), first_eos])
    return penultimate, pooled


def encode_prompts(encoders, ids1: torch.Tensor, ids2: torch.Tensor, eos: int, joint_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """SD3's conditioning without T5: context [B, 77 + 1, joint] (the last row is the T5 slot, zeros)
    and pooled [B, P1 + P2]."""
    h1, p1 = clip_forward(encoders[0], ids1, eos)
    h2, p2 = clip_forward(encoders[1], ids2, eos)
    h = torch.cat([h1, h2], dim=-1)
    h = F.pad(h, (0, joint_dim - h.shape[-1]))
    context = torch.cat([h, h.new_zeros(h.shape[0], 1, joint_dim)], dim=1)
    return context, torch.cat([p1, p2], dim=-1)


@torch.no_grad()
def check_clip_against_transformers(enc: CLIPTextModelWithProjection, tok: CLIPTokenizer) -> float:
    ids = tok(["a toy, large, on the left", "a photo of a bird"], padding="max_length", max_length=77, return_tensors="pt").input_ids
    out = enc(input_ids=ids, output_hidden_states=True)
    h, p = clip_forward(enc, ids, tok.eos_token_id)
    return max(float((h - out.hidden_states[-2]).abs().max()), float((p - out.text_embeds).abs().max()))


if __name__ == "__main__":
    words = json.loads(Path(sys.argv[1]).read_text())
    t1, _ = build_tokenizers(words, Path(sys.argv[2]))
    print(len(t1.get_vocab()), "tokens")
