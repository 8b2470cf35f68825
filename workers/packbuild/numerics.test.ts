/**
 * Every graph of a pack, at every precision and attention variant, run with
 * onnxruntime-web (WASM) in Node and compared with the pure TypeScript
 * reference forward.
 *
 * Two comparisons per graph:
 * 1. against the reference computed with the weights the graph really uses
 *    (dequantized for quantized packs): this checks the graph wiring and must
 *    hold to 1e-4 (max abs error, outputs scaled to O(1));
 * 2. for quantized graphs, against the fp32 reference: this measures the
 *    quantization error, bounded by the tolerance derived in
 *    docs/pack-format.md ("Quantization error"): relative RMS error
 *    <= 2 * sqrt(depth) / (2 * qmax), qmax = 127 (int8) or 7 (int4), depth =
 *    quantized layers on the longest path through the graph.
 */
import { describe, expect, it } from 'vitest';
import { buildDitReference, buildDitStep } from './models/dit';
import { buildTextEncoder, textEncodeRef } from './models/text';
import { buildVaeDecoder, buildVaeEncoder, vaeDecodeRef, vaeEncodeRef } from './models/vae';
import type { AttentionImpl, AttentionPieces, PrecisionSpec } from './nn';
import { makeModelParams, piecesFor } from './pack';
import { Rng } from './params';
import { ditReferenceRef, ditStepRef } from './reference/dit';
import { TEST_PACK_CONFIG } from './testPack';
import { branchSets, f32, maxAbs, maxAbsDiff, randn, relRms, runGraph, type Feed } from './testing/harness';

const params = makeModelParams(TEST_PACK_CONFIG);
const { dit } = TEST_PACK_CONFIG;
const D = dit.dim;
const C = dit.latentChannels;
const LAYERS = dit.layers;
const FP32: PrecisionSpec = { matmul: 'fp32', conv: 'fp32', blockSize: 32 };
const WHOLE: AttentionPieces = { headsPerPiece: Number.POSITIVE_INFINITY, queryChunks: 1 };
const PRECISIONS: PrecisionSpec[] = [FP32, { matmul: 'int8', conv: 'int8', blockSize: 32 }, { matmul: 'int4', conv: 'int8', blockSize: 32 }];

/** Quantized layers on the longest path through each graph (see the file comment). */
const DEPTH = {
  vae_encoder: 5,
  vae_decoder: 5,
  text_encoder: 5,
  dit_reference: 9,
  dit_step: 14,
  dit_step_full: 14,
} as const;

export function quantTolerance(p: PrecisionSpec, depth: number): number {
  const qmax = p.matmul === 'int4' ? 7 : 127;
  return (2 * Math.sqrt(depth)) / (2 * qmax);
}

interface Case {
  role: keyof typeof DEPTH;
  build: (p: PrecisionSpec, impl: AttentionImpl, pieces: AttentionPieces) => import('./ir').IrGraph;
  feeds: Record<string, Feed>;
  output: string;
  reference: (p: PrecisionSpec) => Float32Array;
}

const rng = new Rng(7);
const B = 2;
const h = 16;
const w = 16;
const M = TEST_PACK_CONFIG.text.maxTokens;
const N = (h / dit.patchSize) * (w / dit.patchSize);
const R1 = N; // tokens of one reference image
const stack = (xs: Float32Array[]) => {
  const out = new Float32Array(xs.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of xs) {
    out.set(x, o);
    o += x.length;
  }
  return out;
};

const images = [randn(rng, 3 * 128 * 128), randn(rng, 3 * 128 * 128)];
const latents = [randn(rng, C * h * w), randn(rng, C * h * w)];
const refLatents = [randn(rng, C * h * w), randn(rng, C * h * w), randn(rng, C * h * w)];
const refPooled = [randn(rng, dit.pooledDim), randn(rng, dit.pooledDim), randn(rng, dit.pooledDim)];
const texts = [randn(rng, M * dit.textDim), randn(rng, M * dit.textDim)];
const pooled = [randn(rng, dit.pooledDim), randn(rng, dit.pooledDim)];
const timesteps = [937.5, 250];
const ids = [
  [1, 4, 267, 454, 411, 59, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  [1, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 2],
];

/** A bias with some blocked entries (-1e4) and some soft shifts, per batch item. */
function biasFor(rows: number, cols: number): Float32Array {
  const b = randn(rng, rows * cols, 1);
  for (let i = 0; i < b.length; i += 5) b[i] = TEST_PACK_CONFIG.attentionBiasMin;
  return b;
}

// Cached step: two references (2 * R1 tokens) per batch item.
const R = 2 * R1;
const cachedBias = [biasFor(M + N, M + N + R), biasFor(M + N, M + N + R)];
const layerBias = Array.from({ length: LAYERS }, () => [randn(rng, R), randn(rng, R)]);
layerBias[1]![0]!.fill(TEST_PACK_CONFIG.attentionBiasMin, 0, R1); // a layer window switching a subject off
const fullBias = [biasFor(M + N + R, M + N + R), biasFor(M + N + R, M + N + R)];
const refKV = (p: PrecisionSpec) => {
  // References 0,1 for batch item 0; references 1,2 for batch item 1.
  const per = [0, 1, 2].map((j) => ditReferenceRef(params.dit, p, refLatents[j]!, h, w, refPooled[j]!));
  const pick = [
    [0, 1],
    [1, 2],
  ];
  const kv = (which: 'k' | 'v', l: number, b: number) => stack(pick[b]!.map((j) => per[j]![which][l]!));
  return { per, pick, kv };
};
const layerBiasFeed = f32([LAYERS, B, R], stack(layerBias.flatMap((perB) => perB)));

const cases: Case[] = [
  {
    role: 'vae_encoder',
    build: (p) => buildVaeEncoder(params.vae, p),
    feeds: { image: f32([B, 3, 128, 128], stack(images)) },
    output: 'latent',
    reference: (p) => stack(images.map((im) => vaeEncodeRef(params.vae, p, im, 128, 128))),
  },
  {
    role: 'vae_decoder',
    build: (p) => buildVaeDecoder(params.vae, p),
    feeds: { latent: f32([B, C, h, w], stack(latents)) },
    output: 'image',
    reference: (p) => stack(latents.map((l) => vaeDecodeRef(params.vae, p, l, h, w))),
  },
  {
    role: 'text_encoder',
    build: (p, impl, pieces) => buildTextEncoder(params.text, p, impl, pieces),
    feeds: { input_ids: { type: 'int64', dims: [B, M], data: BigInt64Array.from(ids.flat().map(BigInt)) } },
    output: 'text_embeddings',
    reference: (p) => stack(ids.map((s) => textEncodeRef(params.text, p, s).embeddings)),
  },
  {
    role: 'text_encoder',
    build: (p, impl, pieces) => buildTextEncoder(params.text, p, impl, pieces),
    feeds: { input_ids: { type: 'int64', dims: [B, M], data: BigInt64Array.from(ids.flat().map(BigInt)) } },
    output: 'pooled',
    reference: (p) => stack(ids.map((s) => textEncodeRef(params.text, p, s).pooled)),
  },
  {
    role: 'dit_reference',
    build: (p, impl, pieces) => buildDitReference(params.dit, p, impl, pieces),
    feeds: { ref_latents: f32([B, C, h, w], stack(refLatents.slice(0, 2))), ref_pooled: f32([B, dit.pooledDim], stack(refPooled.slice(0, 2))) },
    output: 'ref_k',
    reference: (p) => {
      const per = [0, 1].map((j) => ditReferenceRef(params.dit, p, refLatents[j]!, h, w, refPooled[j]!));
      return stack(Array.from({ length: LAYERS }, (_, l) => stack(per.map((r) => r.k[l]!))));
    },
  },
  {
    role: 'dit_reference',
    build: (p, impl, pieces) => buildDitReference(params.dit, p, impl, pieces),
    feeds: { ref_latents: f32([B, C, h, w], stack(refLatents.slice(0, 2))), ref_pooled: f32([B, dit.pooledDim], stack(refPooled.slice(0, 2))) },
    output: 'ref_v',
    reference: (p) => {
      const per = [0, 1].map((j) => ditReferenceRef(params.dit, p, refLatents[j]!, h, w, refPooled[j]!));
      return stack(Array.from({ length: LAYERS }, (_, l) => stack(per.map((r) => r.v[l]!))));
    },
  },
];

const stepFeeds = (extra: Record<string, Feed>): Record<string, Feed> => ({
  latents: f32([B, C, h, w], stack(latents)),
  timestep: f32([B], Float32Array.from(timesteps)),
  text_embeddings: f32([B, M, dit.textDim], stack(texts)),
  pooled: f32([B, dit.pooledDim], stack(pooled)),
  text_set: branchSets(B),
  ref_set: branchSets(B),
  ref_layer_bias: layerBiasFeed,
  ...extra,
});

describe.each(PRECISIONS)('graphs at matmul=$matmul conv=$conv', (prec) => {
  // The cached step needs reference K/V computed at the same precision.
  const kv = refKV(prec);
  const stepCases: Case[] = [
    {
      role: 'dit_step',
      build: (p, impl, pieces) => buildDitStep(params.dit, p, impl, 'cached', pieces),
      feeds: stepFeeds({
        ref_k: f32([LAYERS, B, R, D], stack(Array.from({ length: LAYERS }, (_, l) => stack([0, 1].map((b) => kv.kv('k', l, b)))))),
        ref_v: f32([LAYERS, B, R, D], stack(Array.from({ length: LAYERS }, (_, l) => stack([0, 1].map((b) => kv.kv('v', l, b)))))),
        attention_bias: f32([B, 1, M + N, M + N + R], stack(cachedBias)),
      }),
      output: 'velocity',
      reference: (p) => {
        const kvp = p === prec ? kv : refKV(p);
        return stack(
          [0, 1].map((b) =>
            ditStepRef(params.dit, p, {
              latent: latents[b]!,
              h,
              w,
              timestep: timesteps[b]!,
              text: texts[b]!,
              pooled: pooled[b]!,
              refs: { kind: 'cached', k: Array.from({ length: LAYERS }, (_, l) => kvp.kv('k', l, b)), v: Array.from({ length: LAYERS }, (_, l) => kvp.kv('v', l, b)) },
              bias: cachedBias[b]!,
              layerBias: layerBias.map((perB) => perB[b]!),
            }),
          ),
        );
      },
    },
    {
      role: 'dit_step_full',
      build: (p, impl, pieces) => buildDitStep(params.dit, p, impl, 'full', pieces),
      feeds: stepFeeds({
        ref_latents: f32([B, 2, C, h, w], stack([0, 1, 1, 2].map((j) => refLatents[j]!))),
        ref_pooled: f32([B, 2, dit.pooledDim], stack([0, 1, 1, 2].map((j) => refPooled[j]!))),
        attention_bias: f32([B, 1, M + N + R, M + N + R], stack(fullBias)),
      }),
      output: 'velocity',
      reference: (p) =>
        stack(
          [0, 1].map((b) =>
            ditStepRef(params.dit, p, {
              latent: latents[b]!,
              h,
              w,
              timestep: timesteps[b]!,
              text: texts[b]!,
              pooled: pooled[b]!,
              refs: { kind: 'full', latents: kv.pick[b]!.map((j) => refLatents[j]!), pooled: kv.pick[b]!.map((j) => refPooled[j]!) },
              bias: fullBias[b]!,
              layerBias: layerBias.map((perB) => perB[b]!),
            }),
          ),
        ),
    },
  ];
  const all = [...cases, ...stepCases];
  const impls: AttentionImpl[] = ['decomposed', 'mha'];
  const rows = all.flatMap((c) => (c.role.startsWith('vae') ? [{ c, impl: 'decomposed' as const }] : impls.map((impl) => ({ c, impl }))));

  it.each(rows.map((r) => ({ ...r, name: `${r.c.role}.${r.c.output} (${r.c.role.startsWith('vae') ? 'no attention' : r.impl})` })))('$name', async ({ c, impl }) => {
    const pieces = c.role.startsWith('vae') ? WHOLE : piecesFor(TEST_PACK_CONFIG, c.role as Exclude<Case['role'], 'vae_encoder' | 'vae_decoder'>);
    const out = await runGraph(c.build(prec, impl, pieces), c.feeds);
    const got = out[c.output]!.data;
    const exact = c.reference(prec);
    const wiring = maxAbsDiff(got, exact);
    const scale = maxAbs(exact);
    expect(scale).toBeGreaterThan(0.1); // outputs are O(1), so 1e-4 is a meaningful bound
    expect(scale).toBeLessThan(20);
    expect(wiring).toBeLessThan(1e-4);
    if (prec.matmul !== 'fp32') {
      const quantErr = relRms(got, c.reference(FP32));
      const tol = quantTolerance(prec, DEPTH[c.role]);
      console.log(`[numerics] ${prec.matmul} ${c.role}.${c.output} ${impl}: wiring max abs ${wiring.toExponential(2)}, quantization rel RMS ${(100 * quantErr).toFixed(2)}% (tolerance ${(100 * tol).toFixed(1)}%)`);
      expect(quantErr).toBeLessThan(tol);
      expect(quantErr).toBeGreaterThan(0); // the graph really is quantized
    } else {
      console.log(`[numerics] fp32 ${c.role}.${c.output} ${impl}: max abs ${wiring.toExponential(2)} (|ref| max ${scale.toFixed(2)})`);
    }
  });

  // Other cuts of the same attention give the same numbers: every head and query at once (the graphs
  // before pieces), two heads per piece over 3 uneven chunks, all four heads per piece over 5 chunks.
  if (prec === FP32) {
    const cuts: AttentionPieces[] = [WHOLE, { headsPerPiece: 2, queryChunks: 3 }, { headsPerPiece: 4, queryChunks: 5 }];
    const ditRows = all.filter((c) => c.role.startsWith('dit') && c.output !== 'ref_v').flatMap((c) => impls.flatMap((impl) => cuts.map((pieces) => ({ c, impl, pieces }))));
    it.each(ditRows.map((r) => ({ ...r, name: `${r.c.role}.${r.c.output} (${r.impl}, ${r.pieces.headsPerPiece} heads x ${r.pieces.queryChunks} chunks)` })))('$name', async ({ c, impl, pieces }) => {
      const out = await runGraph(c.build(prec, impl, pieces), c.feeds);
      const wiring = maxAbsDiff(out[c.output]!.data, c.reference(prec));
      console.log(`[numerics] fp32 ${c.role}.${c.output} ${impl} ${pieces.headsPerPiece}x${pieces.queryChunks}: max abs ${wiring.toExponential(2)}`);
      expect(wiring).toBeLessThan(1e-4);
    });
  }
});
