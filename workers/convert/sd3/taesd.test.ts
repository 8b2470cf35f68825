/**
 * The TAESD3 preview decoder against the real diffusers AutoencoderTiny: the committed fixture
 * folder (fixtures/taesd3, random weights, TAESD3's layout at width 8) and what
 * AutoencoderTiny.decode computed on it (reference/decode*.npy, see fixtures/README.md). Then the
 * optional preview_decoder role end to end: a converted SD3 fixture pack with and without it,
 * through the manifest checks, the loader, the graph choice and the memory plan.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseGraphs, loadPackFromDir } from '../../node/engine';
import { readNpy, type NpyArray } from '../../node/npy';
import { parseManifest, type PackManifest } from '../../pack/manifest';
import { f32, maxAbs, maxAbsDiff, runGraph } from '../../packbuild/testing/harness';
import { planPack } from '../../plan/pack-plan';
import type { JsonObject } from '../folder';
import { folderFromDisk } from '../node-source';
import { openCheckpoint, type TensorIndex, type TensorInfo } from '../safetensors';
import { buildPreviewDecoder, loadPreviewFolder, loadTaesdDecoder, readTaesdConfig, taesdUpscale, type TaesdDecoderParams } from './taesd';
import { convertFixture } from './testing/fixture-packs';

const FIXTURE = new URL('../../../fixtures/taesd3/', import.meta.url).pathname;
const ref = (file: string): Promise<NpyArray> => readNpy(join(FIXTURE, 'reference', `${file}.npy`));

/** fp32 against fp32 (diffusers on the CPU): only summation order differs. */
const tolerance = (expected: NpyArray) => 1e-4 * Math.max(1, maxAbs(expected.data));

async function decode(params: TaesdDecoderParams, latents: NpyArray) {
  return (await runGraph(buildPreviewDecoder(params), { latent: f32(latents.shape, latents.data) })).image!;
}

/** A TensorIndex that hides one key, misreports another's shape or adds a key, to check the loader's messages. */
function tampered(index: TensorIndex, change: { hide?: string; reshape?: { key: string; shape: number[] }; add?: string }): TensorIndex {
  const extra = change.add;
  return {
    name: index.name,
    files: index.files,
    metadata: index.metadata,
    keys: () => [...index.keys().filter((k) => k !== change.hide), ...(extra ? [extra] : [])],
    has: (key) => key !== change.hide && (key === extra || index.has(key)),
    info: (key): TensorInfo => (change.reshape?.key === key ? { ...index.info(key), shape: change.reshape.shape } : index.info(key)),
    readTensorRaw: (key, options) => index.readTensorRaw(key, options),
    readTensor: (key, options) => index.readTensor(key, options),
  };
}

describe('TAESD3 preview decoder vs diffusers AutoencoderTiny, fixtures/taesd3', () => {
  let config: JsonObject;
  let index: TensorIndex;
  let params: TaesdDecoderParams;

  beforeAll(async () => {
    config = JSON.parse(await readFile(join(FIXTURE, 'config.json'), 'utf8')) as JsonObject;
    index = await openCheckpoint(await folderFromDisk(FIXTURE), 'diffusion_pytorch_model.safetensors');
    params = await loadTaesdDecoder(index, config);
  });

  it('reads the layout of the config: 16 latent channels, stages (3, 3, 3, 1), 8x', () => {
    expect(params.config).toEqual({ latentChannels: 16, outChannels: 3, blockOutChannels: [8, 8, 8, 8], numBlocks: [3, 3, 3, 1], upsampleFactor: 2, scalingFactor: 1, shiftFactor: 0 });
    expect(taesdUpscale(params.config)).toBe(8);
    expect(params.stages.map((s) => [s.blocks.length, s.upsampleConv !== null])).toEqual([
      [3, true],
      [3, true],
      [3, true],
      [1, false],
    ]);
  });

  for (const name of ['decode', 'decode_odd']) {
    it(`decodes ${name}.latents to the unclamped image of diffusers`, async () => {
      const [latents, expected] = await Promise.all([ref(`${name}.latents`), ref(`${name}.image`)]);
      const image = await decode(params, latents);
      expect(image.dims).toEqual(expected.shape);
      const err = maxAbsDiff(image.data, expected.data);
      expect(err, `${name}: max abs error ${err}`).toBeLessThanOrEqual(tolerance(expected));
    });
  }

  it('fails the comparison when one block is wrong (two blocks of a stage swapped)', async () => {
    const [latents, expected] = await Promise.all([ref('decode.latents'), ref('decode.image')]);
    const [a, b, c] = params.stages[1]!.blocks;
    const swapped: TaesdDecoderParams = { ...params, stages: params.stages.map((s, i) => (i === 1 ? { ...s, blocks: [b!, a!, c!] } : s)) };
    expect(maxAbsDiff((await decode(swapped, latents)).data, expected.data)).toBeGreaterThan(100 * tolerance(expected));
  });

  it('applies the config scaling as StableDiffusion3Pipeline does: latent / scaling_factor + shift_factor', async () => {
    const [latents, expected] = await Promise.all([ref('decode.latents'), ref('decode.image')]);
    const scaled = await loadTaesdDecoder(index, { ...config, scaling_factor: 1.5, shift_factor: 0.25 });
    // z = latent / 1.5 + 0.25 equals the reference latents when latent = 1.5 (reference - 0.25).
    const unscaled = { data: latents.data.map((v) => 1.5 * (v - 0.25)), shape: latents.shape } as NpyArray;
    expect(maxAbsDiff((await decode(scaled, unscaled)).data, expected.data)).toBeLessThanOrEqual(tolerance(expected));
  });

  it('names the key and the shapes when a tensor is missing, misshapen or not in the layout', async () => {
    await expect(loadTaesdDecoder(tampered(index, { hide: 'decoder.layers.13.conv.2.bias' }), config)).rejects.toThrow(/decoder\.layers\.13\.conv\.2\.bias is missing/);
    await expect(loadTaesdDecoder(tampered(index, { reshape: { key: 'decoder.layers.0.weight', shape: [8, 4, 3, 3] } }), config)).rejects.toThrow(
      /decoder\.layers\.0\.weight has shape \[8, 4, 3, 3\], expected \[8, 16, 3, 3\]/,
    );
    // A bias on the bias-free upsample conv: the file and the layout disagree.
    await expect(loadTaesdDecoder(tampered(index, { add: 'decoder.layers.6.bias' }), config)).rejects.toThrow(/holds decoder\.layers\.6\.bias, which the decoder layout/);
    // One block fewer in the config than in the file: the final conv is looked for where the file has a block.
    await expect(loadTaesdDecoder(index, { ...config, num_decoder_blocks: [3, 3, 3, 0] })).rejects.toThrow(/decoder\.layers\.17\.weight is missing/);
  });

  it('refuses configs DecoderTiny cannot run or that are not TAESD', () => {
    expect(() => readTaesdConfig({ ...config, _class_name: 'AutoencoderKL' })).toThrow(/_class_name is "AutoencoderKL", not AutoencoderTiny/);
    expect(() => readTaesdConfig({ ...config, act_fn: 'silu' })).toThrow(/act_fn is "silu", not relu/);
    expect(() => readTaesdConfig({ ...config, decoder_block_out_channels: [8, 8, 16, 8] })).toThrow(/differ; DecoderTiny runs only with one width/);
    expect(() => readTaesdConfig({ ...config, num_decoder_blocks: [3, 3, 3] })).toThrow(/one width per stage/);
  });

  it('refuses a TAESD for another latent space, and says the error is about the preview folder', async () => {
    const folder = await folderFromDisk(FIXTURE);
    await expect(loadPreviewFolder(folder, { latentChannels: 4, downsample: 8 })).rejects.toThrow(
      /^the preview folder \(TAESD\): it decodes 16-channel latents 8x, the model's VAE 4-channel latents 8x; for SD3 \/ SD3\.5 use madebyollin\/taesd3$/,
    );
    await expect(loadPreviewFolder(await folderFromDisk(join(FIXTURE, 'reference')), { latentChannels: 16, downsample: 8 })).rejects.toThrow(
      /^the preview folder \(TAESD\): diffusion_pytorch_model\.safetensors is missing/,
    );
  });
});

describe('the optional preview_decoder role, on converted SD3 fixture packs', () => {
  let withPreview: { dir: string; manifest: PackManifest };
  let without: { dir: string; manifest: PackManifest };

  beforeAll(async () => {
    const read = async (dir: string) => ({ dir, manifest: parseManifest(await readFile(join(dir, 'manifest.json'), 'utf8')) });
    withPreview = await read(await convertFixture('sd3', { sizes: [128], preview: await folderFromDisk(FIXTURE) }));
    without = await read(await convertFixture('sd3', { sizes: [128] }));
  }, 60_000);

  it('is in the pack only when the converter is given a TAESD folder, with the vae_decoder contract', () => {
    expect(without.manifest.graphs.some((g) => g.role === 'preview_decoder')).toBe(false);
    const g = withPreview.manifest.graphs.find((x) => x.role === 'preview_decoder')!;
    expect(g).toMatchObject({ file: 'preview_decoder.onnx', attention: 'none', precision: { matmul: 'fp32', conv: 'fp32' }, externalData: [] });
    expect(g.inputs).toEqual([{ name: 'latent', dtype: 'float32', shape: ['batch', 16, 'latent_height', 'latent_width'] }]);
    expect(g.outputs).toEqual([{ name: 'image', dtype: 'float32', shape: ['batch', 3, 'height', 'width'] }]);
  });

  it('is checked like any role: attention "none" is right for it, a second portable graph is refused', () => {
    const g = withPreview.manifest.graphs.find((x) => x.role === 'preview_decoder')!;
    const twice = { ...withPreview.manifest, graphs: [...withPreview.manifest.graphs, { ...g, file: 'preview_decoder.copy.onnx' }] };
    expect(() => parseManifest(twice)).toThrow(/exactly one preview_decoder graph with portable \(non-mha\) attention, it has 2/);
    const withInput = { ...withPreview.manifest, graphs: withPreview.manifest.graphs.map((x) => (x === g ? { ...x, inputs: [...x.inputs, { name: 'timestep', dtype: 'float32', shape: ['batch'] }] } : x)) };
    expect(() => parseManifest(withInput)).toThrow(/graph preview_decoder \(preview_decoder\.onnx\) has input "timestep" that the engine cannot feed/);
    // A required role is still required.
    expect(() => parseManifest({ ...without.manifest, graphs: without.manifest.graphs.filter((x) => x.role !== 'vae_decoder') })).toThrow(/the pack has no vae_decoder graph/);
  });

  it('loads with and without it: the loader fetches and verifies it, the graph choice keeps it', async () => {
    const loaded = await loadPackFromDir(withPreview.dir);
    expect(loaded.graphs.get('preview_decoder')?.file).toBe('preview_decoder.onnx');
    expect(chooseGraphs(loaded.manifest, 'mha').get('preview_decoder')?.attention).toBe('none');
    const plain = await loadPackFromDir(without.dir);
    expect(plain.graphs.has('preview_decoder')).toBe(false);
    expect([...plain.graphs.keys()].sort()).toEqual(['dit_reference', 'dit_step', 'dit_step_full', 'text_encoder', 'vae_decoder', 'vae_encoder']);
  });

  it('is planned as a sampling-phase session where the pack has one, and only there', () => {
    const budget = 8 * 2 ** 30;
    const plain = planPack(without.manifest, budget).plan;
    const plan = planPack(withPreview.manifest, budget).plan;
    expect(plain.rows.some((r) => r.role === 'preview_decoder')).toBe(false);
    const row = plan.rows.find((r) => r.role === 'preview_decoder')!;
    const g = withPreview.manifest.graphs.find((x) => x.role === 'preview_decoder')!;
    expect(row).toMatchObject({ phase: 'sampling', residency: 'resident', weightsBytes: g.bytes });
    // TAESD's working set at 128 x 128: a block's input, a conv's input and output, 64 channels each.
    expect(row.peakActivationBytes).toBe(16 * 16 * 16 * 4 + 3 * 128 * 128 * 4 + 3 * 64 * 128 * 128 * 4);
    expect(plan.peakBytes).toBeGreaterThanOrEqual(plain.peakBytes + g.bytes);
  });
});
