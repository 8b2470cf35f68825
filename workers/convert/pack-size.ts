/**
 * The least a converted pack can take in storage, from the checkpoint's
 * tensor headers alone (no weight is read): every matrix of the transformer
 * and the text encoders at the asked precision, every other tensor of them
 * and all of the VAE at fp32 (the converter keeps norms, biases, the
 * positional table, convolutions and the VAE at full precision). The pack
 * writes at least these bytes (it may crop the positional table, so that one
 * counts as nothing), so a storage estimate below this number cannot hold it,
 * and saying so before a long conversion spares the user the wait.
 */
import type { TensorIndex } from './safetensors';

export type PackPrecision = 'fp32' | 'fp16' | 'int8' | 'int4';

/** Stored bytes of one [out, in] matrix at a precision (int8: per-column fp32 scale; int4: a fp32 scale per block). */
export function matrixBytes(outF: number, inF: number, precision: PackPrecision, blockSize: number): number {
  const n = outF * inF;
  switch (precision) {
    case 'fp32':
      return 4 * n;
    case 'fp16':
      return 2 * n;
    case 'int8':
      return n + 4 * outF;
    case 'int4':
      return n / 2 + 4 * outF * Math.ceil(inF / blockSize);
  }
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A checkpoint's tensors, or only those the converter reads (FLUX.2 reads Qwen3's first layers only). */
export interface WeightsPart {
  index: TensorIndex;
  include?: (key: string) => boolean;
  /** Matrices the converter stores at fp16 at least whatever the precision (FLUX.2's fragile layers, Qwen3's embedding table). */
  atLeastHalf?: (key: string) => boolean;
}

const atLeastFp16 = (p: PackPrecision): PackPrecision => (p === 'int8' || p === 'int4' ? 'fp16' : p);

const keysOf = ({ index, include }: WeightsPart): string[] => (include ? index.keys().filter(include) : index.keys());

export function packBytesLowerBound(weights: { quantized: WeightsPart[]; fullPrecision: WeightsPart[] }, precision: PackPrecision, blockSize: number): number {
  let bytes = 0;
  for (const part of weights.quantized) {
    const { index } = part;
    for (const key of keysOf(part)) {
      const { shape } = index.info(key);
      if (/pos_embed/.test(key)) continue;
      // A lower bound: a matrix the converter keeps higher (a text layer int4 does not fit) costs at least this.
      const p = part.atLeastHalf?.(key) ? atLeastFp16(precision) : precision;
      bytes += shape.length === 2 && key.endsWith('.weight') && !/embedding/.test(key) ? matrixBytes(shape[0]!, shape[1]!, p, blockSize) : 4 * count(shape);
    }
  }
  for (const part of weights.fullPrecision) for (const key of keysOf(part)) bytes += 4 * count(part.index.info(key).shape);
  return bytes;
}

/** The bound for a described SD3-family folder: transformer and CLIP encoders at the precision, the VAE at fp32. */
export function sd3PackBytesLowerBound(component: (name: string) => { weights: TensorIndex }, precision: PackPrecision, blockSize: number): number {
  return packBytesLowerBound(
    { quantized: ['transformer', 'text_encoder', 'text_encoder_2'].map((n) => ({ index: component(n).weights })), fullPrecision: [{ index: component('vae').weights }] },
    precision,
    blockSize,
  );
}
