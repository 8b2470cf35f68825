/**
 * The live preview of the processed mask: what the engine will make of the
 * painted mask with the subject's settings (METHOD.md section 4). It mirrors
 * the engine's path (workers/runtime/decode.ts, workers/pipeline/references.ts):
 * centre-crop to the generation's aspect ratio, area-average to the
 * generation size, processMask, then the background fill; but on a copy of
 * at most 512 px a side, with grow and feather scaled to match, so a
 * settings change costs milliseconds on the main thread, not a 12-megapixel pass.
 */
import { applyBackgroundFill, type BackgroundFill } from '../../../workers/pipeline/image/fill';
import { centerCropRect } from '../../../workers/pipeline/image/crop';
import { maskToTokenGrid, processMask, type MaskSettings } from '../../../workers/pipeline/image/mask';
import type { Rect } from './raster';

export const PREVIEW_MAX_SIDE = 512;
/** The engine's blur fill sigma, in generation pixels (fill.ts default). */
const BLUR_FILL_SIGMA = 8;

/** The size of the downscaled copies (mask and photo) of a width x height photo. */
export function thumbSize(width: number, height: number, maxSide = PREVIEW_MAX_SIDE): { width: number; height: number } {
  const k = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
}

/**
 * A downscaled copy of the painted mask (block averages, 0..1), at most
 * PREVIEW_MAX_SIDE a side, updated only over the cells a change touched.
 */
export class MaskThumb {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
  /** Source column / row where each cell starts (length cells + 1). */
  private readonly xs: Int32Array;
  private readonly ys: Int32Array;

  constructor(
    readonly srcWidth: number,
    readonly srcHeight: number,
    maxSide = PREVIEW_MAX_SIDE,
  ) {
    ({ width: this.width, height: this.height } = thumbSize(srcWidth, srcHeight, maxSide));
    this.data = new Float32Array(this.width * this.height);
    this.xs = Int32Array.from({ length: this.width + 1 }, (_, c) => Math.floor((c * srcWidth) / this.width));
    this.ys = Int32Array.from({ length: this.height + 1 }, (_, c) => Math.floor((c * srcHeight) / this.height));
  }

  /** Recomputes the cells overlapping `rect` (default: all) from the mask. */
  update(mask: Uint8Array, rect: Rect = { x0: 0, y0: 0, x1: this.srcWidth, y1: this.srcHeight }): void {
    const [c0, c1] = cellRange(this.xs, rect.x0, rect.x1);
    const [r0, r1] = cellRange(this.ys, rect.y0, rect.y1);
    for (let cy = r0; cy < r1; cy++) {
      const y0 = this.ys[cy]!;
      const y1 = this.ys[cy + 1]!;
      for (let cx = c0; cx < c1; cx++) {
        const x0 = this.xs[cx]!;
        const x1 = this.xs[cx + 1]!;
        let sum = 0;
        for (let y = y0; y < y1; y++) for (let i = y * this.srcWidth + x0, e = i + (x1 - x0); i < e; i++) sum += mask[i]!;
        this.data[cy * this.width + cx] = sum / (255 * (x1 - x0) * (y1 - y0));
      }
    }
  }

  get empty(): boolean {
    return this.data.every((v) => v === 0);
  }
}

/** The cells [first, last) whose source span meets [lo, hi). */
function cellRange(starts: Int32Array, lo: number, hi: number): [number, number] {
  const cells = starts.length - 1;
  let first = Math.min(cells - 1, Math.max(0, Math.floor((lo / starts[cells]!) * cells)));
  while (first > 0 && starts[first]! > lo) first--;
  while (first < cells - 1 && starts[first + 1]! <= lo) first++;
  let last = first;
  while (last < cells && starts[last]! < hi) last++;
  return [first, Math.max(last, first + 1)];
}

export interface PreviewInput {
  thumb: MaskThumb;
  /** The photo at the thumb's size, RGBA. */
  photo: ImageData;
  /** The generation size the engine will resize the reference to. */
  genWidth: number;
  genHeight: number;
  settings: MaskSettings;
  fill: BackgroundFill;
}

export interface PreviewResult {
  width: number;
  height: number;
  /** The reference as the encoder will see it (fill outside the mask). */
  rgba: Uint8ClampedArray<ArrayBuffer>;
  /** The processed mask, 0..1; null when nothing is painted (the whole photo counts). */
  mask: Float32Array | null;
  /** Mean of the processed mask (1 when there is none). */
  coverage: number;
}

export function computePreview({ thumb, photo, genWidth, genHeight, settings, fill }: PreviewInput): PreviewResult {
  const crop = centerCropRect(thumb.width, thumb.height, genWidth, genHeight);
  const k = Math.min(1, crop.sw / genWidth, crop.sh / genHeight, PREVIEW_MAX_SIDE / Math.max(genWidth, genHeight));
  const width = Math.max(1, Math.round(genWidth * k));
  const height = Math.max(1, Math.round(genHeight * k));
  const plane = (read: (i: number) => number) => {
    const src = new Float32Array(crop.sw * crop.sh);
    for (let y = 0; y < crop.sh; y++)
      for (let x = 0; x < crop.sw; x++) src[y * crop.sw + x] = read((crop.sy + y) * thumb.width + crop.sx + x);
    return maskToTokenGrid(src, crop.sw, crop.sh, width, height);
  };
  const n = width * height;
  const rgb = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) rgb.set(plane((i) => photo.data[4 * i + c]! / 127.5 - 1), c * n);

  const painted = thumb.empty ? null : plane((i) => thumb.data[i]!);
  // Grow and feather are in generation pixels: scale them to this smaller copy.
  const scaled = { ...settings, growPx: settings.growPx * k, featherPx: settings.featherPx * k };
  const mask = painted ? processMask(painted, width, height, scaled) : null;
  const shown = mask ? applyBackgroundFill(rgb, mask, width, height, fill, BLUR_FILL_SIGMA * k) : rgb;

  const rgba = new Uint8ClampedArray(4 * n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) rgba[4 * i + c] = (shown[c * n + i]! + 1) * 127.5;
    rgba[4 * i + 3] = 255;
    sum += mask ? mask[i]! : 1;
  }
  return { width, height, rgba, mask, coverage: sum / n };
}
