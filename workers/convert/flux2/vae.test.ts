/**
 * The FLUX.2 VAE port against the real diffusers AutoencoderKLFlux2 and Flux2KleinPipeline: the
 * committed fixture folders (fixtures/flux2/<variant>/vae, random weights, random BatchNorm
 * statistics; klein 9B-kv in bf16) and what diffusers computed on them (reference/vae_encode.*,
 * vae_decode.*, refs1.tokens; fixtures/make_flux2_fixtures.py). The encoder is fed ref0 as the
 * pipeline preprocesses it and must give the pipeline's reference latents (patchify order and
 * BatchNorm normalisation included); the decoder is fed model-space latents and must give
 * vae.decode of their un-normalised, unpatchified form.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseNpyHeader, readNpy, type NpyArray } from '../../node/npy';
import { f32, maxAbs, maxAbsDiff, relRms, runGraph } from '../../packbuild/testing/harness';
import type { JsonObject } from '../folder';
import { folderFromDisk } from '../node-source';
import { openCheckpoint, type TensorIndex, type TensorInfo } from '../safetensors';
import { buildFlux2VaeDecoder, buildFlux2VaeEncoder, flux2VaeKeys, flux2VaeLatentSpace, loadFlux2VaeParams, readFlux2VaeConfig, type Flux2VaeParams } from './vae';

const FIXTURES = new URL('../../../fixtures/flux2/', import.meta.url).pathname;
const TOL = 1e-4;

/** max |a - b| / max |b|, with the numbers in the log and the failure message. */
function expectClose(actual: ArrayLike<number>, expected: NpyArray, what: string): void {
  const err = maxAbsDiff(actual, expected.data) / maxAbs(expected.data);
  console.info(`${what}: max abs err ${err.toExponential(2)} of max |ref| (rel RMS ${relRms(actual, expected.data).toExponential(2)})`);
  expect(err, `${what}: max abs error ${err} of max |ref|`).toBeLessThan(TOL);
}

/**
 * A uint8 RGB image [H, W, 3] (.npy '|u1'; npy.ts reads floats only) as the pipeline feeds the VAE:
 * [1, 3, H, W], uint8 / 255 * 2 - 1 in float32.
 */
async function readImage(path: string): Promise<{ dims: number[]; data: Float32Array }> {
  const bytes = new Uint8Array(await readFile(path));
  const headerLength = bytes[8]! | (bytes[9]! << 8);
  const header = parseNpyHeader(new TextDecoder('latin1').decode(bytes.subarray(10, 10 + headerLength)), path);
  if (header.descr !== '|u1' || header.shape.length !== 3 || header.shape[2] !== 3) throw new Error(`${path}: ${header.descr} ${header.shape}, expected |u1 [H, W, 3]`);
  const [H, W] = header.shape as [number, number];
  const pixels = bytes.subarray(10 + headerLength);
  const data = new Float32Array(3 * H * W);
  for (let i = 0; i < H * W; i++) for (let c = 0; c < 3; c++) data[c * H * W + i] = Math.fround(Math.fround(pixels[i * 3 + c]! / 255) * 2 - 1);
  return { dims: [1, 3, H, W], data };
}

/** _pack_latents of one grid [1, C, h, w]: tokens [1, h*w, C], row-major. */
function pack(grid: Float32Array, channels: number): Float32Array {
  const n = grid.length / channels;
  return Float32Array.from({ length: grid.length }, (_, i) => grid[(i % channels) * n + Math.floor(i / channels)]!);
}

/** A TensorIndex that hides one key, misreports another's shape or adds a key, to check the loader's messages. */
function tampered(index: TensorIndex, change: { hide?: string; reshape?: { key: string; shape: number[] }; add?: string }): TensorIndex {
  const keys = () => [...index.keys().filter((k) => k !== change.hide), ...(change.add ? [change.add] : [])];
  return {
    name: index.name,
    files: index.files,
    metadata: index.metadata,
    keys,
    has: (key) => keys().includes(key),
    info: (key): TensorInfo => {
      if (key === change.add) return { ...index.info('bn.running_mean'), key };
      return change.reshape?.key === key ? { ...index.info(key), shape: change.reshape.shape } : index.info(key);
    },
    readTensorRaw: (key, options) => index.readTensorRaw(key, options),
    readTensor: (key, options) => index.readTensor(key, options),
  };
}

async function openVae(variant: string): Promise<{ config: JsonObject; index: TensorIndex }> {
  const dir = `${FIXTURES}${variant}/vae`;
  return {
    config: JSON.parse(await readFile(`${dir}/config.json`, 'utf8')) as JsonObject,
    index: await openCheckpoint(await folderFromDisk(dir), 'diffusion_pytorch_model.safetensors'),
  };
}

describe.each(['klein-4b', 'klein-base-4b', 'klein-9b-kv'])('FLUX.2 VAE port, fixtures/flux2/%s', (variant) => {
  const ref = (file: string): Promise<NpyArray> => readNpy(`${FIXTURES}${variant}/reference/${file}.npy`);
  let config: JsonObject;
  let index: TensorIndex;
  let params: Flux2VaeParams;

  beforeAll(async () => {
    ({ config, index } = await openVae(variant));
    params = await loadFlux2VaeParams(index, config);
  });

  it('lists every key of the checkpoint, with its shape, from the config alone', async () => {
    const expected = flux2VaeKeys(config);
    expect([...expected.keys(), 'bn.num_batches_tracked'].sort()).toEqual(index.keys().sort());
    for (const [key, shape] of expected) expect(index.info(key).shape, key).toEqual(shape);
    // bf16 statistics (9B-kv) are widened exactly, as torch widens them.
    expect(Array.from(params.bn.mean)).toEqual(Array.from((await ref('vae.bn.running_mean')).data));
    expect(Array.from(params.bn.variance)).toEqual(Array.from((await ref('vae.bn.running_var')).data));
  });

  it("encodes ref0 to the pipeline's reference latents: posterior mean, patchified, BatchNorm-normalised", async () => {
    const image = await readImage(`${FIXTURES}${variant}/reference/ref0.image.npy`);
    const out = await runGraph(buildFlux2VaeEncoder(params, undefined, { rawMoments: true }), { image: f32(image.dims, image.data) });
    const normalized = await ref('vae_encode.normalized');
    expect(out.latent!.dims).toEqual(normalized.shape);
    expectClose(out.mean!.data, await ref('vae_encode.mean'), `${variant} encoder mean`);
    expectClose(out.logvar!.data, await ref('vae_encode.logvar'), `${variant} encoder logvar`);
    expectClose(out.latent!.data, normalized, `${variant} encoder latent`);
    // Packed row-major (as the step graphs pack ref_latents) they are prepare_image_latents' tokens.
    expectClose(pack(out.latent!.data, flux2VaeLatentSpace(params.config).channels), await ref('refs1.tokens'), `${variant} encoder latent packed`);
  });

  it('decodes model-space latents to the unclamped image of vae.decode', async () => {
    const latents = await ref('vae_decode.latents');
    const image = (await runGraph(buildFlux2VaeDecoder(params), { latent: f32(latents.shape, latents.data) })).image!;
    const expected = await ref('vae_decode.image');
    expect(image.dims).toEqual(expected.shape);
    expectClose(image.data, expected, `${variant} decoder image`);
  });
});

describe('FLUX.2 VAE checks', () => {
  let config: JsonObject;
  let index: TensorIndex;

  beforeAll(async () => {
    ({ config, index } = await openVae('klein-4b'));
  });

  it('names the key when a tensor is missing, misshapen or not part of the model', async () => {
    await expect(loadFlux2VaeParams(tampered(index, { hide: 'decoder.up_blocks.2.resnets.1.conv2.weight' }), config)).rejects.toThrow(
      /key decoder\.up_blocks\.2\.resnets\.1\.conv2\.weight is missing/,
    );
    await expect(loadFlux2VaeParams(tampered(index, { reshape: { key: 'bn.running_var', shape: [6] } }), config)).rejects.toThrow(
      /key bn\.running_var has shape \[6\], expected \[24\]/,
    );
    await expect(loadFlux2VaeParams(tampered(index, { reshape: { key: 'quant_conv.weight', shape: [12, 12, 3, 3] } }), config)).rejects.toThrow(
      /key quant_conv\.weight has shape \[12, 12, 3, 3\], expected \[12, 12, 1, 1\]/,
    );
    await expect(loadFlux2VaeParams(tampered(index, { add: 'bn.weight' }), config)).rejects.toThrow(/key bn\.weight in .* is not part of the FLUX\.2 VAE/);
  });

  it('refuses configs of another layout', () => {
    expect(readFlux2VaeConfig(config)).toMatchObject({ latentChannels: 6, blockOutChannels: [4, 8, 8, 8], groups: 2, quantConv: true, postQuantConv: true, batchNormEps: 1e-4 });
    expect(flux2VaeLatentSpace(readFlux2VaeConfig(config))).toEqual({ channels: 24, downsample: 16 });
    expect(() => readFlux2VaeConfig({ ...config, _class_name: 'AutoencoderKL' })).toThrow(/_class_name is "AutoencoderKL", not AutoencoderKLFlux2/);
    expect(() => readFlux2VaeConfig({ ...config, patch_size: [1, 1] })).toThrow(/patch_size is \[1,1\], expected \[2, 2\]/);
    expect(() => readFlux2VaeConfig({ ...config, norm_num_groups: 3 })).toThrow(/norm_num_groups 3 does not divide/);
  });
});
