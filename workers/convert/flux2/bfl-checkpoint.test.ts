/**
 * BFL's single-file FLUX.2 klein transformer (workers/convert/flux2/bfl-checkpoint.ts) against the
 * diffusers fixture it was written from (fixtures/make_flux2_bfl.py, which proves with diffusers'
 * own Flux2Transformer2DModel.from_single_file that the file is in BFL's layout):
 * - mapped, it is the diffusers fixture transformer tensor for tensor, bit for bit (also bf16 and
 *   with the `model.diffusion_model.` prefix), and row slices of the view are the fixture's;
 * - the config inferred from its shapes is the fixture's config.json; from the real klein 4B / 9B
 *   shapes (fixtures/flux2/bfl/real-shapes.json) it is the real configs;
 * - a klein folder whose transformer is the BFL file (in transformer/, or at the top without
 *   transformer/) converts to the same pack as the diffusers folder, and that pack's dit_step_full
 *   gives diffusers' velocity with a reference (fixtures/flux2/klein-4b/reference);
 * - reads are lazy: a tensor of a real-size (7.75 GB) virtual file reads only its byte range;
 * - bad input (truncated, FLUX.1, FLUX.2 dev, contradicting shapes or config, a lone file) says why.
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { concatPositions, gridPositions, referenceTime, ropeTables, textPositions } from '../../families/flux2-positions';
import { readNpy } from '../../node/npy';
import { maxAbs, maxAbsDiff } from '../../packbuild/testing/harness';
import { convertModelFolder } from '../convert-folder';
import { ConvertError } from '../errors';
import { getComponent, inspectModelFolder, type JsonObject } from '../folder';
import { fileSource, folderFromDisk } from '../node-source';
import { bfloat16ToFloat, openCheckpoint, openSafetensors, type TensorIndex } from '../safetensors';
import { bytesSource, folderFromSources, type ByteSource, type FolderSource } from '../source';
import { floatToBfloat16Bits, recordingSource, writeSafetensors, type TensorSpec } from '../testing/safetensors-writer';
import { BFL_PREFIX, bflFlux2View, detectBflLayout, findBflTransformer, inferFlux2Config, loneBflFileAdvice } from './bfl-checkpoint';
import { flux2TransformerKeys } from './transformer';

const FIXTURES = new URL('../../../fixtures/flux2/', import.meta.url).pathname;
const KLEIN = `${FIXTURES}klein-4b`;
const BFL_NAME = 'flux-2-klein-4b-fixture.safetensors';
const BFL_PATH = `${FIXTURES}bfl/${BFL_NAME}`;
/** The fixture packs' sizes and prompt rows (as generate.test.ts): the reference grids are 64 x 96 px. */
const PACK = { precision: 'fp32' as const, sizes: [64], extraResolutions: [{ width: 96, height: 64 }], maxTextTokens: 64 };

let diffusers: TensorIndex;
let bfl: TensorIndex;
let config: JsonObject;
let bflBytes: Uint8Array;

beforeAll(async () => {
  diffusers = await openCheckpoint(await folderFromDisk(KLEIN), 'transformer/diffusion_pytorch_model.safetensors');
  bfl = await openSafetensors(await fileSource(BFL_PATH, BFL_NAME));
  config = JSON.parse(await readFile(`${KLEIN}/transformer/config.json`, 'utf8')) as JsonObject;
  bflBytes = new Uint8Array(await readFile(BFL_PATH));
});

async function failure(run: () => Promise<unknown>): Promise<ConvertError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConvertError);
    return error as ConvertError;
  }
  throw new Error('expected a ConvertError');
}

/** The BFL fixture's tensors as writer specs (F32 values), renamed and edited by the callers. */
async function bflSpecs(): Promise<Record<string, TensorSpec>> {
  const specs: Record<string, TensorSpec> = {};
  for (const key of bfl.keys()) specs[key] = { dtype: 'F32', shape: [...bfl.info(key).shape], values: await bfl.readTensor(key) };
  return specs;
}

/** The klein-4b fixture folder with its transformer weights replaced: `extra` files added, `drop` paths removed. */
async function kleinWith(extra: Record<string, ByteSource>, drop: (path: string) => boolean = (p) => p === 'transformer/diffusion_pytorch_model.safetensors'): Promise<FolderSource> {
  const disk = await folderFromDisk(KLEIN);
  const sources: (ByteSource & { path: string })[] = [];
  for (const path of disk.list()) if (!drop(path) && !path.startsWith('reference/')) sources.push(Object.assign(disk.open(path)!, { path }));
  for (const [path, s] of Object.entries(extra)) sources.push({ name: path, size: s.size, read: (a, b) => s.read(a, b), path });
  return folderFromSources(sources);
}

/** A safetensors source of `shapes` (zeros) of any size, without allocating its data; reads are recorded. */
function virtualFile(name: string, shapes: Record<string, number[]>, dtype = 'BF16') {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [key, shape] of Object.entries(shapes)) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    header[key] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const head = new Uint8Array(8 + text.length);
  new DataView(head.buffer).setUint32(0, text.length, true);
  head.set(new TextEncoder().encode(text), 8);
  const source: ByteSource = {
    name,
    size: head.byteLength + offset,
    read(start, end) {
      const out = new Uint8Array(end - start);
      if (start < head.byteLength) out.set(head.subarray(start, Math.min(end, head.byteLength)));
      return Promise.resolve(out);
    },
  };
  return { source: recordingSource(source), dataStart: head.byteLength };
}

interface RealModel {
  config: JsonObject;
  bfl_shapes: Record<string, number[]>;
}
const realShapes = async (): Promise<Record<'klein-4b' | 'klein-9b', RealModel>> => JSON.parse(await readFile(`${FIXTURES}bfl/real-shapes.json`, 'utf8')) as Record<'klein-4b' | 'klein-9b', RealModel>;

/** The config fields the converter reads. */
const FIELDS = ['num_layers', 'num_single_layers', 'attention_head_dim', 'num_attention_heads', 'in_channels', 'joint_attention_dim', 'mlp_ratio', 'timestep_guidance_channels', 'axes_dims_rope', 'rope_theta', 'eps', 'patch_size', 'guidance_embeds'];
const pick = (c: JsonObject) => Object.fromEntries(FIELDS.map((f) => [f, c[f]]));

describe('BFL FLUX.2 checkpoint, mapped to diffusers names', () => {
  it('is detected as BFL FLUX.2 (the diffusers fixture is not)', () => {
    expect(detectBflLayout(bfl.keys())).toBe('flux2');
    expect(detectBflLayout(bfl.keys().map((k) => BFL_PREFIX + k))).toBe('flux2');
    expect(detectBflLayout(diffusers.keys())).toBeUndefined();
  });

  it('equals the diffusers fixture transformer tensor by tensor: every key, shape, dtype and byte', async () => {
    const view = bflFlux2View(bfl, config);
    expect([...view.keys()].sort()).toEqual([...diffusers.keys()].sort());
    for (const key of diffusers.keys()) {
      expect(view.info(key).shape, key).toEqual(diffusers.info(key).shape);
      expect(view.info(key).dtype, key).toBe(diffusers.info(key).dtype);
      const [got, want] = await Promise.all([view.readTensorRaw(key), diffusers.readTensorRaw(key)]);
      expect(got.shape, key).toEqual(want.shape);
      expect(Buffer.from(got.bytes).equals(Buffer.from(want.bytes)), `${key}: bytes differ`).toBe(true);
      expect(Array.from(await view.readTensor(key)), key).toEqual(Array.from(await diffusers.readTensor(key)));
    }
    // Byte counts add up to the file's: each BFL tensor is covered once (the swapped one whole).
    const bytes = (ix: TensorIndex) => ix.keys().reduce((n, k) => n + ix.info(k).end - ix.info(k).begin, 0);
    expect(bytes(view)).toBe(bytes(bfl));
  });

  it('reads row slices of split and swapped tensors as the fixture has them', async () => {
    const view = bflFlux2View(bfl, config);
    const D = 32;
    for (const [key, rows] of [
      ['transformer_blocks.1.attn.to_k.weight', [3, 17]],
      ['transformer_blocks.0.attn.add_v_proj.weight', [0, 32]],
      ['norm_out.linear.weight', [D - 5, D + 7]],
      ['norm_out.linear.weight', [D, 2 * D]],
      ['single_transformer_blocks.1.attn.to_qkv_mlp_proj.weight', [100, 200]],
    ] as [string, [number, number]][]) {
      expect(Array.from(await view.readTensor(key, { rows })), `${key} rows ${rows}`).toEqual(Array.from(await diffusers.readTensor(key, { rows })));
    }
    await expect(view.readTensorRaw('norm_out.linear.weight', { rows: [0, 65] })).rejects.toThrow(RangeError);
  });

  it('bf16 and prefixed with model.diffusion_model. (an all-in-one file): the same tensors, rounded to bf16', async () => {
    const specs: Record<string, TensorSpec> = {};
    for (const [key, spec] of Object.entries(await bflSpecs())) specs[BFL_PREFIX + key] = { ...spec, dtype: 'BF16' };
    const index = await openSafetensors(bytesSource('flux-2-klein-4b-bf16.safetensors', writeSafetensors(specs)));
    const view = bflFlux2View(index, inferFlux2Config(index));
    expect([...view.keys()].sort()).toEqual([...diffusers.keys()].sort());
    for (const key of diffusers.keys()) {
      expect(view.info(key).dtype).toBe('BF16');
      const want = Array.from(await diffusers.readTensor(key), (x) => bfloat16ToFloat(floatToBfloat16Bits(x)));
      expect(Array.from(await view.readTensor(key)), key).toEqual(want);
    }
  });

  it("infers the fixture's config.json from the shapes", () => {
    const inferred = inferFlux2Config(bfl);
    expect(pick(inferred)).toEqual(pick({ ...config, guidance_embeds: false }));
    expect([...flux2TransformerKeys(inferred)]).toEqual([...flux2TransformerKeys(config)]);
  });

  it('infers the real klein 4B and 9B configs from their real BFL shapes (diffusers convert_flux2_to_diffusers.py configs)', async () => {
    const real = await realShapes();
    for (const name of ['klein-4b', 'klein-9b'] as const) {
      const { source } = virtualFile(`flux-2-${name}.safetensors`, real[name].bfl_shapes);
      const index = await openSafetensors(source);
      const inferred = inferFlux2Config(index);
      expect(pick(inferred), name).toEqual(pick(real[name].config));
      const view = bflFlux2View(index, inferred);
      for (const [key, shape] of flux2TransformerKeys(real[name].config)) expect(view.info(key).shape, key).toEqual(shape);
    }
  });

  it('reads lazily: one tensor of a real-size klein 4B file (7.75 GB bf16) reads its own byte range only', async () => {
    const real = await realShapes();
    const { source, dataStart } = virtualFile('flux-2-klein-4b.safetensors', real['klein-4b'].bfl_shapes);
    expect(source.size).toBeGreaterThan(7.7e9);
    const index = await openSafetensors(source);
    const view = bflFlux2View(index, inferFlux2Config(index));
    const opened = source.reads.length;
    const qkv = index.info('double_blocks.4.txt_attn.qkv.weight');
    const D = 3072;
    await view.readTensor('transformer_blocks.4.attn.add_k_proj.weight');
    expect(source.reads.slice(opened)).toEqual([[qkv.begin + D * D * 2, qkv.begin + 2 * D * D * 2]]);
    const ada = index.info('final_layer.adaLN_modulation.1.weight');
    const before = source.reads.length;
    await view.readTensor('norm_out.linear.weight');
    // (scale, shift) = the BFL tensor's second half, then its first.
    expect(source.reads.slice(before)).toEqual([
      [ada.begin + D * D * 2, ada.end],
      [ada.begin, ada.begin + D * D * 2],
    ]);
    expect(Math.max(...source.reads.slice(0, opened).map(([a]) => a))).toBeLessThan(dataStart);
  });
});

describe('a klein folder with the BFL transformer file', () => {
  it('in transformer/ (beside config.json) or at the top without transformer/: inspected as klein, the note says so', async () => {
    const inDir = await inspectModelFolder(await kleinWith({ [`transformer/${BFL_NAME}`]: bytesSource(BFL_NAME, bflBytes) }));
    const plain = await inspectModelFolder(await kleinWith({}, () => false));
    expect(inDir.label).toBe(plain.label);
    expect(inDir.family).toBe('flux2-klein');
    expect(getComponent(inDir, 'transformer').config).toEqual(getComponent(plain, 'transformer').config);
    expect(inDir.warnings.join('\n')).toContain(`transformer/${BFL_NAME} is Black Forest Labs' single-file checkpoint`);
    expect(inDir.warnings.join('\n')).toContain('with transformer/config.json');

    const top = await inspectModelFolder(await kleinWith({ [BFL_NAME]: bytesSource(BFL_NAME, bflBytes) }, (p) => p.startsWith('transformer/')));
    expect(top.label).toBe(plain.label);
    expect(pick(getComponent(top, 'transformer').config)).toEqual(pick({ ...config, guidance_embeds: false }));
    expect(top.warnings.join('\n')).toContain('the config inferred from its shapes');

    // A real-size klein 4B BFL file is named as klein 4B.
    const real = await realShapes();
    const big = await inspectModelFolder(await kleinWith({ 'transformer/flux-2-klein-4b.safetensors': virtualFile('flux-2-klein-4b.safetensors', real['klein-4b'].bfl_shapes).source }, (p) => p.startsWith('transformer/')));
    expect(big.label).toBe('FLUX.2 klein 4B');
    // diffusers' weights win over a BFL file beside them.
    expect(await findBflTransformer(await kleinWith({ [BFL_NAME]: bytesSource(BFL_NAME, bflBytes) }, () => false))).toBeUndefined();
  });

  it('converts to the same pack as the diffusers folder, whose dit_step_full gives diffusers\' velocity with a reference', async () => {
    const fromDiffusers = await convertModelFolder(await kleinWith({}, () => false), PACK);
    const fromBfl = await convertModelFolder(await kleinWith({ [`transformer/${BFL_NAME}`]: bytesSource(BFL_NAME, bflBytes) }), PACK);

    // The BFL pack's own dit_step_full graph (with its external weights) on the refs1 fixture.
    const spec = fromBfl.manifest.graphs.find((g) => g.role === 'dit_step_full')!;
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(fromBfl.files.get(spec.file)!, {
      executionProviders: ['wasm'],
      externalData: spec.externalData.map((s) => ({ path: s.file, data: fromBfl.files.get(s.file)! })),
    });
    try {
      const ref = (f: string) => readNpy(`${KLEIN}/reference/${f}`);
      const C = config.in_channels as number;
      const layers = (config.num_layers as number) + (config.num_single_layers as number);
      const [h, w, rh, rw, T] = [4, 6, 4, 5, 64];
      const N = h * w;
      const R = rh * rw;
      const grid = (tokens: Float32Array, n: number) => Float32Array.from({ length: tokens.length }, (_, i) => tokens[(i % n) * C + Math.floor(i / n)]!);
      const embeds = await ref('prompt_embeds.npy');
      const J = embeds.shape[2]!;
      const t = ropeTables(concatPositions(textPositions(T), gridPositions(h, w), gridPositions(rh, rw, referenceTime(0))), config.axes_dims_rope as number[], config.rope_theta as number);
      const half = t.cos.length / t.tokens;
      const f32 = (dims: number[], data: Float32Array) => new ort.Tensor('float32', data, dims);
      const out = await session.run({
        latents: f32([1, C, h, w], grid((await ref('velocity.latents.npy')).data, N)),
        timestep: f32([1], Float32Array.of(Math.fround(Math.fround(0.75) * 1000))),
        text_embeddings: f32([1, T, J], embeds.data.slice(0, T * J)),
        text_set: new ort.Tensor('int64', BigInt64Array.of(0n), [1]),
        ref_set: new ort.Tensor('int64', BigInt64Array.of(0n), [1]),
        rope_cos: f32([t.tokens, half], t.cos),
        rope_sin: f32([t.tokens, half], t.sin),
        ref_latents: f32([1, 1, C, rh, rw], grid((await ref('refs1.tokens.npy')).data, R)),
        attention_bias: f32([1, 1, T + N + R, T + N + R], new Float32Array((T + N + R) ** 2)),
        ref_layer_bias: f32([layers, 1, R], new Float32Array(layers * R)),
      });
      const v = out.velocity!.data as Float32Array;
      const tokens = Float32Array.from({ length: v.length }, (_, i) => v[(i % C) * N + Math.floor(i / C)]!);
      const expected = (await ref('velocity_refs1.npy')).data;
      const err = maxAbsDiff(tokens, expected) / maxAbs(expected);
      console.info(`BFL-transformer pack, dit_step_full vs diffusers velocity_refs1: max abs err ${err.toExponential(2)} of max |ref|`);
      expect(err).toBeLessThan(1e-4);
    } finally {
      await session.release();
    }
    // And the whole pack is the diffusers folder's, byte for byte.
    expect([...fromBfl.files.keys()].sort()).toEqual([...fromDiffusers.files.keys()].sort());
    for (const [name, bytes] of fromDiffusers.files) expect(Buffer.from(fromBfl.files.get(name)!).equals(Buffer.from(bytes)), `${name} differs`).toBe(true);
    expect(fromBfl.manifest).toEqual(fromDiffusers.manifest);
  }, 120_000);
});

describe('BFL files the studio refuses, each with why', () => {
  it('a truncated BFL file (a download cut short)', async () => {
    const e = await failure(async () => inspectModelFolder(await kleinWith({ [`transformer/${BFL_NAME}`]: bytesSource(BFL_NAME, bflBytes.slice(0, bflBytes.byteLength - 1000)) })));
    expect(e.code).toBe('truncated');
    expect(e.message).toContain(`${BFL_NAME} is truncated`);
    expect(e.message).toContain('download it again');
  });

  it('a FLUX.1 file (double_blocks without double_stream_modulation_img)', async () => {
    const flux1 = writeSafetensors({
      'img_in.weight': { dtype: 'BF16', shape: [4, 2] },
      'double_blocks.0.img_attn.qkv.weight': { dtype: 'BF16', shape: [12, 4] },
      'double_blocks.0.img_mod.lin.weight': { dtype: 'BF16', shape: [24, 4] },
      'final_layer.adaLN_modulation.1.weight': { dtype: 'BF16', shape: [8, 4] },
    });
    const e = await failure(async () => inspectModelFolder(await kleinWith({ 'transformer/flux1-dev.safetensors': bytesSource('transformer/flux1-dev.safetensors', flux1) })));
    expect(e.code).toBe('wrong-model');
    expect(e.message).toContain('transformer/flux1-dev.safetensors is a FLUX.1 transformer');
    expect(e.message).toContain('double_stream_modulation_img');
    const index = await openSafetensors(bytesSource('flux1-dev.safetensors', flux1));
    expect(() => inferFlux2Config(index)).toThrow(/FLUX\.1/);
    expect(() => bflFlux2View(index, config)).toThrow(/FLUX\.1/);
  });

  it('FLUX.2 dev (guidance_in), contradicting shapes, a missing block, a config.json of another model', async () => {
    const specs = await bflSpecs();
    const open = (s: Record<string, TensorSpec>) => openSafetensors(bytesSource('x.safetensors', writeSafetensors(s)));

    const dev = await open({ ...specs, 'guidance_in.in_layer.weight': { dtype: 'F32', shape: [32, 256] } });
    expect(() => inferFlux2Config(dev)).toThrow(/FLUX\.2 dev/);
    expect(() => bflFlux2View(dev, config)).toThrow(/FLUX\.2 dev/);

    const wrongLinear1 = await open({ ...specs, 'single_blocks.1.linear1.weight': { dtype: 'F32', shape: [280, 32] } });
    expect(() => bflFlux2View(wrongLinear1, inferFlux2Config(wrongLinear1))).toThrow('x.safetensors: single_blocks.1.linear1.weight has shape [280, 32], but the FLUX.2 transformer its config describes needs [288, 32]');
    const wrongFirst = await open({ ...specs, 'single_blocks.0.linear1.weight': { dtype: 'F32', shape: [280, 32] } });
    const e = await failure(async () => inferFlux2Config(wrongFirst));
    expect(e.code).toBe('bad-shape');
    expect(e.message).toContain('single_blocks.0.linear1 has 280 rows');
    expect(e.message).toContain('contradict');

    const noBlock0 = await open(Object.fromEntries(Object.entries(specs).filter(([k]) => !k.startsWith('double_blocks.0.'))));
    expect(() => inferFlux2Config(noBlock0)).toThrow('x.safetensors has double_blocks 1: block 0 is missing');

    const fiveLayers = { ...config, num_layers: 5 };
    const mismatch = await failure(async () => inspectModelFolder(await kleinWith({ [`transformer/${BFL_NAME}`]: bytesSource(BFL_NAME, bflBytes), 'transformer/config.json': bytesSource('transformer/config.json', new TextEncoder().encode(JSON.stringify(fiveLayers))) }, (p) => p === 'transformer/diffusion_pytorch_model.safetensors' || p === 'transformer/config.json')));
    expect(mismatch.code).toBe('wrong-model');
    expect(mismatch.message).toContain(`transformer/config.json says num_layers 5, but transformer/${BFL_NAME} has 2`);
  });

  it('a lone BFL file, without the folder: what else is needed and where the file goes', async () => {
    const lone = async (name: string, source: ByteSource) => failure(() => inspectModelFolder(folderFromSources([Object.assign(source, { path: name })])));
    const fixture = await lone(BFL_NAME, bytesSource(BFL_NAME, bflBytes));
    expect(fixture.code).toBe('single-file');
    for (const part of ['a FLUX.2 single-file checkpoint (BFL format)', 'text encoder', 'VAE', 'tokenizer', 'model_index.json', `put ${BFL_NAME} into its transformer/ folder`, 'black-forest-labs/FLUX.2-klein-4B']) expect(fixture.message).toContain(part);

    const real = await realShapes();
    const k4 = await lone('flux-2-klein-4b.safetensors', virtualFile('flux-2-klein-4b.safetensors', real['klein-4b'].bfl_shapes).source);
    expect(k4.message).toContain('the FLUX.2 klein 4B transformer alone');
    expect(k4.message).toContain('download black-forest-labs/FLUX.2-klein-4B without its transformer/ weights');
    const base = await lone('flux-2-klein-base-4b.safetensors', virtualFile('flux-2-klein-base-4b.safetensors', real['klein-4b'].bfl_shapes).source);
    expect(base.message).toContain('download black-forest-labs/FLUX.2-klein-base-4B');
    const nine = await lone('flux-2-klein-9b.safetensors', virtualFile('flux-2-klein-9b.safetensors', real['klein-9b'].bfl_shapes).source);
    expect(nine.message).toContain('the FLUX.2 klein 9B transformer alone');
    expect(nine.message).toContain('black-forest-labs/FLUX.2-klein-9B');
    expect(await loneBflFileAdvice(folderFromSources([Object.assign(bytesSource('d.safetensors', bflBytes.slice(0, 100)), { path: 'd.safetensors' })]), 'd.safetensors')).toBeUndefined();
  });
});

