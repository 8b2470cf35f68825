/**
 * The reference forward's arithmetic: plain loops over Float32Arrays with
 * float64 accumulation. Slow and obvious on purpose; used only on small shapes.
 */
import { fp32Weights, type Conv2d, type Linear, type Norm } from '../params';
import { quantizeConvInt8, quantizeLinearInt4, quantizeLinearInt8, toFloat16 } from '../quantize';
import type { PrecisionSpec } from '../nn';
import { LN_EPS } from '../nn';

const effectiveCache = new WeakMap<Float32Array, Map<string, Float32Array>>();

function memo(w: Float32Array, key: string, make: () => Float32Array): Float32Array {
  let m = effectiveCache.get(w);
  if (!m) effectiveCache.set(w, (m = new Map()));
  let v = m.get(key);
  if (!v) m.set(key, (v = make()));
  return v;
}

/** The weights the graph computes with at precision `p` (dequantized when quantized). */
export function effectiveLinearWeights(lin: Linear, p: PrecisionSpec): Float32Array {
  const w = fp32Weights(lin);
  if (p.matmul === 'fp32') return w;
  if (p.matmul === 'fp16') return memo(w, 'fp16', () => toFloat16(w).dequant);
  if (p.matmul === 'int8') return memo(w, 'int8', () => quantizeLinearInt8(w, lin.inF, lin.outF).dequant);
  return memo(w, `int4/${p.blockSize}`, () => quantizeLinearInt4(w, lin.inF, lin.outF, p.blockSize).dequant);
}

export function effectiveConvWeights(c: Conv2d, p: PrecisionSpec): Float32Array {
  if (p.conv === 'fp32') return c.w;
  return memo(c.w, 'int8', () => quantizeConvInt8(c.w, c.outC).dequant);
}

/** x [rows, in] -> [rows, out]. */
export function linearRef(x: Float32Array, lin: Linear, p: PrecisionSpec): Float32Array {
  const w = effectiveLinearWeights(lin, p);
  const rows = x.length / lin.inF;
  const out = new Float32Array(rows * lin.outF);
  const acc = new Float64Array(lin.outF);
  for (let r = 0; r < rows; r++) {
    acc.fill(0);
    for (let i = 0; i < lin.inF; i++) {
      const xv = x[r * lin.inF + i]!;
      if (xv === 0) continue;
      const off = i * lin.outF;
      for (let o = 0; o < lin.outF; o++) acc[o]! += xv * w[off + o]!;
    }
    for (let o = 0; o < lin.outF; o++) out[r * lin.outF + o] = acc[o]! + (lin.b ? lin.b[o]! : 0);
  }
  return out;
}

export function layerNormRef(x: Float32Array, dim: number, n?: Norm): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    let mean = 0;
    for (let i = 0; i < dim; i++) mean += x[r * dim + i]!;
    mean /= dim;
    let v = 0;
    for (let i = 0; i < dim; i++) v += (x[r * dim + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / dim + LN_EPS);
    for (let i = 0; i < dim; i++) {
      const y = (x[r * dim + i]! - mean) * inv;
      out[r * dim + i] = n ? y * n.gamma[i]! + n.beta[i]! : y;
    }
  }
  return out;
}

export const map = (x: Float32Array, f: (v: number) => number): Float32Array => x.map(f);
export const silu = (v: number): number => v / (1 + Math.exp(-v));
export const gelu = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));

export function add(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v + b[i]!);
}

/** LN(x) * (1 + scale) + shift, per row, with shift/scale [dim]. */
export function modulateRef(x: Float32Array, dim: number, shift: Float32Array, scale: Float32Array): Float32Array {
  return layerNormRef(x, dim).map((v, i) => v * (1 + scale[i % dim]!) + shift[i % dim]!);
}

/** x + gate * y, per row, with gate [dim]. */
export function gatedAdd(x: Float32Array, y: Float32Array, gate: Float32Array, dim: number): Float32Array {
  return x.map((v, i) => v + gate[i % dim]! * y[i]!);
}

/** Rows [start, end) of a [rows, dim] matrix. */
export function rows(x: Float32Array, dim: number, start: number, end: number): Float32Array {
  return x.slice(start * dim, end * dim);
}

export function concatRows(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Multi-head attention for one batch item: q [S, D], k/v [L, D], bias [S, L]
 * (or null) -> [S, D].
 */
export function attentionRef(q: Float32Array, k: Float32Array, v: Float32Array, bias: Float32Array | null, heads: number, dim: number): Float32Array {
  const S = q.length / dim;
  const L = k.length / dim;
  const dh = dim / heads;
  const scale = Math.fround(1 / Math.sqrt(dh));
  const out = new Float32Array(S * dim);
  const logits = new Float64Array(L);
  for (let h = 0; h < heads; h++) {
    for (let s = 0; s < S; s++) {
      let max = -Infinity;
      for (let l = 0; l < L; l++) {
        let dot = 0;
        for (let d = 0; d < dh; d++) dot += q[s * dim + h * dh + d]! * k[l * dim + h * dh + d]!;
        const z = dot * scale + (bias ? bias[s * L + l]! : 0);
        logits[l] = z;
        if (z > max) max = z;
      }
      let sum = 0;
      for (let l = 0; l < L; l++) sum += logits[l] = Math.exp(logits[l]! - max);
      for (let d = 0; d < dh; d++) {
        let acc = 0;
        for (let l = 0; l < L; l++) acc += logits[l]! * v[l * dim + h * dh + d]!;
        out[s * dim + h * dh + d] = acc / sum;
      }
    }
  }
  return out;
}

/** One image, NCHW without the batch: x [inC, H, W] -> [outC, H', W']. */
export function conv2dRef(x: Float32Array, H: number, W: number, c: Conv2d, p: PrecisionSpec): { y: Float32Array; H: number; W: number } {
  const w = effectiveConvWeights(c, p);
  const Ho = Math.floor((H + 2 * c.pad - c.k) / c.stride) + 1;
  const Wo = Math.floor((W + 2 * c.pad - c.k) / c.stride) + 1;
  const y = new Float32Array(c.outC * Ho * Wo);
  for (let o = 0; o < c.outC; o++) {
    for (let yy = 0; yy < Ho; yy++) {
      for (let xx = 0; xx < Wo; xx++) {
        let acc = c.b[o]!;
        for (let i = 0; i < c.inC; i++) {
          for (let ky = 0; ky < c.k; ky++) {
            const iy = yy * c.stride - c.pad + ky;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < c.k; kx++) {
              const ix = xx * c.stride - c.pad + kx;
              if (ix < 0 || ix >= W) continue;
              acc += x[(i * H + iy) * W + ix]! * w[((o * c.inC + i) * c.k + ky) * c.k + kx]!;
            }
          }
        }
        y[(o * Ho + yy) * Wo + xx] = acc;
      }
    }
  }
  return { y, H: Ho, W: Wo };
}

/** Nearest-neighbour 2x upsampling of [C, H, W]. */
export function upsample2xRef(x: Float32Array, C: number, H: number, W: number): Float32Array {
  const y = new Float32Array(C * H * W * 4);
  for (let c = 0; c < C; c++)
    for (let yy = 0; yy < 2 * H; yy++)
      for (let xx = 0; xx < 2 * W; xx++) y[(c * 2 * H + yy) * 2 * W + xx] = x[(c * H + (yy >> 1)) * W + (xx >> 1)]!;
  return y;
}
