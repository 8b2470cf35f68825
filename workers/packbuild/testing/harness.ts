/** Test helpers: run an IR graph with onnxruntime-web (WASM) in Node, and compare arrays. */
import * as ort from 'onnxruntime-web';
import type { IrGraph } from '../ir';
import { Rng } from '../params';
import { serializeModel } from '../serialize';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

export type Feed = { dims: number[] } & ({ type: 'float32'; data: Float32Array } | { type: 'int64'; data: BigInt64Array });

export async function runGraph(graph: IrGraph, feeds: Record<string, Feed>): Promise<Record<string, { dims: readonly number[]; data: Float32Array }>> {
  const session = await ort.InferenceSession.create(serializeModel(graph), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) inputs[name] = new ort.Tensor(f.type, f.data, f.dims);
    const out = await session.run(inputs);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { dims: t.dims, data: t.data as Float32Array }]));
  } finally {
    await session.release();
  }
}

export function f32(dims: number[], data: Float32Array): Feed {
  if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`feed of ${data.length} values for dims [${dims}]`);
  return { type: 'float32', dims, data };
}

/** The step graphs' text_set / ref_set: branch b reads set b (one set per branch, as the tests feed them). */
export function branchSets(branches: number): Feed {
  return { type: 'int64', dims: [branches], data: BigInt64Array.from({ length: branches }, (_, b) => BigInt(b)) };
}

export function randn(rng: Rng, n: number, amplitude = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.nextSigned() * amplitude);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Root-mean-square of (a - b) over the RMS of b. */
export function relRms(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}
