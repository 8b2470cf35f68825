"""The toy world's training examples, as scripts/world-dataset.ts writes them (fixed-size uint8
records in shards, one .json per shard with the prompts). Memory-mapped: only what a batch reads
is paged in."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

SIZE = 128
RGB = SIZE * SIZE * 3
MASK = SIZE * SIZE
SLOT = 2 * (RGB + MASK)
RECORD = RGB + 2 * MASK + 2 * SLOT


@dataclass
class Example:
    seed: int
    subjects: int
    class_words: list[str]
    prompt: str  # with placeholders: "<s1> toy, large, ..."
    plain_prompt: str  # without: "a toy, large, ..."


class WorldShards:
    """All complete shards of a dataset folder, indexed 0..len-1 in seed order."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        metas = sorted(self.folder.glob("shard-*.json"))
        if not metas:
            raise SystemExit(f"{folder}: no shards (run `npm run world:dataset -- {folder}` first)")
        self.maps: list[np.memmap] = []
        self.examples: list[Example] = []
        self.where: list[tuple[int, int]] = []
        for m in metas:
            meta = json.loads(m.read_text())
            if meta["recordBytes"] != RECORD or meta["size"] != SIZE:
                raise SystemExit(f"{m}: records of {meta['recordBytes']} bytes at {meta['size']} px, expected {RECORD} at {SIZE}")
            n = len(meta["examples"])
            mm = np.memmap(m.with_suffix(".bin"), dtype=np.uint8, mode="r", shape=(n, RECORD))
            for i, e in enumerate(meta["examples"]):
                self.examples.append(Example(e["seed"], e["subjects"], e["classWords"], e["prompt"], e["plainPrompt"]))
                self.where.append((len(self.maps), i))
            self.maps.append(mm)

    def __len__(self) -> int:
        return len(self.examples)

    def record(self, i: int) -> np.ndarray:
        s, j = self.where[i]
        return self.maps[s][j]

    def images(self, i: int) -> dict[str, np.ndarray]:
        """uint8 views: target [H, W, 3], target_masks [2, H, W], refs[slot][kind] rgb / mask."""
        r = self.record(i)
        out = {"target": r[:RGB].reshape(SIZE, SIZE, 3), "target_masks": r[RGB : RGB + 2 * MASK].reshape(2, SIZE, SIZE)}
        for s in range(2):
            base = RGB + 2 * MASK + s * SLOT
            out[f"aligned{s}"] = r[base : base + RGB].reshape(SIZE, SIZE, 3)
            out[f"aligned{s}_mask"] = r[base + RGB : base + RGB + MASK].reshape(SIZE, SIZE)
            out[f"free{s}"] = r[base + RGB + MASK : base + 2 * RGB + MASK].reshape(SIZE, SIZE, 3)
            out[f"free{s}_mask"] = r[base + 2 * RGB + MASK : base + 2 * RGB + 2 * MASK].reshape(SIZE, SIZE)
        return out


def to_pixels(rgb_u8: np.ndarray) -> torch.Tensor:
    """[..., H, W, 3] uint8 -> [..., 3, H, W] float in [-1, 1] (the studio's encoder input)."""
    t = torch.from_numpy(np.array(rgb_u8)).float().div(127.5).sub(1)
    return t.movedim(-1, -3)


def fill_black(pixels: torch.Tensor, mask_u8: np.ndarray | torch.Tensor) -> torch.Tensor:
    """The studio's background fill (workers/pipeline/image/fill.ts, black): rgb * m + (-1) (1 - m)."""
    m = torch.as_tensor(np.array(mask_u8)).float().div(255).unsqueeze(-3)
    return pixels * m - (1 - m)


def token_grid(mask_u8: np.ndarray, grid: int) -> np.ndarray:
    """The mask on the token grid by area (maskToTokenGrid; the cells divide the image exactly)."""
    m = mask_u8.astype(np.float64) / 255
    c = SIZE // grid
    return m.reshape(grid, c, grid, c).mean(axis=(1, 3)).astype(np.float32).reshape(-1)
