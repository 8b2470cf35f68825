/**
 * FLUX.2 klein's transformer converted by loadFlux2Transformer and run as the studio's FLUX.2
 * graphs (onnxruntime-web WASM), against what diffusers computed on the same random-weight folders
 * (fixtures/flux2/<variant>/reference, fixtures/make_flux2_fixtures.py):
 * - the positions and RoPE tables equal the pipeline's ids and Flux2PosEmbed's tables;
 * - klein 4B and base 4B (full mode): the velocity without references, and with 1 and 2
 *   references after the noisy tokens (Flux2KleinPipeline's layout), to 1e-4 of max |ref|;
 * - klein 9B-kv (cached mode, bf16 weights): flux2_reference gives the KV pipeline's cached K
 *   (after norm and RoPE) and V of every layer, and flux2_step with them gives its step-0 (extract)
 *   and step-1 (cached) velocities.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { concatPositions, gridPositions, referenceTime, ropeTables, textPositions, type Positions } from '../../families/flux2-positions';
import { buildFlux2Reference, buildFlux2Step, type Flux2Params } from '../../packbuild/models/flux2';
import type { PrecisionSpec } from '../../packbuild/nn';
import { f32, maxAbs, maxAbsDiff, relRms, runGraph, type Feed } from '../../packbuild/testing/harness';
import { readNpy, type NpyArray } from '../../node/npy';
import type { JsonObject } from '../folder';
import { folderFromDisk } from '../node-source';
import { openCheckpoint } from '../safetensors';
import { readInt64Npy } from '../testing/npy-int64';
import { loadFlux2Transformer } from './transformer';

const FIXTURES = new URL('../../../fixtures/flux2/', import.meta.url).pathname;
const FP32: PrecisionSpec = { matmul: 'fp32', conv: 'fp32', blockSize: 16 };
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

/** The first `rows` rows of a [3, T, J] prompt_embeds. */
function firstPrompt(embeds: NpyArray): Feed {
  const [, T, J] = embeds.shape as [number, number, number];
  return f32([1, T, J], embeds.data.slice(0, T * J) as Float32Array);
}

function rope(p: Flux2Params, ids: Positions, prefix = ''): Record<string, Feed> {
  const t = ropeTables(ids, p.cfg.axesDims, p.cfg.ropeTheta);
  const half = t.cos.length / t.tokens;
  return { [`${prefix}rope_cos`]: f32([t.tokens, half], t.cos), [`${prefix}rope_sin`]: f32([t.tokens, half], t.sin) };
}

/** The noisy grid of the velocity fixtures: 64 x 96 px, 4 x 6 tokens. */
const GRID = { h: 4, w: 6 };
/** The reference grids (64 x 80 and 80 x 64 px), in order. */
const REF_GRIDS = [
  { h: 4, w: 5 },
  { h: 5, w: 4 },
];
const refPositions = (n: number) => concatPositions(...REF_GRIDS.slice(0, n).map((r, i) => gridPositions(r.h, r.w, referenceTime(i))));

describe('FLUX.2 positions and RoPE tables', () => {
  it("equal the pipeline's ids and Flux2PosEmbed's interleaved cos / sin", async () => {
    const fx = await openFixture('klein-4b');
    const text = textPositions(64);
    expect(Array.from(text)).toEqual(await fx.ids('text_ids.npy'));
    expect(Array.from(gridPositions(GRID.h, GRID.w))).toEqual(await fx.ids('velocity.img_ids.npy'));
    expect(Array.from(refPositions(1))).toEqual(await fx.ids('refs1.ids.npy'));
    expect(Array.from(refPositions(2))).toEqual(await fx.ids('refs2.ids.npy'));
    const t = ropeTables(concatPositions(text, gridPositions(GRID.h, GRID.w)), fx.params.cfg.axesDims, fx.params.cfg.ropeTheta);
    const half = t.cos.length / t.tokens;
    // diffusers repeats each value for the pair (2j, 2j + 1).
    const interleave = (a: Float32Array) => Float32Array.from({ length: a.length * 2 }, (_, i) => a[Math.floor(i / (2 * half)) * half + (Math.floor(i / 2) % half)]!);
    expect(maxAbsDiff(interleave(t.cos), (await fx.npy('velocity.act.rope_cos.npy')).data)).toBeLessThan(1e-6);
    expect(maxAbsDiff(interleave(t.sin), (await fx.npy('velocity.act.rope_sin.npy')).data)).toBeLessThan(1e-6);
  });
});

for (const variant of ['klein-4b', 'klein-base-4b']) {
  describe(`FLUX.2 transformer, full mode: fixtures/flux2/${variant}`, () => {
    let fx: Fixture;
    let base: Record<string, Feed>;
    beforeAll(async () => {
      fx = await openFixture(variant);
      const latents = await fx.npy('velocity.latents.npy');
      base = { image: f32([...latents.shape], latents.data as Float32Array), text: firstPrompt(await fx.npy('prompt_embeds.npy')), timestep: f32([1], Float32Array.of(0.75)) };
    });
    const noisy = () => concatPositions(textPositions(64), gridPositions(GRID.h, GRID.w));

    it("flux2_step_plain without references = diffusers' velocity (prompt and the empty negative)", async () => {
      const graph = buildFlux2Step(fx.params, FP32, 'plain');
      const out = await runGraph(graph, { ...base, ...rope(fx.params, noisy()) });
      expect(out.velocity!.dims).toEqual([1, 24, fx.params.cfg.channels]);
      expectClose(out.velocity!.data, (await fx.npy('velocity.npy')).data, `${variant} velocity`);
      const embeds = await fx.npy('prompt_embeds.npy');
      const [, T, J] = embeds.shape as [number, number, number];
      const negative = f32([1, T, J], embeds.data.slice(T * J, 2 * T * J) as Float32Array);
      const neg = await runGraph(graph, { ...base, text: negative, ...rope(fx.params, noisy()) });
      expectClose(neg.velocity!.data, (await fx.npy('velocity_negative.npy')).data, `${variant} velocity_negative`);
    });

    for (const n of [1, 2]) {
      it(`flux2_step_full with ${n} reference${n > 1 ? 's' : ''} after the noisy tokens = diffusers' velocity`, async () => {
        const refs = await fx.npy(`refs${n}.tokens.npy`);
        const ids = concatPositions(noisy(), refPositions(n));
        const out = await runGraph(buildFlux2Step(fx.params, FP32, 'full'), { ...base, ref_image: f32([...refs.shape], refs.data as Float32Array), ...rope(fx.params, ids) });
        const expected = await fx.npy(`velocity_refs${n}.npy`);
        expectClose(out.velocity!.data, expected.data, `${variant} velocity_refs${n}`);
        // The references matter: the step without them is far from this one.
        expect(maxAbsDiff(expected.data, (await fx.npy('velocity.npy')).data) / maxAbs(expected.data)).toBeGreaterThan(100 * TOL);
      });
    }
  });
}

describe('FLUX.2 transformer, cached mode: fixtures/flux2/klein-9b-kv (bf16 weights)', () => {
  let fx: Fixture;
  let refK: Float32Array;
  let refV: Float32Array;
  let text: Feed;
  beforeAll(async () => {
    fx = await openFixture('klein-9b-kv');
    text = firstPrompt(await fx.npy('prompt_embeds.npy'));
    const refs = await fx.npy('refs1.tokens.npy');
    const out = await runGraph(buildFlux2Reference(fx.params, FP32), { ref_image: f32([...refs.shape], refs.data as Float32Array), ...rope(fx.params, refPositions(1), 'ref_') });
    refK = out.ref_k!.data;
    refV = out.ref_v!.data;
  });

  it("flux2_reference gives the KV pipeline's cached K (after norm and RoPE) and V of every layer", async () => {
    const { doubleLayers, singleLayers, dim } = fx.params.cfg;
    const layer = doubleLayers + singleLayers;
    expect(refK.length).toBe(layer * 20 * dim);
    // The cache files are [layers, 1, 20, heads, head dim]: the same order as our [layers, 1, 20, dim].
    const cat = async (kind: 'k' | 'v') => {
      const d = await fx.npy(`kv.cache.double.${kind}.npy`);
      const s = await fx.npy(`kv.cache.single.${kind}.npy`);
      const all = new Float32Array(d.data.length + s.data.length);
      all.set(d.data as Float32Array);
      all.set(s.data as Float32Array, d.data.length);
      return all;
    };
    expectClose(refK, await cat('k'), '9b-kv cached K');
    expectClose(refV, await cat('v'), '9b-kv cached V');
  });

  const cachedStep = async (latentsFile: string, sigma: number) => {
    const latents = await fx.npy(latentsFile);
    const kv = [kvLayers(fx.params), 1, 20, fx.params.cfg.dim];
    return runGraph(buildFlux2Step(fx.params, FP32, 'cached'), {
      image: f32([...latents.shape], latents.data as Float32Array),
      text,
      timestep: f32([1], Float32Array.of(sigma)),
      ...rope(fx.params, concatPositions(textPositions(64), gridPositions(GRID.h, GRID.w))),
      ref_k: f32(kv, refK),
      ref_v: f32(kv, refV),
    });
  };
  const kvLayers = (p: Flux2Params) => p.cfg.doubleLayers + p.cfg.singleLayers;

  it("flux2_step with the cached K/V = the KV pipeline's step-0 (extract) and step-1 (cached) velocities", async () => {
    const step0 = await cachedStep('velocity.latents.npy', 0.75);
    const expected0 = await fx.npy('kv.step0.velocity.npy');
    expectClose(step0.velocity!.data, expected0.data, '9b-kv step 0 (extract)');
    const step1 = await cachedStep('kv.step1.latents.npy', 0.5);
    expectClose(step1.velocity!.data, (await fx.npy('kv.step1.velocity.npy')).data, '9b-kv step 1 (cached)');
    // Cached mode is not full mode on this model: references at the step's timestep, seen both ways, differ.
    expect(maxAbsDiff(expected0.data, (await fx.npy('kv.step0.full_attention.npy')).data) / maxAbs(expected0.data)).toBeGreaterThan(100 * TOL);
  });
});
