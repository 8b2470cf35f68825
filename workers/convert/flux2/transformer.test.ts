/**
 * FLUX.2 klein's transformer converted by loadFlux2Transformer and run as the studio's FLUX.2
 * graphs (onnxruntime-web WASM), against what diffusers computed on the same random-weight folders
 * (fixtures/flux2/<variant>/reference, fixtures/make_flux2_fixtures.py):
 * - the positions and RoPE tables equal the pipeline's ids and Flux2PosEmbed's tables;
 * - klein 4B and base 4B: dit_step (cached mode) with a closed dummy reference gives the velocity
 *   without references; dit_step_full with 1 and 2 references after the noisy tokens
 *   (Flux2KleinPipeline's layout) gives the pipeline's, to 1e-4 of max |ref|;
 * - klein 9B-kv (cached mode, bf16 weights): dit_reference gives the KV pipeline's cached K (after
 *   norm and RoPE) and V of every layer, and dit_step with them gives its step-0 (extract) and
 *   step-1 (cached) velocities; ref_layer_bias at the "may not attend" value closes them again.
 * The graphs are fed in the studio's step contract (latent grids, text and reference sets with
 * per-branch indices, the attention plan's biases), as the sampler feeds them.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { concatPositions, gridPositions, referenceTime, ropeTables, textPositions, type Positions } from '../../families/flux2-positions';
import { buildFlux2Reference, buildFlux2Step, type Flux2Params } from '../../packbuild/models/flux2';
import type { PrecisionSpec } from '../../packbuild/nn';
import { branchSets, f32, maxAbs, maxAbsDiff, relRms, runGraph, type Feed } from '../../packbuild/testing/harness';
import { readNpy, type NpyArray } from '../../node/npy';
import type { JsonObject } from '../folder';
import { folderFromDisk } from '../node-source';
import { openCheckpoint } from '../safetensors';
import { readInt64Npy } from '../testing/npy-int64';
import { loadFlux2Transformer } from './transformer';

const FIXTURES = new URL('../../../fixtures/flux2/', import.meta.url).pathname;
const FP32: PrecisionSpec = { matmul: 'fp32', conv: 'fp32', blockSize: 16 };
/** The packs' attentionBiasMin: the "may not attend" bias. */
const BIAS_MIN = -10000;
const TOL = 1e-4;

interface Fixture {
  params: Flux2Params;
  npy: (file: string) => Promise<NpyArray>;
  /** An int64 file's values (the pipeline's ids [1, S, 4]). */
  ids: (file: string) => Promise<number[]>;
}

async function openFixture(variant: string): Promise<Fixture> {
  const dir = `${FIXTURES}${variant}`;
  const index = await openCheckpoint(await folderFromDisk(dir), 'transformer/diffusion_pytorch_model.safetensors');
  const config = JSON.parse(await readFile(`${dir}/transformer/config.json`, 'utf8')) as JsonObject;
  return {
    params: await loadFlux2Transformer(index, config),
    npy: (file) => readNpy(`${dir}/reference/${file}`),
    ids: async (file) => (await readInt64Npy(`${dir}/reference/${file}`)).data,
  };
}


/** max |a - b| / max |b|, with the numbers in the failure message. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = TOL): void {
  const err = maxAbsDiff(actual, expected) / maxAbs(expected);
  console.info(`${what}: max abs err ${err.toExponential(2)} of max |ref| (rel RMS ${relRms(actual, expected).toExponential(2)})`);
  expect(err, what).toBeLessThan(tol);
}

/** Prompt `i` of a [3, T, J] prompt_embeds as a text set [1, T, J]. */
function prompt(embeds: NpyArray, i: number): Feed {
  const [, T, J] = embeds.shape as [number, number, number];
  return f32([1, T, J], embeds.data.slice(i * T * J, (i + 1) * T * J));
}

/** Row-major tokens [n, h w, C] (the pipeline's packing) as grids [n, C, h, w]. */
function grids(tokens: NpyArray, n: number, h: number, w: number): Float32Array {
  const C = tokens.shape[2]!;
  const out = new Float32Array(n * C * h * w);
  for (let i = 0; i < n; i++) for (let t = 0; t < h * w; t++) for (let c = 0; c < C; c++) out[((i * C + c) * h * w) + t] = tokens.data[(i * h * w + t) * C + c]!;
  return out;
}

/** The velocity graphs' output [1, C, h, w] as the pipeline's tokens [1, h w, C]. */
function tokensOf(grid: Float32Array, C: number, n: number): Float32Array {
  return Float32Array.from({ length: grid.length }, (_, i) => grid[(i % C) * n + Math.floor(i / C)]!);
}

function rope(p: Flux2Params, ids: Positions): Record<string, Feed> {
  const t = ropeTables(ids, p.cfg.axesDims, p.cfg.ropeTheta);
  const half = t.cos.length / t.tokens;
  return { rope_cos: f32([t.tokens, half], t.cos), rope_sin: f32([t.tokens, half], t.sin) };
}

/** The noisy grid of the velocity fixtures: 64 x 96 px, 4 x 6 tokens. */
const GRID = { h: 4, w: 6 };
const N = GRID.h * GRID.w;
const T = 64;
/** The reference grids (64 x 80 and 80 x 64 px) of refs1 / refs2, in order. */
const REF_GRIDS = [
  { h: 4, w: 5 },
  { h: 5, w: 4 },
];
const refPositions = (grids: readonly { h: number; w: number }[]) => concatPositions(...grids.map((r, i) => gridPositions(r.h, r.w, referenceTime(i))));
const layersOf = (p: Flux2Params) => p.cfg.doubleLayers + p.cfg.singleLayers;
const zeros = (dims: number[]) => f32(dims, new Float32Array(dims.reduce((a, b) => a * b, 1)));

/** One branch's step feeds: the noisy latents, the prompt, sigma, and the text + image RoPE tables. */
async function stepFeeds(fx: Fixture, latentsFile: string, sigma: number): Promise<Record<string, Feed>> {
  const latents = await fx.npy(latentsFile);
  return {
    latents: f32([1, fx.params.cfg.channels, GRID.h, GRID.w], grids(latents, 1, GRID.h, GRID.w)),
    timestep: f32([1], Float32Array.of(Math.fround(Math.fround(sigma) * 1000))),
    text_embeddings: prompt(await fx.npy('prompt_embeds.npy'), 0),
    text_set: branchSets(1),
    ref_set: branchSets(1),
  };
}

describe('FLUX.2 positions and RoPE tables', () => {
  it("equal the pipeline's ids and Flux2PosEmbed's interleaved cos / sin", async () => {
    const fx = await openFixture('klein-4b');
    const text = textPositions(T);
    expect(Array.from(text)).toEqual(await fx.ids('text_ids.npy'));
    expect(Array.from(gridPositions(GRID.h, GRID.w))).toEqual(await fx.ids('velocity.img_ids.npy'));
    expect(Array.from(refPositions(REF_GRIDS.slice(0, 1)))).toEqual(await fx.ids('refs1.ids.npy'));
    expect(Array.from(refPositions(REF_GRIDS))).toEqual(await fx.ids('refs2.ids.npy'));
    expect(Array.from(refPositions([REF_GRIDS[0]!, REF_GRIDS[0]!]))).toEqual(await fx.ids('refs2same.ids.npy'));
    const t = ropeTables(concatPositions(text, gridPositions(GRID.h, GRID.w)), fx.params.cfg.axesDims, fx.params.cfg.ropeTheta);
    const half = t.cos.length / t.tokens;
    // diffusers repeats each value for the pair (2j, 2j + 1).
    const interleave = (a: Float32Array) => Float32Array.from({ length: a.length * 2 }, (_, i) => a[Math.floor(i / (2 * half)) * half + (Math.floor(i / 2) % half)]!);
    expect(maxAbsDiff(interleave(t.cos), (await fx.npy('velocity.act.rope_cos.npy')).data)).toBeLessThan(1e-6);
    expect(maxAbsDiff(interleave(t.sin), (await fx.npy('velocity.act.rope_sin.npy')).data)).toBeLessThan(1e-6);
  });
});

for (const variant of ['klein-4b', 'klein-base-4b']) {
  describe(`FLUX.2 transformer: fixtures/flux2/${variant}`, () => {
    let fx: Fixture;
    beforeAll(async () => {
      fx = await openFixture(variant);
    });
    const noisy = () => concatPositions(textPositions(T), gridPositions(GRID.h, GRID.w));

    it("dit_step with a closed dummy reference = diffusers' velocity without references (prompt and the empty negative)", async () => {
      const { cfg } = fx.params;
      const graph = buildFlux2Step(fx.params, FP32, 'decomposed', 'cached');
      // What the engine feeds without a subject: one zero K/V column that attention_bias closes.
      const bias = new Float32Array((T + N) * (T + N + 1));
      for (let r = 0; r < T + N; r++) bias[r * (T + N + 1) + T + N] = BIAS_MIN;
      const feeds = { ...(await stepFeeds(fx, 'velocity.latents.npy', 0.75)), ...rope(fx.params, noisy()), ref_k: zeros([layersOf(fx.params), 1, 1, cfg.dim]), ref_v: zeros([layersOf(fx.params), 1, 1, cfg.dim]), attention_bias: f32([1, 1, T + N, T + N + 1], bias), ref_layer_bias: zeros([layersOf(fx.params), 1, 1]) };
      const out = await runGraph(graph, feeds);
      expect(out.velocity!.dims).toEqual([1, cfg.channels, GRID.h, GRID.w]);
      expectClose(tokensOf(out.velocity!.data, cfg.channels, N), (await fx.npy('velocity.npy')).data, `${variant} velocity`);
      const neg = await runGraph(graph, { ...feeds, text_embeddings: prompt(await fx.npy('prompt_embeds.npy'), 1) });
      expectClose(tokensOf(neg.velocity!.data, cfg.channels, N), (await fx.npy('velocity_negative.npy')).data, `${variant} velocity_negative`);
    });

    for (const [name, refGrids] of [
      ['refs1', REF_GRIDS.slice(0, 1)],
      ['refs2same', [REF_GRIDS[0]!, REF_GRIDS[0]!]],
    ] as const) {
      it(`dit_step_full with ${refGrids.length} reference${refGrids.length > 1 ? 's' : ''} after the noisy tokens = diffusers' velocity (${name})`, async () => {
        const { cfg } = fx.params;
        const { h, w } = refGrids[0]!;
        const R = refGrids.length * h * w;
        const refs = await fx.npy(`${name}.tokens.npy`);
        const out = await runGraph(buildFlux2Step(fx.params, FP32, 'decomposed', 'full'), {
          ...(await stepFeeds(fx, 'velocity.latents.npy', 0.75)),
          ...rope(fx.params, concatPositions(noisy(), refPositions(refGrids))),
          ref_latents: f32([1, refGrids.length, cfg.channels, h, w], grids(refs, refGrids.length, h, w)),
          attention_bias: zeros([1, 1, T + N + R, T + N + R]),
          ref_layer_bias: zeros([layersOf(fx.params), 1, R]),
        });
        const expected = await fx.npy(`velocity_${name}.npy`);
        expectClose(tokensOf(out.velocity!.data, cfg.channels, N), expected.data, `${variant} velocity_${name}`);
        // The references matter: the step without them is far from this one.
        expect(maxAbsDiff(expected.data, (await fx.npy('velocity.npy')).data) / maxAbs(expected.data)).toBeGreaterThan(100 * TOL);
      });
    }

    /**
     * Quantization error, bounded as for the SD3 family (docs/pack-format.md 9.1): each quantized
     * layer's rounding adds a relative RMS error of 1 / (2 qmax) (qmax 127 int8, 7 int4), fp16 one
     * of 2^-11; independent errors add in quadrature over the longest path, and the test allows
     * twice that. The longest path: per double block q/k/v, o, linear_in, linear_out (4), per single
     * block to_qkv_mlp_proj, to_out (2) at the pack's precision, plus 6 fragile layers (timestep
     * linear_1, linear_2, a modulation, x_embedder, context_embedder, proj_out) kept at fp16.
     */
    it.each([
      { matmul: 'fp16', conv: 'fp32', blockSize: 32 },
      { matmul: 'int8', conv: 'fp32', blockSize: 32 },
      { matmul: 'int4', conv: 'fp32', blockSize: 32 },
    ] as PrecisionSpec[])('$matmul: the velocity with a reference (full mode) within the quantization tolerance of diffusers', async (prec) => {
      const { cfg } = fx.params;
      const { h, w } = REF_GRIDS[0]!;
      const R = h * w;
      const refs = await fx.npy('refs1.tokens.npy');
      const out = await runGraph(buildFlux2Step(fx.params, prec, 'decomposed', 'full'), {
        ...(await stepFeeds(fx, 'velocity.latents.npy', 0.75)),
        ...rope(fx.params, concatPositions(noisy(), refPositions([REF_GRIDS[0]!]))),
        ref_latents: f32([1, 1, cfg.channels, h, w], grids(refs, 1, h, w)),
        attention_bias: zeros([1, 1, T + N + R, T + N + R]),
        ref_layer_bias: zeros([layersOf(fx.params), 1, R]),
      });
      const got = tokensOf(out.velocity!.data, cfg.channels, N);
      const expected = (await fx.npy('velocity_refs1.npy')).data;
      const perLayer = prec.matmul === 'fp16' ? 2 ** -11 : 1 / (2 * (prec.matmul === 'int4' ? 7 : 127));
      const depth = 4 * cfg.doubleLayers + 2 * cfg.singleLayers;
      const tolerance = 2 * Math.sqrt(depth * perLayer ** 2 + 6 * 2 ** -22);
      const err = relRms(got, expected);
      console.info(`${variant} ${prec.matmul}: velocity_refs1 rel RMS ${(100 * err).toFixed(3)} % (tolerance ${(100 * tolerance).toFixed(2)} %)`);
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThanOrEqual(tolerance);
    });
  });
}

describe('FLUX.2 transformer, cached mode: fixtures/flux2/klein-9b-kv (bf16 weights)', () => {
  let fx: Fixture;
  let refK: Float32Array;
  let refV: Float32Array;
  const R = REF_GRIDS[0]!.h * REF_GRIDS[0]!.w;
  beforeAll(async () => {
    fx = await openFixture('klein-9b-kv');
    const { h, w } = REF_GRIDS[0]!;
    const t = ropeTables(refPositions([REF_GRIDS[0]!]), fx.params.cfg.axesDims, fx.params.cfg.ropeTheta);
    const half = t.cos.length / t.tokens;
    const out = await runGraph(buildFlux2Reference(fx.params, FP32, 'decomposed'), {
      ref_latents: f32([1, fx.params.cfg.channels, h, w], grids(await fx.npy('refs1.tokens.npy'), 1, h, w)),
      ref_rope_cos: f32([1, t.tokens, half], t.cos),
      ref_rope_sin: f32([1, t.tokens, half], t.sin),
    });
    refK = out.ref_k!.data;
    refV = out.ref_v!.data;
  });

  it("dit_reference gives the KV pipeline's cached K (after norm and RoPE) and V of every layer", async () => {
    expect(refK.length).toBe(layersOf(fx.params) * R * fx.params.cfg.dim);
    // The cache files are [layers, 1, R, heads, head dim]: the same order as our [layers, 1, R, dim].
    const cat = async (kind: 'k' | 'v') => {
      const d = await fx.npy(`kv.cache.double.${kind}.npy`);
      const s = await fx.npy(`kv.cache.single.${kind}.npy`);
      const all = new Float32Array(d.data.length + s.data.length);
      all.set(d.data);
      all.set(s.data, d.data.length);
      return all;
    };
    expectClose(refK, await cat('k'), '9b-kv cached K');
    expectClose(refV, await cat('v'), '9b-kv cached V');
  });

  const cachedStep = async (latentsFile: string, sigma: number, refBias = 0) => {
    const L = layersOf(fx.params);
    const kv = [L, 1, R, fx.params.cfg.dim];
    const out = await runGraph(buildFlux2Step(fx.params, FP32, 'decomposed', 'cached'), {
      ...(await stepFeeds(fx, latentsFile, sigma)),
      ...rope(fx.params, concatPositions(textPositions(T), gridPositions(GRID.h, GRID.w))),
      ref_k: f32(kv, refK),
      ref_v: f32(kv, refV),
      attention_bias: zeros([1, 1, T + N, T + N + R]),
      ref_layer_bias: f32([L, 1, R], new Float32Array(L * R).fill(refBias)),
    });
    return tokensOf(out.velocity!.data, fx.params.cfg.channels, N);
  };

  it("dit_step with the cached K/V = the KV pipeline's step-0 (extract) and step-1 (cached) velocities", async () => {
    const expected0 = await fx.npy('kv.step0.velocity.npy');
    expectClose(await cachedStep('velocity.latents.npy', 0.75), expected0.data, '9b-kv step 0 (extract)');
    expectClose(await cachedStep('kv.step1.latents.npy', 0.5), (await fx.npy('kv.step1.velocity.npy')).data, '9b-kv step 1 (cached)');
    // Cached mode is not full mode on this model: references at the step's timestep, seen both ways, differ.
    expect(maxAbsDiff(expected0.data, (await fx.npy('kv.step0.full_attention.npy')).data) / maxAbs(expected0.data)).toBeGreaterThan(100 * TOL);
  });

  it('ref_layer_bias at the "may not attend" value closes the references: the velocity without them', async () => {
    expectClose(await cachedStep('velocity.latents.npy', 0.75, BIAS_MIN), (await fx.npy('velocity.npy')).data, '9b-kv references closed');
  });
});
