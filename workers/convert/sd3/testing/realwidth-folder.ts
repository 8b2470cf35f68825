/**
 * Transformer folders at SD3 Medium / SD3.5 Medium's exact widths (2 blocks, random weights), made
 * deterministically in TypeScript because their weights (430 MB and 800 MB in fp16) are too large to
 * commit. The same bytes feed both sides of the check: fixtures/make_sd3_realwidth.py loads them with
 * diffusers once and commits diffusers' velocities (fixtures/sd3-realwidth/), and
 * realwidth.test.ts regenerates them (cached in node_modules/.cache) and converts them.
 *
 * Layout of a folder: `<model>/transformer/{config.json, diffusion_pytorch_model.safetensors}` for
 * each model of REALWIDTH_MODELS, `inputs/*.npy` (the step's inputs, shared by both models) and
 * `manifest.json` (every file's sha256 and size, as written).
 *
 * The key list is the converter's own (sd3TransformerKeys); the Python script checks it against
 * diffusers' state_dict key for key and shape, so a converter that expected a wrong key would fail
 * there rather than be mirrored here.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { encodeNpy } from '../../../node/npy';
import { Rng } from '../../../packbuild/params';
import type { JsonObject } from '../../folder';
import { ensureGeneratedFolder, HashedWriter, safetensorsPrefix, writeHashed, writeManifest, type FileRecord, type GeneratedFolder, type HashedManifest } from '../../testing/hashed-files';
import { floatToHalfBits } from '../../testing/safetensors-writer';
import { sd3TransformerKeys } from '../transformer';

const SD3_MEDIUM: JsonObject = {
  _class_name: 'SD3Transformer2DModel',
  _diffusers_version: '0.29.0.dev0',
  attention_head_dim: 64,
  caption_projection_dim: 1536,
  in_channels: 16,
  joint_attention_dim: 4096,
  num_attention_heads: 24,
  num_layers: 2,
  out_channels: 16,
  patch_size: 2,
  pooled_projection_dim: 2048,
  pos_embed_max_size: 192,
  sample_size: 128,
};

/** The two models: SD3 Medium's and SD3.5 Medium's configs with num_layers 2 (3.5: block 0 dual, as its blocks 0..12 are). */
export const REALWIDTH_MODELS = {
  sd3: { seed: 7300, config: SD3_MEDIUM },
  'sd3.5': { seed: 7350, config: { ...SD3_MEDIUM, _diffusers_version: '0.31.0.dev0', pos_embed_max_size: 384, qk_norm: 'rms_norm', dual_attention_layers: [0] } as JsonObject },
} as const;
export type RealwidthModel = keyof typeof REALWIDTH_MODELS;

/** SD3's 333 text rows (77 CLIP + 256 T5) of joint_attention_dim 4096, and the pooled 768 + 1280. */
const TEXT_SHAPE = [1, 333, 4096];
const POOLED_SHAPE = [1, 2048];
/** The image sizes, in pixels (latents px / 8, 16 channels). */
export const REALWIDTH_SIZES = [512, 1024] as const;
export const REALWIDTH_TIMESTEP = 500;
const INPUT_SEED = 7000;

/** The step's inputs by file name under inputs/; every value uniform with unit variance. */
export function realwidthInputShapes(): Record<string, number[]> {
  const shapes: Record<string, number[]> = { 'prompt_embeds.npy': TEXT_SHAPE, 'pooled_projections.npy': POOLED_SHAPE };
  for (const px of REALWIDTH_SIZES) shapes[`latents_${px}.npy`] = [1, 16, px / 8, px / 8];
  return shapes;
}

const UNIT_VARIANCE = Math.sqrt(3);

/**
 * How each tensor is drawn, as uniform values (the generator is uniform; only integer arithmetic
 * and multiplication, so every engine gives the same bytes):
 * - linear and conv weights and biases: torch's default init, U(+-1 / sqrt(fan_in));
 * - pos_embed.pos_embed: U(+-1) at every position (SD3's sin-cos table has that range), random so
 *   a crop one patch off reads different values;
 * - RMSNorm weights (3.5's qk_norm): 1.5 (1 + U(+-0.35)), std 0.2 around the scale below;
 * with gains, as the toy fixtures scale them (fixtures/README.md) so that every block counts: AdaLN
 * modulation x6 (norm_out x4), the timestep / pooled linear_2 x3. And peaked attention: q and k x3
 * (in 3.5 the RMSNorm that follows undoes that, hence its weights around 1.5), logits of std about 3
 * (2.25 in 3.5) for unit-variance inputs instead of 1/3, where softmax is nearly uniform and a wrong
 * head split would hardly change the output.
 */
function distribution(key: string, fanIn: number): { offset: number; amplitude: number } {
  if (key === 'pos_embed.pos_embed') return { offset: 0, amplitude: 1 };
  if (/\.norm_(added_)?[qk]\.weight$/.test(key)) return { offset: 1.5, amplitude: 1.5 * 0.2 * UNIT_VARIANCE };
  const gain = /(^|\.)norm1(_context)?\.linear\.weight$/.test(key)
    ? 6
    : key === 'norm_out.linear.weight'
      ? 4
      : /^time_text_embed\..*linear_2\.weight$/.test(key)
        ? 3
        : /\.attn2?\.(to_[qk]|add_[qk]_proj)\.weight$/.test(key)
          ? 3
          : 1;
  return { offset: 0, amplitude: gain / Math.sqrt(fanIn) };
}

interface TensorPlan {
  key: string;
  shape: number[];
  count: number;
  /** A weight's inputs per output (a bias: its weight's). */
  fanIn: number;
}

function transformerTensors(config: JsonObject): TensorPlan[] {
  const keys = sd3TransformerKeys(config);
  const fanIn = (shape: readonly number[]) => shape.slice(1).reduce((a, b) => a * b, 1);
  // Sorted (as Python's safetensors writer sorts): the bytes depend on the key set, not on the order sd3TransformerKeys lists it in.
  return [...keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, shape]) => {
    const weight = key.endsWith('.bias') ? keys.get(key.replace(/\.bias$/, '.weight')) : undefined;
    return { key, shape, count: shape.reduce((a, b) => a * b, 1), fanIn: fanIn(weight ?? shape) };
  });
}

/** Values are drawn and written in chunks, so SD3.5's 226 M-value table never sits in memory. */
const CHUNK = 1 << 20;

/** One model's diffusion_pytorch_model.safetensors in float16, keys sorted, each tensor from its own forked generator. */
async function writeTransformerWeights(path: string, model: RealwidthModel): Promise<FileRecord> {
  const { seed, config } = REALWIDTH_MODELS[model];
  const plan = transformerTensors(config);
  const prefix = safetensorsPrefix(plan, 'F16');

  const out = await HashedWriter.create(path);
  await out.write(prefix);
  const root = new Rng(seed);
  const half = new Uint16Array(CHUNK);
  for (const t of plan) {
    const rng = root.fork(t.key);
    const { offset: mean, amplitude } = distribution(t.key, t.fanIn);
    for (let start = 0; start < t.count; start += CHUNK) {
      const n = Math.min(CHUNK, t.count - start);
      for (let i = 0; i < n; i++) half[i] = floatToHalfBits(mean + amplitude * rng.nextSigned());
      await out.write(new Uint8Array(half.buffer, 0, 2 * n));
    }
  }
  return out.close();
}

/** The inputs (shared by both models): uniform, unit variance, each file from its own forked generator. */
function inputArrays(): Record<string, { data: Float32Array; shape: number[] }> {
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


/** Writes every model folder and the inputs into `dir` (created; existing files overwritten). */
export async function writeRealwidthFolders(dir: string): Promise<RealwidthManifest> {
  const files: Record<string, FileRecord> = {};
  await mkdir(join(dir, 'inputs'), { recursive: true });
  for (const [file, { data, shape }] of Object.entries(inputArrays())) files[`inputs/${file}`] = await writeHashed(join(dir, 'inputs', file), encodeNpy(data, shape));
  for (const model of Object.keys(REALWIDTH_MODELS) as RealwidthModel[]) {
    const tdir = join(dir, model, 'transformer');
    await mkdir(tdir, { recursive: true });
    files[`${model}/transformer/config.json`] = await writeHashed(join(tdir, 'config.json'), new TextEncoder().encode(`${JSON.stringify(REALWIDTH_MODELS[model].config, null, 2)}\n`));
    files[`${model}/transformer/diffusion_pytorch_model.safetensors`] = await writeTransformerWeights(join(tdir, 'diffusion_pytorch_model.safetensors'), model);
  }
  return writeManifest(dir, files);
}

const ROOT = resolve(import.meta.dirname, '../../../..');
export const REALWIDTH_CACHE = join(ROOT, 'node_modules', '.cache', 'subject-studio', 'realwidth-sd3');

/** What the bytes depend on: this generator, the key list, the Rng, the fp16 rounding and the .npy encoder. */
const GENERATOR_SOURCES = [
  'workers/convert/sd3/testing/realwidth-folder.ts',
  'workers/convert/sd3/transformer.ts',
  'workers/packbuild/params.ts',
  'workers/convert/testing/safetensors-writer.ts',
  'workers/node/npy.ts',
];

export type RealwidthFolders = GeneratedFolder;

/** The folders in node_modules/.cache, generated first when missing or made by another generator source. */
export function ensureRealwidthFolders(dir = REALWIDTH_CACHE): Promise<RealwidthFolders> {
  return ensureGeneratedFolder(ROOT, dir, GENERATOR_SOURCES, writeRealwidthFolders);
}
