/**
 * A FLUX.2 transformer folder at klein 4B's exact widths (24 heads x 128 = 3072, joint 7680, 128
 * token channels, SwiGLU 9216, RoPE axes 4 x 32, theta 2000) with 1 double and 1 single block and
 * random bf16 weights (as the klein repos ship bf16), made deterministically in TypeScript because
 * its 1.1 GB are too large to commit. The same bytes feed both sides of the check:
 * fixtures/make_flux2_realwidth.py loads them with diffusers once and commits diffusers' outputs
 * (fixtures/flux2-realwidth/), and realwidth.test.ts regenerates them (cached in
 * node_modules/.cache) and converts them; the bench's klein-width stand-in reuses the same folder.
 *
 * Layout: `transformer/{config.json, diffusion_pytorch_model.safetensors}`, `inputs/*.npy` (the
 * forward's inputs, in the pipeline's token layout) and `manifest.json` (every file's sha256 and
 * size, as written).
 *
 * The key list is the converter's own (flux2TransformerKeys); the Python script checks it against
 * diffusers' state_dict key for key and shape, so a converter that expected a wrong key fails there
 * rather than being mirrored here.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { encodeNpy } from '../../../node/npy';
import { Rng } from '../../../packbuild/params';
import type { JsonObject } from '../../folder';
import { ensureGeneratedFolder, HashedWriter, safetensorsPrefix, writeHashed, writeManifest, type FileRecord, type GeneratedFolder, type HashedManifest } from '../../testing/hashed-files';
import { flux2TransformerKeys } from '../transformer';

/** klein 4B's transformer config (docs/flux2.md, REAL-MODELS.md section 2) with 1 + 1 blocks instead of 5 + 20. */
export const KLEIN4B_REALWIDTH_CONFIG: JsonObject = {
  _class_name: 'Flux2Transformer2DModel',
  _diffusers_version: '0.42.1',
  attention_head_dim: 128,
  axes_dims_rope: [32, 32, 32, 32],
  eps: 1e-6,
  guidance_embeds: false,
  in_channels: 128,
  joint_attention_dim: 7680,
  mlp_ratio: 3.0,
  num_attention_heads: 24,
  num_layers: 1,
  num_single_layers: 1,
  out_channels: null,
  patch_size: 1,
  rope_theta: 2000,
  timestep_guidance_channels: 256,
};
const WEIGHT_SEED = 4400;
const INPUT_SEED = 4401;

/**
 * The forward's sizes. Each token costs about 0.5 GFLOP in the two blocks (26 dim^2 multiply-adds),
 * some 18 ms on one WASM thread, so the test keeps them small: a 256 px image (16 x 16 tokens), a
 * 128 x 192 px reference (8 x 12 tokens: not square, so a swapped height and width shows) and 32
 * text rows (the pipeline pads to 512; the rows' count changes no width).
 */
export const REALWIDTH_GRID = { h: 16, w: 16 } as const;
export const REALWIDTH_REF_GRID = { h: 8, w: 12 } as const;
export const REALWIDTH_TEXT_ROWS = 32;
/** The sigma of the forward (the pipeline passes sigma; the model multiplies by 1000). */
export const REALWIDTH_SIGMA = 0.6;

/** The inputs by file name under inputs/, in the pipeline's layout (tokens [1, n, C], row-major over the grid). */
export function realwidthInputShapes(): Record<string, number[]> {
  const C = KLEIN4B_REALWIDTH_CONFIG.in_channels as number;
  return {
    'prompt_embeds.npy': [1, REALWIDTH_TEXT_ROWS, KLEIN4B_REALWIDTH_CONFIG.joint_attention_dim as number],
    'latents.npy': [1, REALWIDTH_GRID.h * REALWIDTH_GRID.w, C],
    'ref_tokens.npy': [1, REALWIDTH_REF_GRID.h * REALWIDTH_REF_GRID.w, C],
  };
}

const UNIT_VARIANCE = Math.sqrt(3);

/**
 * How each tensor is drawn, as uniform values (integer arithmetic and one multiplication, so every
 * engine gives the same bytes), then rounded to bf16:
 * - linear weights: torch's default init, U(+-1 / sqrt(fan_in)), with gains so that every block
 *   counts: the shared modulation x8, the timestep linear_2 x3, norm_out x4. With the default init
 *   the modulation's gates are ~0.04 and each block moved the image stream by 0.7 %; with these
 *   gains the double block moves it by ~64 % of its RMS and the single block by ~40 %
 *   (fixtures/flux2-realwidth/reference/index.json has the measured figures);
 * - the qk RMSNorm weights: 1.5 (1 + U(+-0.35)), so attention logits have a std of about 2.25 for
 *   the normalised q and k instead of 1 and softmax is peaked (a wrong RoPE or head split then
 *   changes the output by several percent, not by a hair).
 */
function distribution(key: string, fanIn: number): { offset: number; amplitude: number } {
  if (/\.norm_(added_)?[qk]\.weight$/.test(key)) return { offset: 1.5, amplitude: 1.5 * 0.2 * UNIT_VARIANCE };
  const gain = /_modulation(_img|_txt)?\.linear\.weight$/.test(key) ? 8 : key === 'norm_out.linear.weight' ? 4 : key.endsWith('timestep_embedder.linear_2.weight') ? 3 : 1;
  return { offset: 0, amplitude: gain / Math.sqrt(fanIn) };
}

interface TensorPlan {
  key: string;
  shape: number[];
  count: number;
  fanIn: number;
}

function transformerTensors(): TensorPlan[] {
  const keys = flux2TransformerKeys(KLEIN4B_REALWIDTH_CONFIG);
  // Sorted (as Python's safetensors writer sorts): the bytes depend on the key set, not on the order flux2TransformerKeys lists it in.
  return [...keys]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, shape]) => ({ key, shape, count: shape.reduce((a, b) => a * b, 1), fanIn: shape.slice(1).reduce((a, b) => a * b, 1) }));
}

/** Values are drawn and written in chunks: the largest tensor has 85 M values. */
const CHUNK = 1 << 20;

/** diffusion_pytorch_model.safetensors in bfloat16, keys sorted, each tensor from its own forked generator. */
async function writeTransformerWeights(path: string): Promise<FileRecord> {
  const plan = transformerTensors();
  const out = await HashedWriter.create(path);
  await out.write(safetensorsPrefix(plan, 'BF16'));
  const root = new Rng(WEIGHT_SEED);
  const values = new Float32Array(CHUNK);
  const u32 = new Uint32Array(values.buffer);
  const bits = new Uint16Array(CHUNK);
  for (const t of plan) {
    const rng = root.fork(t.key);
    const { offset: mean, amplitude } = distribution(t.key, t.fanIn);
    for (let start = 0; start < t.count; start += CHUNK) {
      const n = Math.min(CHUNK, t.count - start);
      for (let i = 0; i < n; i++) values[i] = mean + amplitude * rng.nextSigned();
      // floatToBfloat16Bits inlined (round to nearest even; the values are finite): half the generation time.
      for (let i = 0; i < n; i++) bits[i] = (u32[i]! + 0x7fff + ((u32[i]! >>> 16) & 1)) >>> 16;
      await out.write(new Uint8Array(bits.buffer, 0, 2 * n));
    }
  }
  return out.close();
}

/** The inputs: uniform with unit variance, each file from its own forked generator. */
export function realwidthInputs(): Record<string, { data: Float32Array; shape: number[] }> {
  const root = new Rng(INPUT_SEED);
  return Object.fromEntries(
    Object.entries(realwidthInputShapes()).map(([file, shape]) => {
      const rng = root.fork(file);
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = UNIT_VARIANCE * rng.nextSigned();
      return [file, { data, shape }];
    }),
  );
}

export type RealwidthManifest = HashedManifest;

/** Writes the folder into `dir` (created; existing files overwritten). */
export async function writeFlux2RealwidthFolder(dir: string): Promise<RealwidthManifest> {
  const files: Record<string, FileRecord> = {};
  await mkdir(join(dir, 'inputs'), { recursive: true });
  for (const [file, { data, shape }] of Object.entries(realwidthInputs())) files[`inputs/${file}`] = await writeHashed(join(dir, 'inputs', file), encodeNpy(data, shape));
  const tdir = join(dir, 'transformer');
  await mkdir(tdir, { recursive: true });
  files['transformer/config.json'] = await writeHashed(join(tdir, 'config.json'), new TextEncoder().encode(`${JSON.stringify(KLEIN4B_REALWIDTH_CONFIG, null, 2)}\n`));
  files['transformer/diffusion_pytorch_model.safetensors'] = await writeTransformerWeights(join(tdir, 'diffusion_pytorch_model.safetensors'));
  return writeManifest(dir, files);
}

const ROOT = resolve(import.meta.dirname, '../../../..');
export const FLUX2_REALWIDTH_CACHE = join(ROOT, 'node_modules', '.cache', 'subject-studio', 'realwidth-flux2');

/** What the bytes depend on: this generator, the key list, the Rng, the safetensors header and the .npy encoder. */
const FLUX2_REALWIDTH_SOURCES = [
  'workers/convert/flux2/testing/realwidth-folder.ts',
  'workers/convert/flux2/transformer.ts',
  'workers/packbuild/params.ts',
  'workers/node/npy.ts',
];

export type Flux2RealwidthFolder = GeneratedFolder;

/** The folder in node_modules/.cache, generated first when missing or made by another generator source. */
export function ensureFlux2RealwidthFolder(dir = FLUX2_REALWIDTH_CACHE): Promise<Flux2RealwidthFolder> {
  return ensureGeneratedFolder(ROOT, dir, FLUX2_REALWIDTH_SOURCES, writeFlux2RealwidthFolder);
}
