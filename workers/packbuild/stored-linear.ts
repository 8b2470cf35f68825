/**
 * A linear layer's weights in the form a graph stores them at one precision
 * (fp32, fp16, per-column int8, or MatMulNBits int4 blocks), computed once per
 * layer and precision and shared by every graph that emits the layer.
 *
 * A converter compacts each linear as soon as it is read (`compactLinear`):
 * the stored form is made and the fp32 matrix is dropped, so converting a
 * multi-gigabyte checkpoint holds the pack's bytes plus one tensor, not every
 * weight in fp32. A compacted layer can only be emitted at the precision it
 * was compacted for; asking for another is a programming error and says so.
 */
import type { Linear } from './params';
import { quantizeLinearInt4, quantizeLinearInt8, toFloat16, type MatmulPrecision } from './quantize';

export type StoredLinear =
  | { kind: 'fp32'; w: Float32Array }
  /** half-precision bits [in, out] row-major (computed in fp32 after a Cast). */
  | { kind: 'fp16'; bits: Uint16Array }
  /** q [in, out] row-major, one scale per output column. */
  | { kind: 'int8'; q: Int8Array; scale: Float32Array }
  /** packed [out, blocks, blockSize / 2] nibbles, scales [out * blocks]. */
  | { kind: 'int4'; blockSize: number; blocks: number; packed: Uint8Array; scales: Float32Array };

export interface LinearPrecision {
  matmul: MatmulPrecision;
  blockSize: number;
}

const keyOf = (p: LinearPrecision) => (p.matmul === 'int4' ? `int4/${p.blockSize}` : p.matmul);

const storedForms = new WeakMap<Linear, Map<string, StoredLinear>>();

function quantize(w: Float32Array, lin: Linear, p: LinearPrecision): StoredLinear {
  if (p.matmul === 'fp32') return { kind: 'fp32', w };
  if (p.matmul === 'fp16') return { kind: 'fp16', bits: toFloat16(w, `a ${lin.inF}x${lin.outF} linear`).bits };
  if (p.matmul === 'int8') {
    const { q, scale } = quantizeLinearInt8(w, lin.inF, lin.outF);
    return { kind: 'int8', q, scale };
  }
  const { packed, scales, blocks } = quantizeLinearInt4(w, lin.inF, lin.outF, p.blockSize);
  return { kind: 'int4', blockSize: p.blockSize, blocks, packed, scales };
}

/** The layer's weights as stored at `p` (made from its fp32 matrix the first time, then reused). */
export function storedLinear(lin: Linear, p: LinearPrecision): StoredLinear {
  let forms = storedForms.get(lin);
  if (!forms) storedForms.set(lin, (forms = new Map()));
  const key = keyOf(p);
  const hit = forms.get(key);
  if (hit) return hit;
  if (!lin.w) {
    throw new Error(`a ${lin.inF}x${lin.outF} linear was compacted to ${[...forms.keys()].join(', ')} when it was read; it cannot be stored as ${key}`);
  }
  const made = quantize(lin.w, lin, p);
  forms.set(key, made);
  return made;
}

/**
 * Makes the layer's stored form at `p` now and drops its fp32 matrix (kept
 * at fp32, where the stored form is that matrix). Returns the same object.
 */
export function compactLinear(lin: Linear, p: LinearPrecision): Linear {
  storedLinear(lin, p);
  if (p.matmul !== 'fp32') lin.w = null;
  return lin;
}

/** True once `compactLinear` dropped the layer's fp32 matrix. */
export const isCompacted = (lin: Linear): boolean => lin.w === null;

/**
 * The stored form of linears with one input concatenated along the output
 * axis (a fused q/k/v projection), from the parts' stored forms: per-column
 * int8 scales and per-column int4 blocks quantize a fused matrix exactly like
 * its parts, so the fused form equals quantizing the fused fp32 matrix.
 */
export function fuseStored(parts: readonly Linear[], p: LinearPrecision): StoredLinear {
  const forms = parts.map((part) => storedLinear(part, p));
  const inF = parts[0]!.inF;
  const outF = parts.reduce((n, part) => n + part.outF, 0);
  const first = forms[0]!;
  if (first.kind === 'int4') {
    const int4 = forms as Extract<StoredLinear, { kind: 'int4' }>[];
    return { kind: 'int4', blockSize: first.blockSize, blocks: first.blocks, packed: concat(int4.map((f) => f.packed), Uint8Array), scales: concat(int4.map((f) => f.scales), Float32Array) };
  }
  // int8, fp16 and fp32 are [in, out] row-major: each input row takes every part's columns in turn.
  const interleave = <T extends Int8Array | Uint16Array | Float32Array>(mats: T[], make: new (n: number) => T): T => {
    const out = new make(inF * outF);
    let col = 0;
    parts.forEach((part, k) => {
      for (let i = 0; i < inF; i++) out.set(mats[k]!.subarray(i * part.outF, (i + 1) * part.outF), i * outF + col);
      col += part.outF;
    });
    return out;
  };
  if (first.kind === 'int8') {
    const int8 = forms as Extract<StoredLinear, { kind: 'int8' }>[];
    return { kind: 'int8', q: interleave(int8.map((f) => f.q), Int8Array), scale: concat(int8.map((f) => f.scale), Float32Array) };
  }
  if (first.kind === 'fp16') {
    return { kind: 'fp16', bits: interleave((forms as Extract<StoredLinear, { kind: 'fp16' }>[]).map((f) => f.bits), Uint16Array) };
  }
  return { kind: 'fp32', w: interleave((forms as Extract<StoredLinear, { kind: 'fp32' }>[]).map((f) => f.w), Float32Array) };
}

/**
 * Records `make()` as `lin`'s stored form at `p` unless it has one (a fused
 * layer made from its parts' forms): every graph emitting the layer then
 * shares one array, and the fusing is done once, not once per graph.
 */
export function storeOnce(lin: Linear, p: LinearPrecision, make: () => StoredLinear): void {
  let forms = storedForms.get(lin);
  if (!forms) storedForms.set(lin, (forms = new Map()));
  const key = keyOf(p);
  if (!forms.has(key)) forms.set(key, make());
}

function concat<T extends Uint8Array | Float32Array>(arrays: T[], make: new (n: number) => T): T {
  const out = new make(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}
