/**
 * Geometry for bringing a decoded photo to the reference resolution: a
 * centred crop to the target aspect ratio, and a pixel budget applied at
 * decode time so a 50-megapixel camera photo never lands in worker memory at
 * full size. Integer in, integer out, deterministic (the result is part of
 * the reference cache key).
 */

export interface CropRect {
  sx: number;
  sy: number;
  sw: number;
  sh: number;
}

function checkSize(who: string, ...dims: number[]): void {
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 1) throw new Error(`${who}: sizes must be positive integers, got ${dims.join(', ')}`);
  }
}

/**
 * The largest source rectangle, centred, whose aspect ratio is dstW:dstH
 * (to the nearest pixel). The side that does not fit is taken whole; the
 * other is rounded to the nearest integer, and odd leftover pixels go to the
 * right / bottom margin.
 */
export function centerCropRect(srcW: number, srcH: number, dstW: number, dstH: number): CropRect {
  checkSize('centerCropRect', srcW, srcH, dstW, dstH);
  let sw: number;
  let sh: number;
  // Compare srcW/srcH with dstW/dstH by cross-multiplying: exact in integers.
  if (srcW * dstH > srcH * dstW) {
    sh = srcH;
    sw = Math.min(srcW, Math.max(1, roundDiv(srcH * dstW, dstH)));
  } else {
    sw = srcW;
    sh = Math.min(srcH, Math.max(1, roundDiv(srcW * dstH, dstW)));
  }
  return { sx: Math.floor((srcW - sw) / 2), sy: Math.floor((srcH - sh) / 2), sw, sh };
}

/** round(a / b) for non-negative integers, halves up, without relying on a.5 being representable. */
function roundDiv(a: number, b: number): number {
  return Math.floor((2 * a + b) / (2 * b));
}

/**
 * The size to decode a srcW x srcH photo at so it has at most maxPixels
 * pixels: unchanged if it already fits (never upscales), otherwise scaled by
 * sqrt(maxPixels / (srcW * srcH)) with the longer side floored and the shorter
 * side derived from it, so the aspect ratio is as close as an integer size
 * allows and the budget is never exceeded.
 */
export function fitWithin(srcW: number, srcH: number, maxPixels: number): { width: number; height: number } {
  checkSize('fitWithin', srcW, srcH, maxPixels);
  if (srcW * srcH <= maxPixels) return { width: srcW, height: srcH };

  const wide = srcW >= srcH;
  const long = wide ? srcW : srcH;
  const short = wide ? srcH : srcW;
  const scale = Math.sqrt(maxPixels / (srcW * srcH));
  let l = Math.max(1, Math.floor(long * scale));
  let s = Math.max(1, roundDiv(l * short, long));
  if (l * s > maxPixels) {
    // Only when rounding the short side up (or its floor at 1) overshoots;
    // shrinking l can only shrink s, so one correction suffices.
    l = Math.max(1, Math.floor(maxPixels / s));
    s = Math.max(1, roundDiv(l * short, long));
  }
  return wide ? { width: l, height: s } : { width: s, height: l };
}
