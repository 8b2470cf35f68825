/**
 * Whole FLUX.2 klein sampling loops with the studio's graphs against diffusers' Flux2KleinPipeline
 * on the same initial noise (fixtures/flux2/<variant>/reference/pipe*.npy): klein 4B (distilled:
 * one branch, no CFG) and base 4B (CFG 4 with the "" negative), each without and with one
 * reference (full mode, the reference after the noisy tokens in every branch, as the pipeline
 * does). The text embeddings are the pipeline's (the text encoder is checked on its own in
 * qwen3.test.ts); the schedule is flux2Sigmas; the Euler update and the timestep the transformer
 * sees are rounded to float32 as diffusers computes them. Every step's latents are compared.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { concatPositions, gridPositions, referenceTime, ropeTables, textPositions } from '../../families/flux2-positions';
import { flux2Sigmas } from '../../families/flux2-schedule';
import { buildFlux2Step, type Flux2Params } from '../../packbuild/models/flux2';
import type { PrecisionSpec } from '../../packbuild/nn';
import { f32, maxAbs, maxAbsDiff, runGraph, type Feed } from '../../packbuild/testing/harness';
import { readNpy, type NpyArray } from '../../node/npy';
import type { JsonObject } from '../folder';
import { folderFromDisk } from '../node-source';
import { openCheckpoint } from '../safetensors';
import { loadFlux2Transformer } from './transformer';

const FIXTURES = new URL('../../../fixtures/flux2/', import.meta.url).pathname;
const FP32: PrecisionSpec = { matmul: 'fp32', conv: 'fp32', blockSize: 32 };
const BIAS_MIN = -10000;
const f = Math.fround;

interface PipeRun {
  sigmas: number[];
}

/** The timestep the transformer embeds for a sigma: the pipeline passes fl(fl(1000 s) / 1000), the model multiplies by 1000. */
const modelTimestep = (sigma: number) => f(f(f(f(sigma) * 1000) / 1000) * 1000);

/** Row-major tokens [1, h w, C] <-> a grid [1, C, h, w]. */
function toGrid(tokens: Float32Array, C: number, n: number): Float32Array {
  return Float32Array.from({ length: tokens.length }, (_, i) => tokens[(i % n) * C + Math.floor(i / n)]!);
}
function toTokens(grid: Float32Array, C: number, n: number): Float32Array {
  return Float32Array.from({ length: grid.length }, (_, i) => grid[(i % C) * n + Math.floor(i / C)]!);
}

for (const [variant, cfgScale] of [
  ['klein-4b', null],
  ['klein-base-4b', 4],
] as const) {
  describe(`FLUX.2 sampling loop = Flux2KleinPipeline: fixtures/flux2/${variant}`, () => {
    let params: Flux2Params;
    let npy: (file: string) => Promise<NpyArray>;
    let runs: Record<string, PipeRun>;
    beforeAll(async () => {
      const dir = `${FIXTURES}${variant}`;
      const index = await openCheckpoint(await folderFromDisk(dir), 'transformer/diffusion_pytorch_model.safetensors');
      params = await loadFlux2Transformer(index, JSON.parse(await readFile(`${dir}/transformer/config.json`, 'utf8')) as JsonObject);
      npy = (file) => readNpy(`${dir}/reference/${file}`);
      runs = (JSON.parse(await readFile(`${dir}/reference/index.json`, 'utf8')) as { pipeline_runs: Record<string, PipeRun> }).pipeline_runs;
    });

    for (const run of ['pipe', 'pipe_ref1'] as const) {
      it(`${run}: every step's latents to 1e-4 of max |ref|${cfgScale ? `, CFG ${cfgScale}` : ', no CFG'}`, async () => {
        const { channels: C } = params.cfg;
        const noise = await npy('pipe.noise.npy');
        const [, , h, w] = noise.shape as [number, number, number, number];
        const N = h * w;
        const embeds = await npy('prompt_embeds.npy');
        const [, T, J] = embeds.shape as [number, number, number];
        const steps = runs[run]!.sigmas.length - 1;
        const sigmas = flux2Sigmas(steps, N);
        expect(Array.from(sigmas)).toEqual(runs[run]!.sigmas);

        // The branches of one step, batched: [negative, prompt] with CFG, [prompt] without.
        const branches = cfgScale ? 2 : 1;
        const textSets = f32([2, T, J], embeds.data.slice(0, 2 * T * J));
        const textSet: Feed = { type: 'int64', dims: [branches], data: BigInt64Array.from(cfgScale ? [1n, 0n] : [0n]) };
        const L = params.cfg.doubleLayers + params.cfg.singleLayers;
        const zeros = (dims: number[]) => f32(dims, new Float32Array(dims.reduce((a, b) => a * b, 1)));
        let graphFeeds: Record<string, Feed>;
        let graph;
        const textImage = concatPositions(textPositions(T), gridPositions(h, w));
        if (run === 'pipe_ref1') {
          const ref = await npy('refs1.tokens.npy');
          const [rh, rw] = [4, 5];
          const R = rh * rw;
          const t = ropeTables(concatPositions(textImage, gridPositions(rh, rw, referenceTime(0))), params.cfg.axesDims, params.cfg.ropeTheta);
          graph = buildFlux2Step(params, FP32, 'decomposed', 'full');
          graphFeeds = {
            ref_latents: f32([1, 1, C, rh, rw], toGrid(ref.data, C, R)),
            ref_set: { type: 'int64', dims: [branches], data: new BigInt64Array(branches) },
            attention_bias: zeros([branches, 1, T + N + R, T + N + R]),
            ref_layer_bias: zeros([L, branches, R]),
            rope_cos: f32([t.tokens, t.cos.length / t.tokens], t.cos),
            rope_sin: f32([t.tokens, t.sin.length / t.tokens], t.sin),
          };
        } else {
          const t = ropeTables(textImage, params.cfg.axesDims, params.cfg.ropeTheta);
          const bias = new Float32Array(branches * (T + N) * (T + N + 1));
          for (let r = 0; r < branches * (T + N); r++) bias[r * (T + N + 1) + T + N] = BIAS_MIN;
          graph = buildFlux2Step(params, FP32, 'decomposed', 'cached');
          graphFeeds = {
            ref_k: zeros([L, 1, 1, params.cfg.dim]),
            ref_v: zeros([L, 1, 1, params.cfg.dim]),
            ref_set: { type: 'int64', dims: [branches], data: new BigInt64Array(branches) },
            attention_bias: f32([branches, 1, T + N, T + N + 1], bias),
            ref_layer_bias: zeros([L, branches, 1]),
            rope_cos: f32([t.tokens, t.cos.length / t.tokens], t.cos),
            rope_sin: f32([t.tokens, t.sin.length / t.tokens], t.sin),
          };
        }

        const expected = await npy(`${run}.step_latents.npy`);
        let x = noise.data.slice();
        for (let i = 0; i < steps; i++) {
          const batch = new Float32Array(branches * x.length);
          for (let b = 0; b < branches; b++) batch.set(x, b * x.length);
          const out = await runGraph(graph, {
            ...graphFeeds,
            latents: f32([branches, C, h, w], batch),
            timestep: f32([branches], new Float32Array(branches).fill(modelTimestep(sigmas[i]!))),
            text_embeddings: textSets,
            text_set: textSet,
          });
          const v = out.velocity!.data;
          const dt = f(f(sigmas[i + 1]!) - f(sigmas[i]!));
          const n = x.length;
          x = Float32Array.from(x, (xi, j) => {
            // diffusers: noise_pred = neg + scale (pos - neg), then prev = sample + dt * noise_pred.
            const guided = cfgScale ? f(v[j]! + f(cfgScale * f(v[n + j]! - v[j]!))) : v[j]!;
            return f(xi + f(dt * guided));
          });
          const want = expected.data.subarray(i * n, (i + 1) * n);
          const err = maxAbsDiff(toTokens(x, C, N), want) / maxAbs(want);
          console.info(`${variant} ${run} step ${i + 1}/${steps}: max abs err ${err.toExponential(2)} of max |ref|`);
          expect(err, `step ${i + 1}`).toBeLessThan(1e-4);
        }
      });
    }
  });
}
