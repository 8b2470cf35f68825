/**
 * SD3 / SD3.5's transformer converted by loadSd3Transformer and run as the studio's DiT graphs
 * (onnxruntime-web WASM), against what diffusers computed on the same folders
 * (fixtures/sd3/<name>/reference, see fixtures/README.md):
 * (a) dit_step without references equals diffusers' velocity at every committed size and prompt;
 * (b) the reference graphs keep the method's equalities on the SD3 layout;
 * (c) int8 / int4 packs stay within the derived quantization tolerance of diffusers' velocity.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDitReference, buildDitStep, type DitParams, type QkvParams } from '../../packbuild/models/dit';
import type { AttentionImpl, AttentionPieces, PrecisionSpec } from '../../packbuild/nn';
import { Rng } from '../../packbuild/params';
import { branchSets, f32, maxAbs, maxAbsDiff, randn, relRms, runGraph, type Feed } from '../../packbuild/testing/harness';
import { readNpy, type NpyArray } from '../../node/npy';
import type { JsonObject } from '../folder';
import { folderFromDisk } from '../node-source';
import { openCheckpoint, type TensorIndex } from '../safetensors';
import { planAttention, type PlanSubject } from '../../pipeline/attentionPlan';
import { loadSd3Transformer, sd3TransformerKeys } from './transformer';

const FIXTURES = new URL('../../../fixtures/sd3/', import.meta.url).pathname;
const FP32: PrecisionSpec = { matmul: 'fp32', conv: 'fp32', blockSize: 16 };
const WHOLE: AttentionPieces = { headsPerPiece: Number.POSITIVE_INFINITY, queryChunks: 1 };
/** The packs' attentionBiasMin: the "may not attend" bias. */
const BIAS_MIN = -10000;

interface Fixture {
  name: string;
  index: TensorIndex;
  config: JsonObject;
  files: Record<string, { what: string; shape: number[]; inputs?: Record<string, string | number> }>;
  npy: (file: string) => Promise<NpyArray>;
}

async function openFixture(name: string): Promise<Fixture> {
  const dir = `${FIXTURES}${name}`;
  const index = await openCheckpoint(await folderFromDisk(dir), 'transformer/diffusion_pytorch_model.safetensors');
  const config = JSON.parse(await readFile(`${dir}/transformer/config.json`, 'utf8')) as JsonObject;
  const { files } = JSON.parse(await readFile(`${dir}/reference/index.json`, 'utf8')) as Pick<Fixture, 'files'>;
  return { name, index, config, files, npy: (file) => readNpy(`${dir}/reference/${file}`) };
}

/** One step's inputs for batch 1: latents [1, C, h, w], text [1, M, textDim], pooled [1, P]. */
interface StepInputs {
  latents: NpyArray;
  timestep: number;
  text: NpyArray;
  pooled: NpyArray;
}

/** The velocity cases of reference/index.json: each output file with the inputs it names. */
async function velocityCase(fx: Fixture, file: string): Promise<{ inputs: StepInputs; expected: NpyArray }> {
  const inp = fx.files[file]?.inputs;
  if (!inp) throw new Error(`${fx.name} reference/index.json: ${file} has no inputs`);
  const str = (k: string) => {
    const v = inp[k];
    if (typeof v !== 'string') throw new Error(`${file}: input ${k} is not a file`);
    return fx.npy(v);
  };
  if (typeof inp.timestep !== 'number') throw new Error(`${file}: no timestep`);
  return {
    inputs: { latents: await str('latents'), timestep: inp.timestep, text: await str('encoder_hidden_states'), pooled: await str('pooled_projections') },
    expected: await fx.npy(file),
  };
}

const tokensOf = (latents: NpyArray, patch: number) => (latents.shape[2]! / patch) * (latents.shape[3]! / patch);

/**
 * dit_step feeds without a subject. 'none': zero reference tokens (ref_k [L, 1, 0, D]);
 * 'dummy': what the engine feeds (attentionPlan's dummy reference): one zero K/V column that
 * attention_bias closes with attentionBiasMin.
 */
function noReferenceFeeds(p: DitParams<QkvParams>, s: StepInputs, refs: 'none' | 'dummy'): Record<string, Feed> {
  const { layers: L, dim: D, patchSize } = p.cfg;
  const M = s.text.shape[1]!;
  const MN = M + tokensOf(s.latents, patchSize);
  const R = refs === 'none' ? 0 : 1;
  const bias = new Float32Array(MN * (MN + R));
  if (R) for (let r = 0; r < MN; r++) bias[r * (MN + 1) + MN] = BIAS_MIN;
  return {
    ...commonFeeds(s),
    ref_k: f32([L, 1, R, D], new Float32Array(L * R * D)),
    ref_v: f32([L, 1, R, D], new Float32Array(L * R * D)),
    attention_bias: f32([1, 1, MN, MN + R], bias),
    ref_layer_bias: f32([L, 1, R], new Float32Array(L * R)),
  };
}

function commonFeeds(s: StepInputs): Record<string, Feed> {
  return {
    latents: f32(s.latents.shape, s.latents.data),
    timestep: f32([1], Float32Array.of(s.timestep)),
    text_embeddings: f32(s.text.shape, s.text.data),
    pooled: f32(s.pooled.shape, s.pooled.data),
    text_set: branchSets(1),
    ref_set: branchSets(1),
  };
}

async function velocity(p: DitParams<QkvParams>, feeds: Record<string, Feed>, prec = FP32, impl: AttentionImpl = 'decomposed', pieces = WHOLE): Promise<Float32Array> {
  return (await runGraph(buildDitStep(p, prec, impl, 'cached', pieces), feeds)).velocity!.data;
}

/** The port's bar: max abs error <= 1e-4 of the output's scale. */
function expectClose(actual: Float32Array, expected: Float32Array, what: string): number {
  const err = maxAbsDiff(actual, expected);
  expect(err, what).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(expected)));
  return err;
}

const VELOCITY_FILES = ['velocity.npy', 'velocity_odd.npy', 'velocity_wide.npy', 'velocity_negative.npy'];

describe.each(['sd3', 'sd3.5'])('SD3 transformer port: fixtures/sd3/%s', (name) => {
  let fx: Fixture;
  let dit: DitParams<QkvParams>;
  beforeAll(async () => {
    fx = await openFixture(name);
    dit = await loadSd3Transformer(fx.index, fx.config);
  });

  it('reads every key of the layout and nothing else', () => {
    expect([...sd3TransformerKeys(fx.config).keys()].sort()).toEqual(fx.index.keys().sort());
    expect(dit.blocks.map((b) => 'o' in b.text)).toEqual(dit.blocks.map((_, l) => l < dit.blocks.length - 1));
  });

  it('names the key when the config and the weights disagree', async () => {
    const layers = dit.cfg.layers;
    // One block more: the old last block becomes a full one, with a 6-chunk norm1_context.
    await expect(loadSd3Transformer(fx.index, { ...fx.config, num_layers: layers + 1 })).rejects.toMatchObject({
      code: 'bad-shape',
      key: `transformer_blocks.${layers - 1}.norm1_context.linear.weight`,
    });
    if (name === 'sd3.5') {
      await expect(loadSd3Transformer(fx.index, { ...fx.config, qk_norm: null })).rejects.toMatchObject({ code: 'wrong-model', key: expect.stringMatching(/\.norm_(added_)?[qk]\.weight$/) });
    } else {
      await expect(loadSd3Transformer(fx.index, { ...fx.config, qk_norm: 'rms_norm' })).rejects.toMatchObject({ code: 'missing-key', key: 'transformer_blocks.0.attn.norm_q.weight' });
    }
  });

  it.each(VELOCITY_FILES)('(a) dit_step without references = diffusers %s', async (file) => {
    const { inputs, expected } = await velocityCase(fx, file);
    expect(expected.shape).toEqual(inputs.latents.shape);
    const none = await velocity(dit, noReferenceFeeds(dit, inputs, 'none'));
    const errNone = expectClose(none, expected.data, `${file}, zero reference tokens`);
    const dummy = await velocity(dit, noReferenceFeeds(dit, inputs, 'dummy'), FP32, 'mha', { headsPerPiece: 1, queryChunks: 3 });
    const errDummy = expectClose(dummy, expected.data, `${file}, the engine's dummy reference (mha, pieces)`);
    console.info(`${name} ${file}: max |ref| ${maxAbs(expected.data).toFixed(3)}, max abs err ${errNone.toExponential(2)} (no refs) / ${errDummy.toExponential(2)} (dummy ref), rel RMS ${relRms(none, expected.data).toExponential(2)}`);
  });

  describe('(b) references, at 128 px (8x8 patches: the crop and its reference fit the 32-patch table)', () => {
    const GRID = { height: 8, width: 8 };
    const rng = new Rng(name === 'sd3' ? 3 : 35);
    let windowed: DitParams<QkvParams>;
    let s: StepInputs;
    let refLatents: Float32Array;
    let refPooled: Float32Array;
    let noRefs: Float32Array;
    beforeAll(async () => {
      windowed = await loadSd3Transformer(fx.index, fx.config, { maxGrid: GRID });
      const C = windowed.cfg.latentChannels;
      const prompt = await fx.npy('prompt_embeds.npy');
      const M = 77; // the CLIP rows: enough text for these equalities
      s = {
        latents: { shape: [1, C, 16, 16], data: randn(rng, C * 16 * 16) },
        timestep: 600,
        text: { shape: [1, M, prompt.shape[2]!], data: prompt.data.slice(0, M * prompt.shape[2]!) },
        pooled: await fx.npy('pooled_prompt_embeds.npy'),
      };
      refLatents = randn(rng, 2 * C * 16 * 16);
      const negative = await fx.npy('negative_pooled_prompt_embeds.npy');
      refPooled = Float32Array.from([...s.pooled.data, ...negative.data]);
      noRefs = await velocity(windowed, noReferenceFeeds(windowed, s, 'none'));
    });

    it('keeps only the window it needs, and refuses sizes whose references leave the table', async () => {
      const c = windowed.cfg.centredPositions!;
      expect(c.stored).toEqual({ top: 12, left: 12, rows: 8, cols: 16 });
      expect(windowed.pos.length).toBe(8 * 16 * windowed.cfg.dim);
      // The window reads the same rows of the table as the whole table, here and for a smaller grid.
      expectClose(noRefs, await velocity(dit, noReferenceFeeds(dit, s, 'none')), 'window vs whole table, 8x8 patches');
      const small = { ...s, latents: { shape: [1, s.latents.shape[1]!, 12, 8], data: s.latents.data.slice(0, s.latents.shape[1]! * 96) } };
      expectClose(await velocity(windowed, noReferenceFeeds(windowed, small, 'none')), await velocity(dit, noReferenceFeeds(dit, small, 'none')), 'window vs whole table, 6x4 patches');
      // 256 px: 16 patches centred at column 8, its reference at columns 24..39 of a 32-column table.
      await expect(loadSd3Transformer(fx.index, fx.config, { maxGrid: { height: 16, width: 16 } })).rejects.toThrow(/columns 24\.\.39: outside the 32x32 positional table/);
      const big = (await velocityCase(fx, 'velocity.npy')).inputs;
      await expect(velocity(windowed, noReferenceFeeds(windowed, big, 'none'))).rejects.toThrow(/broadcast/);
    });

    /** Two subjects of one reference each (the second off below layer 1), as the engine plans them. */
    const subjects = (gamma: number): PlanSubject[] => [
      { gamma: 1.4 * gamma, refSets: [{ tokens: 64, gammaScale: 1, mask: null }], conceptPositions: [2, 3] },
      { gamma: 0.7 * gamma, refSets: [{ tokens: 64, gammaScale: 1, mask: null }], conceptPositions: [5], layerStart: 1 },
    ];
    const plan = (mode: 'cached' | 'full', gamma = 1) =>
      planAttention({ textTokens: 77, imageTokens: 64, subjects: subjects(gamma), mode, refsSeeContext: false, layers: windowed.cfg.layers, biasMin: BIAS_MIN });

    async function cachedStep(gamma: number, layerBias?: Float32Array): Promise<Float32Array> {
      const { layers: L, dim: D, latentChannels: C, pooledDim } = windowed.cfg;
      const kv = await runGraph(buildDitReference(windowed, FP32, 'decomposed', WHOLE), {
        ref_latents: f32([2, C, 16, 16], refLatents),
        ref_pooled: f32([2, pooledDim], refPooled),
      });
      const pl = plan('cached', gamma);
      // ref_k [L, 2 refs, 64, D] is, byte for byte, [L, 1 batch, 128 reference tokens, D].
      return velocity(windowed, {
        ...commonFeeds(s),
        ref_k: f32([L, 1, 128, D], kv.ref_k!.data),
        ref_v: f32([L, 1, 128, D], kv.ref_v!.data),
        attention_bias: f32([1, 1, pl.rows, pl.cols], pl.bias),
        ref_layer_bias: f32([L, 1, 128], layerBias ?? pl.layerBias),
      });
    }

    it('cached mode equals full mode when references see neither text nor image', async () => {
      const { layers: L, latentChannels: C, pooledDim } = windowed.cfg;
      const cached = await cachedStep(1);
      const pl = plan('full');
      const graph = buildDitStep(windowed, FP32, 'decomposed', 'full', { headsPerPiece: 2, queryChunks: 2 });
      // The image stream's weights (attn2 and q/k norms included) and the table run twice here, stored once.
      const weights = graph.initializers.filter((t) => t.dtype === 'float32' && t.raw.byteLength >= 32).map((t) => Buffer.from(t.raw).toString('base64'));
      expect(new Set(weights).size).toBe(weights.length);
      const full = (await runGraph(graph, {
        ...commonFeeds(s),
        ref_latents: f32([1, 2, C, 16, 16], refLatents),
        ref_pooled: f32([1, 2, pooledDim], refPooled),
        attention_bias: f32([1, 1, pl.rows, pl.cols], pl.bias),
        ref_layer_bias: f32([L, 1, 128], pl.layerBias),
      })).velocity!.data;
      const err = expectClose(cached, full, 'cached vs full');
      console.info(`${name} (b) cached vs full: max abs ${err.toExponential(2)}, max |v| ${maxAbs(full).toFixed(3)}; with vs without references: rel RMS ${relRms(cached, noRefs).toFixed(3)}`);
      // The references do change the result: the equality is not one of two unconditioned steps.
      expect(relRms(cached, noRefs)).toBeGreaterThan(0.05);
    });

    it('closed reference columns (gamma 0, or ref_layer_bias at attentionBiasMin) give the step without references', async () => {
      const gamma0 = expectClose(await cachedStep(0), noRefs, 'gamma 0');
      const layerClosed = expectClose(await cachedStep(1, new Float32Array(windowed.cfg.layers * 128).fill(BIAS_MIN)), noRefs, 'ref_layer_bias closed');
      console.info(`${name} (b) closed references vs none: max abs ${gamma0.toExponential(2)} (gamma 0) / ${layerClosed.toExponential(2)} (ref_layer_bias)`);
    });
  });

  /**
   * (c) Quantization error, bounded as docs/pack-format.md 9.1 derives it: each quantized layer's
   * rounding adds a relative RMS error of 1 / (2 qmax) (qmax 127 for int8, 7 for int4, its step the
   * max |w| of a column or of a block of 16 inputs), independent errors add in quadrature over the d
   * quantized layers of the longest path, and the test allows twice that: 2 sqrt(d) / (2 qmax).
   * Longest path of dit_step: timestep linear_1, linear_2, a block's modulation, then per block qkv,
   * o, mlp1, mlp2 (attn2's qkv and o run beside qkv and o), then proj_out: d = 4 layers + 4 (12 for
   * sd3, 16 for sd3.5). int4 keeps the convolution int8. fp16 rounds each weight to nearest with a
   * relative error of at most 2^-11 (its own magnitude, not a column's), so 1 / (2 qmax) becomes 2^-11;
   * it keeps the convolution fp32.
   */
  it.each([
    { matmul: 'fp16', conv: 'fp32', blockSize: 16 },
    { matmul: 'int8', conv: 'int8', blockSize: 16 },
    { matmul: 'int4', conv: 'int8', blockSize: 16 },
  ] as PrecisionSpec[])('(c) $matmul velocity within the quantization tolerance of diffusers', async (prec) => {
    const { inputs, expected } = await velocityCase(fx, 'velocity.npy');
    const got = await velocity(dit, noReferenceFeeds(dit, inputs, 'none'), prec);
    const depth = 4 * dit.cfg.layers + 4;
    const perLayer = prec.matmul === 'fp16' ? 2 ** -11 : 1 / (2 * (prec.matmul === 'int4' ? 7 : 127));
    const tolerance = 2 * Math.sqrt(depth) * perLayer;
    const err = relRms(got, expected.data);
    console.info(`${name} (c) ${prec.matmul}: velocity rel RMS ${(100 * err).toFixed(2)} % (tolerance ${(100 * tolerance).toFixed(1)} %), max abs ${maxAbsDiff(got, expected.data).toPrecision(6)}`);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThanOrEqual(tolerance);
  });
});
