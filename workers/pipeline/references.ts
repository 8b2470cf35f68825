/**
 * From a reference image at the generation size to the token sets the engine
 * encodes (METHOD.md sections 4 and 5): mask settings, background fill,
 * the mask on the token grid, and the optional low/high frequency bands.
 */
import type { PreparedReference } from './engine';
import type { FrequencySettings } from '../generation-types';
import { frequencySplit } from './image/fft';
import { applyBackgroundFill, type BackgroundFill } from './image/fill';
import { canonicalMaskSettings, maskToTokenGrid, processMask, type MaskSettings } from './image/mask';

export interface ReferenceSource {
  /** Identifies the image and its painted mask (content hashes). */
  imageKey: string;
  maskKey: string | null;
  /** [3, H, W] planar RGB in [-1, 1], already cropped and resized to the generation size. */
  rgb: Float32Array;
  /** The painted mask at the generation size, [H * W] in [0, 1]; null = the whole image. */
  mask: Float32Array | null;
  width: number;
  height: number;
}

export interface ReferenceOptions {
  maskSettings: MaskSettings;
  fill: BackgroundFill;
  frequency: FrequencySettings;
  /** The token grid of the generation size (latent grid / patch size). */
  gridW: number;
  gridH: number;
}

export function prepareReferences(src: ReferenceSource, opts: ReferenceOptions): PreparedReference[] {
  const { width: W, height: H } = src;
  const processed = src.mask ? processMask(src.mask, W, H, opts.maskSettings) : null;
  const rgb = processed ? applyBackgroundFill(src.rgb, processed, W, H, opts.fill) : src.rgb;
  const tokenMask = processed ? maskToTokenGrid(processed, W, H, opts.gridW, opts.gridH) : null;
  const key = [src.imageKey, `mask:${src.maskKey ?? 'none'}`, processed ? canonicalMaskSettings(opts.maskSettings) : '', processed ? `fill:${opts.fill}` : '', `${W}x${H}`].join('|');
  const f = opts.frequency;
  if (!f.enabled) return [{ key, rgb, tokenMask, gammaScale: 1 }];
  const { low, high } = frequencySplit(rgb, W, H, f.cutoff, f.shape);
  const bands = `#band:${f.shape}:${f.cutoff}`;
  const sets: PreparedReference[] = [
    { key, rgb, tokenMask, gammaScale: f.gammaOrig },
    { key: `${key}${bands}:low`, rgb: low, tokenMask, gammaScale: f.gammaLow },
    { key: `${key}${bands}:high`, rgb: high, tokenMask, gammaScale: f.gammaHigh },
  ];
  // A set with weight 0 cannot be attended to at all: skip its encoding.
  return sets.filter((s) => s.gammaScale > 0);
}
