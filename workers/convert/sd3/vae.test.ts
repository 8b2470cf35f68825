/**
 * The SD3 VAE port against the real diffusers AutoencoderKL: the committed fixture folders
 * (fixtures/sd3/<name>/vae, random weights) and what diffusers computed on them
 * (reference/vae_encode.* and vae_decode.*, see fixtures/README.md).
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PrecisionSpec } from '../../packbuild/nn';
import { f32, maxAbs, maxAbsDiff, relRms, runGraph } from '../../packbuild/testing/harness';
import { readNpy, type NpyArray } from '../../node/npy';
import type { JsonObject } from '../folder';
import { folderFromDisk } from '../node-source';
import { openCheckpoint, type TensorIndex, type TensorInfo } from '../safetensors';
import { buildSd3VaeDecoder, buildSd3VaeEncoder, loadSd3VaeParams, readSd3VaeConfig, type Sd3VaeConfig, type Sd3VaeParams } from './vae';

const FIXTURES = new URL('../../../fixtures/sd3/', import.meta.url).pathname;
const INT8_CONV: PrecisionSpec = { matmul: 'fp32', conv: 'int8', blockSize: 32 };

/** fp32 against fp32 (diffusers on the CPU): only summation order differs. */
function expectClose(actual: Float32Array, ref: NpyArray, label: string): void {
  const err = maxAbsDiff(actual, ref.data);
  expect(err, `${label}: max abs error ${err}`).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(ref.data)));
}

/**
 * Convolutions on the longest input-to-output path. Encoder: conv_in, 2 per down-block resnet, the
 * downsamplers, 4 in the mid block's two resnets, conv_out; decoder: conv_in, 4 in the mid block,
 * 2 per up-block resnet (one resnet more per block), the upsamplers, conv_out.
 */
function convDepth(c: Sd3VaeConfig): { encoder: number; decoder: number } {
  const n = c.blockOutChannels.length;
  return {
    encoder: 1 + 2 * n * c.layersPerBlock + (n - 1) + 4 + 1,
    decoder: 1 + 4 + 2 * n * (c.layersPerBlock + 1) + (n - 1) + 1,
  };
}

/**
 * Per-channel symmetric int8 weights have a relative error of 1 / (2 * 127) per conv; independent
 * errors of d convs add in quadrature, and we allow twice that (docs/pack-format.md section 11):
 * 2 * sqrt(d) / (2 * 127). The fixtures' 17 (encoder) and 25 (decoder) convs give 3.2 % and 3.9 %.
 */
const int8Tolerance = (depth: number): number => (2 * Math.sqrt(depth)) / (2 * 127);

/** A TensorIndex that hides one key and misreports another's shape, to check the loader's messages. */
function tampered(index: TensorIndex, hidden: string | null, reshaped: { key: string; shape: number[] } | null): TensorIndex {
  return {
    name: index.name,
    files: index.files,
    metadata: index.metadata,
    keys: () => index.keys().filter((k) => k !== hidden),
    has: (key) => key !== hidden && index.has(key),
    info: (key): TensorInfo => (reshaped?.key === key ? { ...index.info(key), shape: reshaped.shape } : index.info(key)),
    readTensorRaw: (key, options) => index.readTensorRaw(key, options),
    readTensor: (key, options) => index.readTensor(key, options),
  };
}

describe.each(['sd3', 'sd3.5'])('SD3 VAE port, fixtures/sd3/%s', (name) => {
  const dir = `${FIXTURES}${name}`;
  const ref = (file: string): Promise<NpyArray> => readNpy(`${dir}/reference/${file}.npy`);
  let config: JsonObject;
  let index: TensorIndex;
  let params: Sd3VaeParams;

  beforeAll(async () => {
    config = JSON.parse(await readFile(`${dir}/vae/config.json`, 'utf8')) as JsonObject;
    index = await openCheckpoint(await folderFromDisk(`${dir}/vae`), 'diffusion_pytorch_model.safetensors');
    params = await loadSd3VaeParams(index, config);
  });

  async function encode(graph = buildSd3VaeEncoder(params, undefined, { rawMoments: true })) {
    const image = await ref('vae_encode.image');
    return runGraph(graph, { image: f32(image.shape, image.data) });
  }

  async function decode(graph = buildSd3VaeDecoder(params)) {
    const latents = await ref('vae_decode.latents');
    return (await runGraph(graph, { latent: f32(latents.shape, latents.data) })).image!;
  }

  it('encodes to the posterior mean, logvar and the model-space latent of diffusers', async () => {
    const out = await encode();
    const scaled = await ref('vae_encode.scaled');
    expect(out.latent!.dims).toEqual(scaled.shape);
    expectClose(out.mean!.data, await ref('vae_encode.mean'), 'mean');
    expectClose(out.logvar!.data, await ref('vae_encode.logvar'), 'logvar');
    expectClose(out.latent!.data, scaled, 'latent');
  });

  it('decodes model-space latents to the unclamped image of diffusers', async () => {
    const image = await decode();
    const expected = await ref('vae_decode.image');
    expect(image.dims).toEqual(expected.shape);
    expectClose(image.data, expected, 'image');
  });

  it('gives the same results with the mid-block attention in query chunks, decomposed and mha', async () => {
    const scaled = await ref('vae_encode.scaled');
    const image = await ref('vae_decode.image');
    for (const attentionImpl of ['decomposed', 'mha'] as const) {
      const attentionPieces = { headsPerPiece: 1, queryChunks: attentionImpl === 'mha' ? 3 : 2 };
      const enc = await encode(buildSd3VaeEncoder(params, undefined, { attentionImpl, attentionPieces }));
      expectClose(enc.latent!.data, scaled, `${attentionImpl} latent`);
      expectClose((await decode(buildSd3VaeDecoder(params, undefined, { attentionImpl, attentionPieces }))).data, image, `${attentionImpl} image`);
    }
  });

  it('stays within the int8 error budget with int8 convolutions', async () => {
    const depth = convDepth(params.config);
    const latentError = relRms((await encode(buildSd3VaeEncoder(params, INT8_CONV))).latent!.data, (await ref('vae_encode.scaled')).data);
    const imageError = relRms((await decode(buildSd3VaeDecoder(params, INT8_CONV))).data, (await ref('vae_decode.image')).data);
    expect(latentError).toBeLessThanOrEqual(int8Tolerance(depth.encoder));
    expect(imageError).toBeLessThanOrEqual(int8Tolerance(depth.decoder));
    // Quantization does change the result: the int8 graph is not the fp32 one by accident.
    expect(latentError).toBeGreaterThan(1e-4);
    expect(imageError).toBeGreaterThan(1e-4);
  });

  it('names the key and the shapes when a tensor is missing or misshapen', async () => {
    await expect(loadSd3VaeParams(tampered(index, 'decoder.up_blocks.1.resnets.0.conv1.bias', null), config)).rejects.toThrow(
      /decoder\.up_blocks\.1\.resnets\.0\.conv1\.bias is missing/,
    );
    const bad = { key: 'encoder.mid_block.attentions.0.to_k.weight', shape: [16, 8] };
    await expect(loadSd3VaeParams(tampered(index, null, bad), config)).rejects.toThrow(/to_k\.weight has shape \[16, 8\], expected \[16, 16\]/);
  });
});

describe('SD3 VAE config', () => {
  const base = async (): Promise<JsonObject> => JSON.parse(await readFile(`${FIXTURES}sd3/vae/config.json`, 'utf8')) as JsonObject;

  it('reads the fixture config', async () => {
    expect(readSd3VaeConfig(await base())).toEqual({
      inChannels: 3,
      outChannels: 3,
      latentChannels: 16,
      blockOutChannels: [8, 16, 16, 16],
      layersPerBlock: 1,
      groups: 4,
      midBlockAttention: true,
      scalingFactor: 1.5305,
      shiftFactor: 0.0609,
    });
  });

  it('refuses quant convs (also when the config leaves them at their default, on) and other block types', async () => {
    const config = await base();
    expect(() => readSd3VaeConfig({ ...config, use_quant_conv: true })).toThrow(/use_quant_conv is true: quant_conv/);
    const { use_post_quant_conv: _dropped, ...withoutKey } = config;
    expect(() => readSd3VaeConfig(withoutKey)).toThrow(/use_post_quant_conv is "unset \(true\)"/);
    expect(() => readSd3VaeConfig({ ...config, up_block_types: ['UpDecoderBlock2D', 'AttnUpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'] })).toThrow(
      /up_block_types/,
    );
    expect(() => readSd3VaeConfig({ ...config, norm_num_groups: 3 })).toThrow(/norm_num_groups 3 does not divide/);
  });
});
