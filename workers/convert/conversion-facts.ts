/**
 * What a family's converter needs known before it runs, from the folder's configs and tensor
 * headers alone (no weight is read): which components it reads, which image sizes it can offer,
 * the int4 block that fits its linears, and the least the pack can take in storage. The studio's
 * folder panel shows these and the browser conversion checks storage with them; each family
 * (sd3/conversion-facts.ts, flux2/conversion-facts.ts) says them for itself.
 */
import type { PackPrecision } from './pack-size';

export interface ConversionFacts {
  /** The components the converter reads (their bytes and tensors are the progress totals). */
  components: readonly string[];
  /** Every size is a multiple of this (VAE downsampling x patch size). */
  sizeStep: number;
  /** The largest square size (px) at which subjects work. */
  maxSize: number;
  /** Whether the sizes offered include the small ones (64, 128 px): only toy models (test folders) want them. */
  offerSmallSizes: boolean;
  /** The int4 block for the transformer's quantized linears, or null when int4 does not fit them. */
  int4BlockSize: number | null;
  /**
   * Prompt rows the pack can be made with, the first the default, or null where the family fixes
   * them (SD3: CLIP's 77). FLUX.2: the pipelines' max_sequence_length, 512 unless asked otherwise.
   */
  promptRows: readonly number[] | null;
  /** The memory planner's preset of this real model (workers/plan/presets.ts), or null for other widths (toys). */
  planPreset: string | null;
  /** A lower bound of the converted pack's bytes at a precision (pack-size.ts). */
  packBytesLowerBound(precision: PackPrecision, blockSize: number): number;
}

/** MatMulNBits' smallest block, and the one the studio prefers (its int4 graphs and the planner assume 32). */
const MIN_BLOCK = 16;
const PREFERRED_BLOCK = 32;

/** The largest power of two (at most 32) dividing every input width, or null when it is under 16 (toy widths). */
export function int4BlockFor(inputWidths: readonly number[]): number | null {
  const fit = Math.min(PREFERRED_BLOCK, ...inputWidths.map((w) => w & -w));
  return fit >= MIN_BLOCK ? fit : null;
}
