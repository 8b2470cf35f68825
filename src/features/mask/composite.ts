/**
 * The pixels of the stroke-in-progress layer. Drawn over the overlay (the
 * committed mask m at opacity o), they must look exactly like the mask m'
 * the stroke will leave once committed, so the picture does not jump at
 * pointerup:
 *
 * - brush: tint at alpha a over the overlay's A = o*m gives o*m' when
 *   a = (o*m' - A) / (1 - A);
 * - eraser: the photo itself at alpha c/255 over the overlay leaves a tint
 *   of o*m*(1 - c/255) = o*m' (the renderer fills these pixels with the photo).
 */
import { compositeValue, type PaintMode, type Rect } from './raster';

/** Alpha (0..1) of the preview pixel for mask value m, stroke coverage c (0..255) and overlay opacity o. */
export function previewAlpha(m: number, c: number, opacity: number, mode: PaintMode): number {
  if (c === 0) return 0;
  if (mode === 'erase') return c / 255;
  const A = (opacity * m) / 255;
  return A >= 1 ? 0 : ((opacity * compositeValue(m, c, 'paint')) / 255 - A) / (1 - A);
}

/**
 * Fills `out` (RGBA words, rows of `stride`) with the preview of `rect`:
 * the tint `rgb` (0xBBGGRR) at the brush's alpha, or alpha only for the
 * eraser (the photo is drawn into it afterwards).
 */
export function fillStrokePreview(out: Uint32Array, stride: number, mask: Uint8Array, cov: Uint8Array, width: number, rect: Rect, mode: PaintMode, opacity: number, rgb: number): void {
  const w = rect.x1 - rect.x0;
  for (let y = 0; y < rect.y1 - rect.y0; y++) {
    let i = (rect.y0 + y) * width + rect.x0;
    let j = y * stride;
    for (let x = 0; x < w; x++, i++, j++) {
      const c = cov[i]!;
      if (c === 0) out[j] = 0;
      // ImageData is RGBA in memory: on little-endian machines (all that run browsers) a word is 0xAABBGGRR.
      else if (mode === 'erase') out[j] = (c << 24) >>> 0;
      else out[j] = ((Math.round(previewAlpha(mask[i]!, c, opacity, mode) * 255) << 24) | rgb) >>> 0;
    }
  }
}
