/**
 * Weight quantization. Each function returns the stored form and the
 * dequantized weights the runtime will compute with, so the reference forward
 * can run on exactly the numbers the graph sees.
 */
import { Float16Array } from '@petamoriken/float16';

export type MatmulPrecision = 'fp32' | 'fp16' | 'int8' | 'int4';
export type ConvPrecision = 'fp32' | 'int8';

export interface Float16Weights {
  /** IEEE half-precision bit patterns, same layout as the input. */
  bits: Uint16Array;
  dequant: Float32Array;
}

/** The largest finite half-precision value: a weight beyond it would become infinite. */
export const FLOAT16_MAX = 65504;

/**
 * Half precision, rounded to nearest even. A weight outside +-65504 would be
 * stored as infinity and poison every output, so it is refused by name (the
 * ports of these models saw exactly this saturation); such a layer needs fp32
 * or int8.
 */
export function toFloat16(w: Float32Array, what = 'a weight'): Float16Weights {
  // The polyfill rounds (to nearest even) when it is built from a typed array; its elements are then
  // read as bits, not through its Proxy (~300 ns an element: minutes for klein's fp16 layers).
  const half = new Float16Array(w);
  const bits = new Uint16Array(half.buffer, half.byteOffset, half.length);
  const values = halfValues();
  const dequant = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const b = bits[i]!;
    if ((b & 0x7c00) === 0x7c00 && Number.isFinite(w[i]!)) {
      throw new Error(`${what} has a value ${w[i]} outside the float16 range (+-${FLOAT16_MAX}) at index ${i}: convert it at fp32 or int8`);
    }
    dequant[i] = values[b]!;
  }
  return { bits, dequant };
}

let halfTable: Float32Array | undefined;
/** Every half-precision bit pattern's value (65,536 floats), made once by the same polyfill. */
function halfValues(): Float32Array {
  if (!halfTable) {
    const all = new Float16Array(new Uint16Array(65536).map((_, i) => i).buffer);
    halfTable = Float32Array.from(all);
  }
  return halfTable;
}

export interface Int8PerChannel {
  q: Int8Array;
  scale: Float32Array;
  dequant: Float32Array;
}

/**
 * Symmetric int8 with one scale per output channel. `channelOf(i)` maps a flat
 * weight index to its output channel.
 */
function int8(w: Float32Array, channels: number, channelOf: (i: number) => number): Int8PerChannel {
  const maxAbs = new Float32Array(channels);
  for (let i = 0; i < w.length; i++) {
    const c = channelOf(i);
    maxAbs[c] = Math.max(maxAbs[c]!, Math.abs(w[i]!));
  }
  const scale = maxAbs.map((m) => (m > 0 ? m / 127 : 1));
  const q = new Int8Array(w.length);
  const dequant = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const s = scale[channelOf(i)]!;
    const v = Math.max(-127, Math.min(127, Math.round(w[i]! / s)));
    q[i] = v;
    dequant[i] = Math.fround(v * s);
  }
  return { q, scale, dequant };
}

/** Linear weights [in, out]: one scale per output column (DequantizeLinear axis=1). */
export function quantizeLinearInt8(w: Float32Array, inF: number, outF: number): Int8PerChannel {
  if (w.length !== inF * outF) throw new Error('shape mismatch');
  return int8(w, outF, (i) => i % outF);
}

/** Conv weights [out, in, k, k]: one scale per output channel (DequantizeLinear axis=0). */
export function quantizeConvInt8(w: Float32Array, outC: number): Int8PerChannel {
  const per = w.length / outC;
  return int8(w, outC, (i) => Math.floor(i / per));
}

export interface Int4Blocks {
  /** [N, blocks, blockSize/2] packed nibbles, low nibble first (com.microsoft.MatMulNBits layout). */
  packed: Uint8Array;
  /** [N * blocks]. */
  scales: Float32Array;
  /** Dequantized weights, row-major [in, out] like the original. */
  dequant: Float32Array;
  blocks: number;
}

/**
 * Symmetric 4-bit, block-wise along the input axis: for output n and block j,
 * scale = max|w| / 7 and q = round(w / scale) + 8 in [1, 15]; the runtime
 * computes (q - 8) * scale (the default zero point of MatMulNBits).
 */
export function quantizeLinearInt4(w: Float32Array, inF: number, outF: number, blockSize: number): Int4Blocks {
  if (inF % blockSize !== 0) throw new Error(`in features ${inF} not a multiple of block size ${blockSize}`);
  const blocks = inF / blockSize;
  const packed = new Uint8Array(outF * blocks * (blockSize / 2));
  const scales = new Float32Array(outF * blocks);
  const dequant = new Float32Array(inF * outF);
  for (let n = 0; n < outF; n++) {
    for (let j = 0; j < blocks; j++) {
      let m = 0;
      for (let t = 0; t < blockSize; t++) m = Math.max(m, Math.abs(w[(j * blockSize + t) * outF + n]!));
      const s = Math.fround(m > 0 ? m / 7 : 1);
      scales[n * blocks + j] = s;
      for (let t = 0; t < blockSize; t++) {
        const k = j * blockSize + t;
        const q = Math.max(1, Math.min(15, Math.round(w[k * outF + n]! / s) + 8));
        dequant[k * outF + n] = Math.fround((q - 8) * s);
        const byte = (n * blocks + j) * (blockSize / 2) + (t >> 1);
        packed[byte] = packed[byte]! | (t & 1 ? q << 4 : q);
      }
    }
  }
  return { packed, scales, dequant, blocks };
}
