/**
 * Probes run on a backend before it is trusted.
 * - runProbe: a tiny graph (2x^2); creating and running it proves the runtime
 *   loaded and the execution provider works.
 * - probeAttention: the conformance probe of WEBGPU-FINDINGS.md. Fused
 *   com.microsoft.MultiHeadAttention and the decomposed MatMul/Softmax/MatMul
 *   run on the same inputs, both checked against the TypeScript reference;
 *   the engine uses a fused graph variant only where it matches. Both are
 *   emitted by the pack builder's own emitAttention in the form the pack
 *   graphs use (PROBE_PIECES): one head per piece and chunked query rows, so
 *   the fused case runs one MultiHeadAttention per head and chunk, fed the
 *   chunk's bias rows [B, 1, rows, L] as they are (never expanded per head).
 */
import * as ort from 'onnxruntime-web';
import { GraphBuilder, type IrGraph } from '../packbuild/ir';
import { emitAttention, type AttentionImpl, type AttentionPieces } from '../packbuild/nn';
import { attentionRef } from '../packbuild/reference/ops';
import { serializeModel } from '../packbuild/serialize';

const PROBE_INPUT = [1, -2, 0.5, 3];

/** y = (x + x) * x, i.e. 2x². */
export function probeModel(): Uint8Array {
  const g = new GraphBuilder('probe');
  const x = g.input('x', 'float32', [PROBE_INPUT.length]);
  g.output(g.op('Mul', [g.op('Add', [x, x]), x]), 'y', 'float32', [PROBE_INPUT.length]);
  return serializeModel(g.build());
}

/** Creates and runs the probe graph on `executionProvider`; throws with the reason when it does not work. */
export async function runProbe(executionProvider: 'webgpu' | 'wasm'): Promise<void> {
  const session = await ort.InferenceSession.create(probeModel(), { executionProviders: [executionProvider] });
  try {
    const x = new ort.Tensor('float32', Float32Array.from(PROBE_INPUT), [PROBE_INPUT.length]);
    const { y } = await session.run({ x });
    const got = Array.from((await y!.getData()) as Float32Array);
    const want = PROBE_INPUT.map((v) => 2 * v * v);
    if (got.some((v, i) => Math.abs(v - want[i]!) > 1e-6)) {
      throw new Error(`probe graph gave wrong numbers on ${executionProvider}: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    }
  } finally {
    await session.release();
  }
}

export interface AttentionProbeCase {
  /** What was compared: with an additive bias (the DiT) or without (the text encoder). */
  withBias: boolean;
  /** max |fused - reference| and max |decomposed - reference|. */
  fusedError: number;
  decomposedError: number;
  /** The fused kernel matched the reference within the tolerance (or failed to run: null error text). */
  fusedMatches: boolean;
  error: string | null;
}

export interface AttentionProbe {
  backend: 'webgpu' | 'wasm';
  /** The cut of the attention that was compared (nn.ts AttentionPieces). */
  pieces: AttentionPieces;
  tolerance: number;
  cases: AttentionProbeCase[];
}

export const ATTENTION_PROBE_TOLERANCE = 1e-4;

/**
 * The form of the pack builder's graphs (workers/packbuild/pack.ts
 * attentionPieces: one head per piece; the DiT graphs chunk their query rows),
 * with 2 chunks so that the probe's 6 or 7 queries are cut unevenly.
 */
export const PROBE_PIECES: AttentionPieces = { headsPerPiece: 1, queryChunks: 2 };

/** The probe's attention graph (exported for its test). */
export function attentionProbeGraph(impl: AttentionImpl, heads: number, dim: number, withBias: boolean, pieces: AttentionPieces): IrGraph {
  const g = new GraphBuilder(`attention_probe_${impl}`);
  const q = g.input('q', 'float32', ['batch', 'S', dim]);
  const k = g.input('k', 'float32', ['batch', 'L', dim]);
  const v = g.input('v', 'float32', ['batch', 'L', dim]);
  const bias = withBias ? g.input('bias', 'float32', ['batch', 1, 'S', 'L']) : null;
  g.output(emitAttention(g, q, k, v, bias, heads, dim, impl, pieces), 'out', 'float32', ['batch', 'S', dim]);
  return g.build();
}

function values(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296 - 0.5) * 2 * scale;
  });
}

/**
 * Runs both attention implementations on `backend` with the pack's head
 * layout, with a bias of shape [B, 1, S, L] (S != L, some entries at the
 * "may not attend" value) and without one, cut into `pieces` as the graphs are.
 */
export async function probeAttention(backend: 'webgpu' | 'wasm', heads: number, dim: number, biasMin: number, pieces: AttentionPieces = PROBE_PIECES): Promise<AttentionProbe> {
  const B = 2;
  const cases: AttentionProbeCase[] = [];
  for (const withBias of [true, false]) {
    const S = withBias ? 6 : 7;
    const L = withBias ? 11 : 7;
    const q = values(B * S * dim, 1, 1);
    const k = values(B * L * dim, 2, 1);
    const v = values(B * L * dim, 3, 1);
    const bias = withBias ? values(B * S * L, 4, 2).map((x, i) => (i % 5 === 0 ? biasMin : x)) : null;
    const ref = new Float32Array(B * S * dim);
    for (let b = 0; b < B; b++) {
      const slice = (a: Float32Array, n: number) => a.subarray(b * n, (b + 1) * n);
      ref.set(attentionRef(slice(q, S * dim), slice(k, L * dim), slice(v, L * dim), bias ? slice(bias, S * L) : null, heads, dim), b * S * dim);
    }
    const run = async (impl: AttentionImpl): Promise<number> => {
      const session = await ort.InferenceSession.create(serializeModel(attentionProbeGraph(impl, heads, dim, withBias, pieces)), { executionProviders: [backend] });
      try {
        const feeds: Record<string, ort.Tensor> = {
          q: new ort.Tensor('float32', q, [B, S, dim]),
          k: new ort.Tensor('float32', k, [B, L, dim]),
          v: new ort.Tensor('float32', v, [B, L, dim]),
        };
        if (bias) feeds.bias = new ort.Tensor('float32', bias, [B, 1, S, L]);
        const out = (await (await session.run(feeds)).out!.getData()) as Float32Array;
        let err = 0;
        for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(out[i]! - ref[i]!));
        return Number.isNaN(err) || out.some(Number.isNaN) ? Infinity : err;
      } finally {
        await session.release();
      }
    };
    const decomposedError = await run('decomposed');
    let fusedError = Infinity;
    let error: string | null = null;
    try {
      fusedError = await run('mha');
    } catch (e) {
      error = (e as Error).message;
    }
    cases.push({ withBias, fusedError, decomposedError, fusedMatches: fusedError <= ATTENTION_PROBE_TOLERANCE, error });
  }
  return { backend, pieces, tolerance: ATTENTION_PROBE_TOLERANCE, cases };
}
