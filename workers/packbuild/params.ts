/**
 * Deterministic weights. Only integer arithmetic and float multiplication are
 * used, so the same seed gives the same bytes on every JavaScript engine.
 */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** splitmix32: a uint32. */
  nextU32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** Uniform in [-1, 1). */
  nextSigned(): number {
    return this.nextU32() / 2147483648 - 1;
  }
  /** A child generator, so adding a tensor does not shift every later one. */
  fork(label: string): Rng {
    let h = this.state ^ 0x811c9dc5;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
    return new Rng(h);
  }
}

export function uniform(rng: Rng, n: number, amplitude: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.nextSigned() * amplitude;
  return out;
}

/**
 * A dense layer, y = x W + b, with W stored row-major as [in, out]. `w` is
 * null once a converter compacted the layer to its stored (quantized) form
 * (stored-linear.ts). `b` is null for a layer without a bias (FLUX.2 has
 * none anywhere): no zero vector is stored and no Add is run.
 */
export interface Linear {
  inF: number;
  outF: number;
  w: Float32Array | null;
  b: Float32Array | null;
}

/** Variance-preserving uniform init (amplitude sqrt(3 / fan_in) * gain). */
export function linear(rng: Rng, inF: number, outF: number, gain = 1): Linear {
  const a = Math.sqrt(3 / inF) * gain;
  return { inF, outF, w: uniform(rng.fork('w'), inF * outF, a), b: uniform(rng.fork('b'), outF, 0.1 * gain) };
}

/** A 2-D convolution, weights [out, in, k, k]. */
export interface Conv2d {
  inC: number;
  outC: number;
  k: number;
  stride: number;
  pad: number;
  w: Float32Array;
  b: Float32Array;
}

export function conv2d(rng: Rng, inC: number, outC: number, k: number, stride = 1, pad = (k - 1) >> 1, gain = 1): Conv2d {
  const a = Math.sqrt(3 / (inC * k * k)) * gain;
  return { inC, outC, k, stride, pad, w: uniform(rng.fork('w'), outC * inC * k * k, a), b: uniform(rng.fork('b'), outC, 0.05) };
}

/** Layer norm parameters (gamma, beta over the last axis). */
export interface Norm {
  gamma: Float32Array;
  beta: Float32Array;
}

export function norm(rng: Rng, dim: number): Norm {
  const gamma = uniform(rng.fork('g'), dim, 0.2).map((v) => 1 + v);
  return { gamma, beta: uniform(rng.fork('b'), dim, 0.1) };
}

/** The layer's fp32 matrix; a compacted layer (converted, quantized when read) has none, and says so. */
export function fp32Weights(lin: Linear): Float32Array {
  if (!lin.w) throw new Error(`this ${lin.inF}x${lin.outF} linear was compacted when it was read: its fp32 weights are gone`);
  return lin.w;
}
