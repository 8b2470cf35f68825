"""The transformer's training log as a PNG (docs/toy-world-loss.png) and a JSON copy
(docs/toy-world-log.json): the training loss (mean of every 4 logged points) and, on the held-out
diagnostic batches, the loss with the reference against the loss with the black one, for aligned
and free references. Drawn with Pillow only (no plotting library in the pinned requirements).

    /work/venv/bin/python training/plot_log.py <run folder> docs/toy-world-loss.png
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from PIL import Image, ImageDraw

W, H, PAD = 900, 360, 50
SERIES = [
    ("loss", "train loss", (120, 120, 120)),
    ("diag_aligned_ref", "aligned ref", (40, 90, 220)),
    ("diag_aligned_black", "aligned, black ref", (140, 170, 240)),
    ("diag_free_ref", "free ref", (220, 80, 40)),
    ("diag_free_black", "free, black ref", (240, 170, 140)),
]


def gap_panel(log: list[dict]) -> Image.Image:
    """The loss with the black reference minus the loss with the real one, relative (%): above 0, the
    model uses the reference."""
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    rows = [e for e in log if "diag_aligned_ref" in e]
    series = {kind: [(e["step"], 100 * (e[f"diag_{kind}_black"] - e[f"diag_{kind}_ref"]) / e[f"diag_{kind}_black"]) for e in rows] for kind in ("aligned", "free")}
    vals = [v for pts in series.values() for _, v in pts] + [0.0]
    x1 = max(e["step"] for e in rows)
    lo, hi = min(vals) - 0.5, max(vals) + 0.5
    X = lambda s: PAD + s / x1 * (W - 2 * PAD)
    Y = lambda v: H - PAD - (v - lo) / (hi - lo) * (H - 2 * PAD)
    d.rectangle([PAD, PAD, W - PAD, H - PAD], outline=(0, 0, 0))
    d.line([(PAD, Y(0)), (W - PAD, Y(0))], fill=(180, 180, 180))
    for k in range(6):
        v = lo + (hi - lo) * k / 5
        d.text((5, Y(v) - 6), f"{v:.1f}%", fill=(0, 0, 0))
        d.text((X(x1 * k / 5) - 12, H - PAD + 6), f"{int(x1 * k / 5)}", fill=(0, 0, 0))
    for (kind, pts), colour in zip(series.items(), [(40, 90, 220), (220, 80, 40)]):
        d.line([(X(s), Y(v)) for s, v in pts], fill=colour, width=2)
    d.text((PAD + 10, 15), "(loss with black ref - loss with ref) / loss with black ref, held-out batches:", fill=(0, 0, 0))
    d.text((PAD + 560, 15), "aligned", fill=(40, 90, 220))
    d.text((PAD + 640, 15), "free", fill=(220, 80, 40))
    return img


def main() -> None:
    run, out = Path(sys.argv[1]), Path(sys.argv[2])
    log = torch.load(run / "dit" / "state.pt", weights_only=False, map_location="cpu")["log"]
    out.with_name("toy-world-log.json").write_text(json.dumps(log) + "\n")
    top = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(top)
    steps = [e["step"] for e in log]
    vals = [e[k] for e in log for k, _, _ in SERIES if k in e]
    x0, x1 = 0, max(steps)
    y0, y1 = min(vals) * 0.95, min(max(vals), 2.5)
    X = lambda s: PAD + (s - x0) / (x1 - x0) * (W - 2 * PAD)
    Y = lambda v: H - PAD - (min(v, y1) - y0) / (y1 - y0) * (H - 2 * PAD)
    d.rectangle([PAD, PAD, W - PAD, H - PAD], outline=(0, 0, 0))
    for k in range(6):
        v = y0 + (y1 - y0) * k / 5
        d.text((5, Y(v) - 6), f"{v:.2f}", fill=(0, 0, 0))
        s = x0 + (x1 - x0) * k / 5
        d.text((X(s) - 12, H - PAD + 6), f"{int(s)}", fill=(0, 0, 0))
    for i, (key, label, colour) in enumerate(SERIES):
        pts = [(e["step"], e[key]) for e in log if key in e]
        if key == "loss":  # smooth the noisy per-batch loss
            pts = [(pts[j][0], sum(p[1] for p in pts[max(0, j - 3) : j + 1]) / len(pts[max(0, j - 3) : j + 1])) for j in range(len(pts))]
        if len(pts) > 1:
            d.line([(X(s), Y(v)) for s, v in pts], fill=colour, width=2)
        d.text((PAD + 10 + 170 * i, 15), label, fill=colour)
    d.text((W // 2 - 20, H - 20), "step", fill=(0, 0, 0))
    img = Image.new("RGB", (W, 2 * H), "white")
    img.paste(top, (0, 0))
    img.paste(gap_panel(log), (0, H))
    img.save(out)
    print(f"wrote {out} ({len(log)} log points, last step {x1})")


if __name__ == "__main__":
    main()
