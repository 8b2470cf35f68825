/**
 * TAESD3 (madebyollin/taesd3: diffusers AutoencoderTiny with 16 latent channels) read from its
 * diffusers folder and written as the pack's optional preview_decoder graph: a decoder small enough
 * to run after every sampling step. Only DecoderTiny is ported; the encoder's tensors are ignored.
 *
 * The graph takes the DiT's (model-space) latents, as the vae_decoder does. TAESD3 was trained on
 * those as they are: its config has scaling_factor 1.0 and shift_factor 0.0, and the graph applies
 * them the way StableDiffusion3Pipeline does (latents / scaling_factor + shift_factor), so that a
 * config saying otherwise still decodes what diffusers would.
 */
import { attr, GraphBuilder, type IrGraph } from '../../packbuild/ir';
import { emitConv, type PrecisionSpec } from '../../packbuild/nn';
import type { Conv2d } from '../../packbuild/params';
import { ConvertError } from '../errors';
import type { JsonObject } from '../folder';
import { expectTensor, openCheckpoint, type TensorIndex } from '../safetensors';
import type { FolderSource } from '../source';

/** What the graph needs from the folder's config.json (AutoencoderTiny's arguments, decoder side). */
export interface TaesdConfig {
  latentChannels: number;
  outChannels: number;
  /** Width of each decoder stage (all equal: DecoderTiny does not change width between stages). */
  blockOutChannels: readonly number[];
  /** AutoencoderTinyBlocks per decoder stage. */
  numBlocks: readonly number[];
  /** Nearest-neighbour upsampling factor after every stage but the last. */
  upsampleFactor: number;
  scalingFactor: number;
  shiftFactor: number;
}

/** AutoencoderTinyBlock: conv-ReLU-conv-ReLU-conv, plus the input (an identity skip: in = out), then ReLU. */
export interface TaesdBlockParams {
  convs: readonly [Conv2d, Conv2d, Conv2d];
}

export interface TaesdStageParams {
  blocks: readonly TaesdBlockParams[];
  /** The bias-free conv after the upsample; null for the last stage. */
  upsampleConv: Conv2d | null;
}

export interface TaesdDecoderParams {
  config: TaesdConfig;
  convIn: Conv2d;
  stages: readonly TaesdStageParams[];
  /** The last stage's conv to the image channels (with a bias). */
  convOut: Conv2d;
}

/** AutoencoderTiny's defaults for the keys a config may leave out (diffusers 0.42). */
const DEFAULTS = {
  latent_channels: 4,
  out_channels: 3,
  decoder_block_out_channels: [64, 64, 64, 64],
  num_decoder_blocks: [3, 3, 3, 1],
  upsampling_scaling_factor: 2,
  scaling_factor: 1,
  shift_factor: 0,
} as const;

/** DecoderTiny's soft clamp of its input: tanh(z / 3) * 3. */
const CLAMP = 3;

const FP32: PrecisionSpec = { matmul: 'fp32', conv: 'fp32', blockSize: 32 };

const CONFIG_FILE = 'config.json';

function configError(message: string): ConvertError {
  return new ConvertError('bad-json', `${CONFIG_FILE}: ${message}`, { file: CONFIG_FILE });
}

function unsupported(message: string): ConvertError {
  return new ConvertError('wrong-model', `${CONFIG_FILE}: ${message}; the preview decoder is TAESD (diffusers AutoencoderTiny)`, { file: CONFIG_FILE });
}

function positiveInt(config: JsonObject, key: keyof typeof DEFAULTS): number {
  const value = config[key] ?? DEFAULTS[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw configError(`${key} is ${JSON.stringify(value)}, expected a positive integer`);
  return value;
}

function finiteNumber(config: JsonObject, key: keyof typeof DEFAULTS): number {
  const value = config[key] ?? DEFAULTS[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw configError(`${key} is ${JSON.stringify(value)}, expected a number`);
  return value;
}

function positiveInts(config: JsonObject, key: keyof typeof DEFAULTS, allowZero = false): number[] {
  const value = config[key] ?? DEFAULTS[key];
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && (v > 0 || (allowZero && v === 0));
  if (!Array.isArray(value) || value.length === 0 || !value.every(ok)) throw configError(`${key} is ${JSON.stringify(value)}, expected a list of positive integers`);
  return value as number[];
}

/** Reads and checks the decoder side of an AutoencoderTiny config.json; unset keys take diffusers' defaults. */
export function readTaesdConfig(config: JsonObject): TaesdConfig {
  if (config._class_name !== undefined && config._class_name !== 'AutoencoderTiny') throw unsupported(`_class_name is ${JSON.stringify(config._class_name)}, not AutoencoderTiny`);
  const act = config.act_fn ?? 'relu';
  if (act !== 'relu') throw unsupported(`act_fn is ${JSON.stringify(act)}, not relu`);
  const upsample = config.upsample_fn ?? 'nearest';
  if (upsample !== 'nearest') throw unsupported(`upsample_fn is ${JSON.stringify(upsample)}, not nearest`);
  const widths = positiveInts(config, 'decoder_block_out_channels');
  const numBlocks = positiveInts(config, 'num_decoder_blocks', true);
  if (widths.length !== numBlocks.length) {
    throw configError(`decoder_block_out_channels has ${widths.length} entries and num_decoder_blocks ${numBlocks.length}; AutoencoderTiny needs one width per stage`);
  }
  // Each stage's last conv keeps its own width and the next stage's blocks take theirs: only equal widths chain.
  if (widths.some((w) => w !== widths[0])) throw unsupported(`decoder_block_out_channels ${JSON.stringify(widths)} differ; DecoderTiny runs only with one width for every stage`);
  const scalingFactor = finiteNumber(config, 'scaling_factor');
  if (scalingFactor === 0) throw configError('scaling_factor is 0');
  return {
    latentChannels: positiveInt(config, 'latent_channels'),
    outChannels: positiveInt(config, 'out_channels'),
    blockOutChannels: widths,
    numBlocks,
    upsampleFactor: positiveInt(config, 'upsampling_scaling_factor'),
    scalingFactor,
    shiftFactor: finiteNumber(config, 'shift_factor'),
  };
}

/** How much the decoder enlarges the latent grid: the factor once per stage boundary. */
export function taesdUpscale(c: TaesdConfig): number {
  return c.upsampleFactor ** (c.numBlocks.length - 1);
}

/** Reads decoder tensors as float32 after checking their shapes, and remembers which keys it read. */
class DecoderReader {
  readonly used = new Set<string>();

  constructor(private readonly index: TensorIndex) {}

  private async tensor(key: string, shape: number[]): Promise<Float32Array> {
    expectTensor(this.index, key, shape);
    this.used.add(key);
    return this.index.readTensor(key);
  }

  /** A 3x3 conv, padding 1; `bias` false for DecoderTiny's bias-free upsample convs (zeros in the graph). */
  async conv(prefix: string, inC: number, outC: number, bias = true): Promise<Conv2d> {
    const w = await this.tensor(`${prefix}.weight`, [outC, inC, 3, 3]);
    const b = bias ? await this.tensor(`${prefix}.bias`, [outC]) : new Float32Array(outC);
    return { inC, outC, k: 3, stride: 1, pad: 1, w, b };
  }
}

/**
 * The decoder's tensors (decoder.layers.N as nn.Sequential numbers them: conv_in, ReLU, then per
 * stage its blocks, and between stages Upsample + conv), shapes checked against the config. A
 * decoder tensor the layout does not have (a bias on an upsample conv, a block more than the
 * config says) is refused: the file and the config disagree, and which is right cannot be told.
 */
export async function loadTaesdDecoder(index: TensorIndex, config: JsonObject): Promise<TaesdDecoderParams> {
  const c = readTaesdConfig(config);
  const r = new DecoderReader(index);
  const width = c.blockOutChannels[0]!;
  const convIn = await r.conv('decoder.layers.0', c.latentChannels, width);
  let layer = 2; // layers.1 is the ReLU after conv_in
  const stages: TaesdStageParams[] = [];
  let convOut: Conv2d | undefined;
  for (const [i, count] of c.numBlocks.entries()) {
    const blocks: TaesdBlockParams[] = [];
    for (let j = 0; j < count; j++, layer++) {
      const p = `decoder.layers.${layer}.conv`;
      blocks.push({ convs: [await r.conv(`${p}.0`, width, width), await r.conv(`${p}.2`, width, width), await r.conv(`${p}.4`, width, width)] });
    }
    if (i < c.numBlocks.length - 1) {
      layer++; // the Upsample
      stages.push({ blocks, upsampleConv: await r.conv(`decoder.layers.${layer++}`, width, width, false) });
    } else {
      stages.push({ blocks, upsampleConv: null });
      convOut = await r.conv(`decoder.layers.${layer}`, width, c.outChannels);
    }
  }
  const extra = index.keys().find((k) => k.startsWith('decoder.') && !r.used.has(k));
  if (extra !== undefined) {
    throw new ConvertError('wrong-model', `${index.name} holds ${extra}, which the decoder layout of ${CONFIG_FILE} (num_decoder_blocks ${JSON.stringify(c.numBlocks)}) does not have`, {
      file: index.name,
      key: extra,
    });
  }
  return { config: c, convIn, stages, convOut: convOut! };
}

/** AutoencoderTinyBlock: relu(conv(relu(conv(relu(conv(x))))) + x). */
function emitBlock(g: GraphBuilder, x: string, b: TaesdBlockParams, name: string): string {
  return g.scope(name, () => {
    const [c0, c2, c4] = b.convs;
    let h = g.op('Relu', [emitConv(g, x, c0, FP32, 'conv.0')]);
    h = g.op('Relu', [emitConv(g, h, c2, FP32, 'conv.2')]);
    h = emitConv(g, h, c4, FP32, 'conv.4');
    return g.op('Relu', [g.op('Add', [h, x])]);
  });
}

/** nn.Upsample(scale_factor, mode='nearest'): source index floor(i / factor). */
function emitNearestUpsample(g: GraphBuilder, x: string, factor: number): string {
  return g.op('Resize', [x, '', g.constF32([1, 1, factor, factor])], {
    mode: attr.string('nearest'),
    coordinate_transformation_mode: attr.string('asymmetric'),
    nearest_mode: attr.string('floor'),
  });
}

/**
 * latent [B, C, h, w] in the DiT's space -> image [B, 3, s h, s w] (s = 8 for TAESD3) in [-1, 1]
 * (not clamped, as vae_decoder's): AutoencoderTiny.decode(latent / scaling_factor + shift_factor).
 * fp32 throughout: the weights are a few MB.
 */
export function buildPreviewDecoder(p: TaesdDecoderParams): IrGraph {
  const c = p.config;
  const g = new GraphBuilder('preview_decoder');
  const latent = g.input('latent', 'float32', ['batch', c.latentChannels, 'latent_height', 'latent_width']);
  let z = latent;
  if (c.scalingFactor !== 1) z = g.op('Div', [z, g.constF32([c.scalingFactor])]);
  if (c.shiftFactor !== 0) z = g.op('Add', [z, g.constF32([c.shiftFactor])]);
  const clamp = g.constF32([CLAMP]);
  let x = g.op('Mul', [g.op('Tanh', [g.op('Div', [z, clamp])]), clamp]);
  x = g.op('Relu', [emitConv(g, x, p.convIn, FP32, 'decoder.layers.0')]);
  let layer = 2;
  for (const stage of p.stages) {
    for (const block of stage.blocks) x = emitBlock(g, x, block, `decoder.layers.${layer++}`);
    if (stage.upsampleConv) {
      x = emitNearestUpsample(g, x, c.upsampleFactor);
      layer++;
      x = emitConv(g, x, stage.upsampleConv, FP32, `decoder.layers.${layer++}`);
    }
  }
  x = emitConv(g, x, p.convOut, FP32, `decoder.layers.${layer}`);
  // DecoderTiny's [0, 1] image to diffusers' [-1, 1].
  const image = g.op('Sub', [g.op('Mul', [x, g.constF32([2])]), g.constF32([1])]);
  g.output(image, 'image', 'float32', ['batch', c.outChannels, 'height', 'width']);
  return g.build();
}

const WEIGHTS_FILE = 'diffusion_pytorch_model.safetensors';

async function readConfig(folder: FolderSource): Promise<JsonObject> {
  const file = folder.open(CONFIG_FILE);
  if (!file) throw new ConvertError('missing-file', `${CONFIG_FILE} is missing (a diffusers AutoencoderTiny folder such as madebyollin/taesd3 has config.json and ${WEIGHTS_FILE})`, { file: CONFIG_FILE });
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(await file.read(0, file.size)));
  } catch (cause) {
    throw new ConvertError('bad-json', `${CONFIG_FILE} is not valid JSON: ${(cause as Error).message}`, { file: CONFIG_FILE, cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConvertError('bad-json', `${CONFIG_FILE} does not hold a JSON object`, { file: CONFIG_FILE });
  return value as JsonObject;
}

/**
 * The preview decoder of a TAESD folder (config.json + diffusion_pytorch_model.safetensors), checked
 * against the model it previews: the same latent channels and the same upscale as its VAE. Every
 * error says it is about the preview folder (its files have the same names as the model's own).
 */
export async function loadPreviewFolder(folder: FolderSource, model: { latentChannels: number; downsample: number }): Promise<TaesdDecoderParams> {
  try {
    const params = await loadTaesdDecoder(await openCheckpoint(folder, WEIGHTS_FILE), await readConfig(folder));
    const c = params.config;
    if (c.latentChannels !== model.latentChannels || taesdUpscale(c) !== model.downsample) {
      throw new ConvertError(
        'wrong-model',
        `it decodes ${c.latentChannels}-channel latents ${taesdUpscale(c)}x, the model's VAE ${model.latentChannels}-channel latents ${model.downsample}x; for SD3 / SD3.5 use madebyollin/taesd3`,
        { file: CONFIG_FILE },
      );
    }
    return params;
  } catch (e) {
    if (!(e instanceof ConvertError)) throw e;
    throw new ConvertError(e.code, `the preview folder (TAESD): ${e.message}`, { file: e.file, key: e.key, cause: e });
  }
}
