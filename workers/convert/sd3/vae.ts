/**
 * The SD3 / SD3.5 VAE (diffusers AutoencoderKL with DownEncoderBlock2D / UpDecoderBlock2D, no
 * quant_conv) read from its diffusers folder and written as the pack's vae_encoder / vae_decoder
 * graphs. Both graphs work in the DiT's latent space (docs/pack-format.md 7.2): the encoder outputs
 * (mean - shift_factor) * scaling_factor, the decoder takes that and undoes it itself.
 */
import { GraphBuilder, type IrGraph } from '../../packbuild/ir';
import { emitConv, emitSilu, WHOLE_ATTENTION, type AttentionImpl, type AttentionPieces, type PrecisionSpec } from '../../packbuild/nn';
import type { Conv2d, Linear } from '../../packbuild/params';
import { ConvertError } from '../errors';
import type { JsonObject } from '../folder';
import { expectTensor, type TensorIndex } from '../safetensors';
import {
  emitDownsample,
  emitGroupNorm,
  emitMidBlock,
  emitResnet,
  emitUpsample,
  type AttentionOptions,
  type GroupNormParams,
  type MidBlockParams,
  type ResnetParams,
  type SpatialAttentionParams,
} from './vae-ops';

/** What the graphs need from vae/config.json. */
export interface Sd3VaeConfig {
  inChannels: number;
  outChannels: number;
  latentChannels: number;
  blockOutChannels: readonly number[];
  layersPerBlock: number;
  groups: number;
  midBlockAttention: boolean;
  scalingFactor: number;
  shiftFactor: number;
}

export interface Sd3VaeEncoderParams {
  convIn: Conv2d;
  down: readonly { resnets: readonly ResnetParams[]; downsample: Conv2d | null }[];
  mid: MidBlockParams;
  normOut: GroupNormParams;
  /** 2 * latent channels: the posterior's mean, then its logvar. */
  convOut: Conv2d;
}

export interface Sd3VaeDecoderParams {
  convIn: Conv2d;
  mid: MidBlockParams;
  up: readonly { resnets: readonly ResnetParams[]; upsample: Conv2d | null }[];
  normOut: GroupNormParams;
  convOut: Conv2d;
}

export interface Sd3VaeParams {
  config: Sd3VaeConfig;
  encoder: Sd3VaeEncoderParams;
  decoder: Sd3VaeDecoderParams;
}

/** SD3 runs its VAE in fp32 (force_upcast): the default precision of both graphs. */
export const SD3_VAE_FP32: PrecisionSpec = { matmul: 'fp32', conv: 'fp32', blockSize: 32 };

export interface Sd3VaeGraphOptions {
  /** How the mid block's attention over the h*w latent pixels is cut (16384 tokens at 1024 px: 1 GiB of scores whole). */
  attentionPieces?: AttentionPieces;
  attentionImpl?: AttentionImpl;
}

export interface Sd3VaeEncoderOptions extends Sd3VaeGraphOptions {
  /** Also output the posterior's `mean` and `logvar` (clamped to [-30, 20] as DiagonalGaussianDistribution does). */
  rawMoments?: boolean;
}

/** What loadVaeEncoder / loadVaeDecoder read of a config: the widths of diffusers' Encoder and Decoder, which FLUX.2's VAE shares. */
export type VaeTrunkConfig = Pick<Sd3VaeConfig, 'inChannels' | 'outChannels' | 'latentChannels' | 'blockOutChannels' | 'layersPerBlock' | 'midBlockAttention'>;

const CONFIG_FILE = 'vae/config.json';

function configError(message: string): ConvertError {
  return new ConvertError('bad-json', `${CONFIG_FILE}: ${message}`, { file: CONFIG_FILE });
}

function unsupported(message: string): ConvertError {
  return new ConvertError('wrong-model', `${CONFIG_FILE}: ${message}; the studio converts the SD3 / SD3.5 VAE layout`, { file: CONFIG_FILE });
}

function positiveInt(config: JsonObject, key: string): number {
  const value = config[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw configError(`${key} is ${JSON.stringify(value)}, expected a positive integer`);
  return value;
}

function finiteNumber(config: JsonObject, key: string, fallback?: number): number {
  const value = config[key];
  if ((value === undefined || value === null) && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw configError(`${key} is ${JSON.stringify(value)}, expected a number`);
  return value;
}

function blockTypes(config: JsonObject, key: string, expected: string, count: number): void {
  const value = config[key];
  if (!Array.isArray(value) || value.length !== count || value.some((t) => t !== expected)) {
    throw unsupported(`${key} is ${JSON.stringify(value)}, expected ${count} x ${expected}`);
  }
}

/** Reads and checks vae/config.json; unset options take diffusers' AutoencoderKL defaults. */
export function readSd3VaeConfig(config: JsonObject): Sd3VaeConfig {
  if (config._class_name !== undefined && config._class_name !== 'AutoencoderKL') throw unsupported(`_class_name is ${JSON.stringify(config._class_name)}, not AutoencoderKL`);
  const channels = config.block_out_channels;
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every((c): c is number => Number.isSafeInteger(c) && (c as number) > 0)) {
    throw configError(`block_out_channels is ${JSON.stringify(channels)}, expected a list of positive integers`);
  }
  blockTypes(config, 'down_block_types', 'DownEncoderBlock2D', channels.length);
  blockTypes(config, 'up_block_types', 'UpDecoderBlock2D', channels.length);
  const act = config.act_fn ?? 'silu';
  if (act !== 'silu') throw unsupported(`act_fn is ${JSON.stringify(act)}, not silu`);
  // AutoencoderKL's defaults are true: a config without these keys has the 1x1 quant convs.
  for (const key of ['use_quant_conv', 'use_post_quant_conv']) {
    if (config[key] !== false) throw unsupported(`${key} is ${JSON.stringify(config[key] ?? 'unset (true)')}: quant_conv / post_quant_conv are not supported`);
  }
  for (const key of ['latents_mean', 'latents_std']) {
    if (config[key] !== undefined && config[key] !== null) throw unsupported(`${key} is set: per-channel latent statistics are not supported`);
  }
  const groups = positiveInt(config, 'norm_num_groups');
  const bad = channels.find((c) => c % groups !== 0);
  if (bad !== undefined) throw configError(`norm_num_groups ${groups} does not divide the block width ${bad}`);
  const attention = config.mid_block_add_attention ?? true;
  if (typeof attention !== 'boolean') throw configError(`mid_block_add_attention is ${JSON.stringify(attention)}, expected true or false`);
  return {
    inChannels: positiveInt(config, 'in_channels'),
    outChannels: positiveInt(config, 'out_channels'),
    latentChannels: positiveInt(config, 'latent_channels'),
    blockOutChannels: channels,
    layersPerBlock: positiveInt(config, 'layers_per_block'),
    groups,
    midBlockAttention: attention,
    scalingFactor: finiteNumber(config, 'scaling_factor'),
    shiftFactor: finiteNumber(config, 'shift_factor', 0),
  };
}

/** Reads tensors as float32 after checking each key's shape; names what is missing or misshapen. */
export class VaeReader {
  constructor(
    private readonly index: TensorIndex,
    private readonly groups: number,
  ) {}

  async tensor(key: string, shape: number[]): Promise<Float32Array> {
    expectTensor(this.index, key, shape);
    return this.index.readTensor(key);
  }

  async conv(prefix: string, inC: number, outC: number, k: number, stride = 1, pad = (k - 1) >> 1): Promise<Conv2d> {
    const w = await this.tensor(`${prefix}.weight`, [outC, inC, k, k]);
    const b = await this.tensor(`${prefix}.bias`, [outC]);
    return { inC, outC, k, stride, pad, w, b };
  }

  /** nn.Linear stores [out, in]; params.ts's Linear is [in, out]. */
  async linear(prefix: string, inF: number, outF: number): Promise<Linear> {
    const stored = await this.tensor(`${prefix}.weight`, [outF, inF]);
    const w = new Float32Array(inF * outF);
    for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) w[i * outF + o] = stored[o * inF + i]!;
    return { inF, outF, w, b: await this.tensor(`${prefix}.bias`, [outF]) };
  }

  async groupNorm(prefix: string, channels: number): Promise<GroupNormParams> {
    return { channels, groups: this.groups, gamma: await this.tensor(`${prefix}.weight`, [channels]), beta: await this.tensor(`${prefix}.bias`, [channels]) };
  }

  async resnet(prefix: string, inC: number, outC: number): Promise<ResnetParams> {
    return {
      norm1: await this.groupNorm(`${prefix}.norm1`, inC),
      conv1: await this.conv(`${prefix}.conv1`, inC, outC, 3),
      norm2: await this.groupNorm(`${prefix}.norm2`, outC),
      conv2: await this.conv(`${prefix}.conv2`, outC, outC, 3),
      shortcut: inC === outC ? null : await this.conv(`${prefix}.conv_shortcut`, inC, outC, 1),
    };
  }

  async attention(prefix: string, channels: number): Promise<SpatialAttentionParams> {
    return {
      norm: await this.groupNorm(`${prefix}.group_norm`, channels),
      q: await this.linear(`${prefix}.to_q`, channels, channels),
      k: await this.linear(`${prefix}.to_k`, channels, channels),
      v: await this.linear(`${prefix}.to_v`, channels, channels),
      out: await this.linear(`${prefix}.to_out.0`, channels, channels),
    };
  }

  async midBlock(prefix: string, channels: number, withAttention: boolean): Promise<MidBlockParams> {
    return {
      resnets: [await this.resnet(`${prefix}.resnets.0`, channels, channels), await this.resnet(`${prefix}.resnets.1`, channels, channels)],
      attention: withAttention ? await this.attention(`${prefix}.attentions.0`, channels) : null,
    };
  }
}

export async function loadVaeEncoder(r: VaeReader, c: VaeTrunkConfig): Promise<Sd3VaeEncoderParams> {
  const widths = c.blockOutChannels;
  const top = widths[widths.length - 1]!;
  const down: Sd3VaeEncoderParams['down'][number][] = [];
  let inC = widths[0]!;
  for (const [i, outC] of widths.entries()) {
    const resnets: ResnetParams[] = [];
    for (let j = 0; j < c.layersPerBlock; j++) resnets.push(await r.resnet(`encoder.down_blocks.${i}.resnets.${j}`, j === 0 ? inC : outC, outC));
    const last = i === widths.length - 1;
    down.push({ resnets, downsample: last ? null : await r.conv(`encoder.down_blocks.${i}.downsamplers.0.conv`, outC, outC, 3, 2, 0) });
    inC = outC;
  }
  return {
    convIn: await r.conv('encoder.conv_in', c.inChannels, widths[0]!, 3),
    down,
    mid: await r.midBlock('encoder.mid_block', top, c.midBlockAttention),
    normOut: await r.groupNorm('encoder.conv_norm_out', top),
    convOut: await r.conv('encoder.conv_out', top, 2 * c.latentChannels, 3),
  };
}

export async function loadVaeDecoder(r: VaeReader, c: VaeTrunkConfig): Promise<Sd3VaeDecoderParams> {
  const widths = [...c.blockOutChannels].reverse();
  const top = widths[0]!;
  const up: Sd3VaeDecoderParams['up'][number][] = [];
  let inC = top;
  for (const [i, outC] of widths.entries()) {
    const resnets: ResnetParams[] = [];
    // UpDecoderBlock2D has one resnet more than the encoder's blocks.
    for (let j = 0; j <= c.layersPerBlock; j++) resnets.push(await r.resnet(`decoder.up_blocks.${i}.resnets.${j}`, j === 0 ? inC : outC, outC));
    const last = i === widths.length - 1;
    up.push({ resnets, upsample: last ? null : await r.conv(`decoder.up_blocks.${i}.upsamplers.0.conv`, outC, outC, 3) });
    inC = outC;
  }
  const bottom = widths[widths.length - 1]!;
  return {
    convIn: await r.conv('decoder.conv_in', c.latentChannels, top, 3),
    mid: await r.midBlock('decoder.mid_block', top, c.midBlockAttention),
    up,
    normOut: await r.groupNorm('decoder.conv_norm_out', bottom),
    convOut: await r.conv('decoder.conv_out', bottom, c.outChannels, 3),
  };
}

/**
 * Every tensor of the VAE as float32, shapes checked against the config. A folder whose weights hold
 * quant_conv / post_quant_conv is refused even when its config turns them off: which of the two is
 * wrong cannot be told.
 */
export async function loadSd3VaeParams(index: TensorIndex, config: JsonObject): Promise<Sd3VaeParams> {
  const c = readSd3VaeConfig(config);
  const quant = index.keys().find((k) => k.startsWith('quant_conv.') || k.startsWith('post_quant_conv.'));
  if (quant !== undefined) {
    throw new ConvertError('wrong-model', `${index.name} holds ${quant}, but quant_conv / post_quant_conv are not supported (and ${CONFIG_FILE} turns them off)`, {
      file: index.name,
      key: quant,
    });
  }
  const reader = new VaeReader(index, c.groups);
  return { config: c, encoder: await loadVaeEncoder(reader, c), decoder: await loadVaeDecoder(reader, c) };
}

/** The mid blocks' attention: decomposed and whole unless the options cut it. */
export function vaeAttentionOptions(opts: Sd3VaeGraphOptions): AttentionOptions {
  return { impl: opts.attentionImpl ?? 'decomposed', pieces: opts.attentionPieces ?? WHOLE_ATTENTION };
}

/** Channels [start, end) of an NCHW tensor. */
export function channelSlice(g: GraphBuilder, x: string, start: number, end: number): string {
  return g.op('Slice', [x, g.i64([start]), g.i64([end]), g.i64([1])]);
}

/** diffusers' Encoder: image [B, 3, H, W] -> the posterior's moments [B, 2C, H/8, W/8] (mean, then logvar). */
export function emitVaeEncoderTrunk(g: GraphBuilder, image: string, e: Sd3VaeEncoderParams, prec: PrecisionSpec, attention: AttentionOptions): string {
  let x = emitConv(g, image, e.convIn, prec, 'encoder.conv_in');
  e.down.forEach((block, i) => {
    block.resnets.forEach((r, j) => (x = emitResnet(g, x, r, prec, `encoder.down_blocks.${i}.resnets.${j}`)));
    if (block.downsample) x = emitDownsample(g, x, block.downsample, prec, `encoder.down_blocks.${i}.downsamplers.0`);
  });
  x = emitMidBlock(g, x, e.mid, prec, attention, 'encoder.mid_block');
  x = emitSilu(g, emitGroupNorm(g, x, e.normOut, 'encoder.conv_norm_out'));
  return emitConv(g, x, e.convOut, prec, 'encoder.conv_out');
}

/** diffusers' Decoder: latents [B, C, h, w] (as the decoder's conv_in takes them) -> image [B, 3, 8h, 8w], not clamped. */
export function emitVaeDecoderTrunk(g: GraphBuilder, z: string, d: Sd3VaeDecoderParams, prec: PrecisionSpec, attention: AttentionOptions): string {
  let x = emitConv(g, z, d.convIn, prec, 'decoder.conv_in');
  x = emitMidBlock(g, x, d.mid, prec, attention, 'decoder.mid_block');
  d.up.forEach((block, i) => {
    block.resnets.forEach((r, j) => (x = emitResnet(g, x, r, prec, `decoder.up_blocks.${i}.resnets.${j}`)));
    if (block.upsample) x = emitUpsample(g, x, block.upsample, prec, `decoder.up_blocks.${i}.upsamplers.0`);
  });
  x = emitSilu(g, emitGroupNorm(g, x, d.normOut, 'decoder.conv_norm_out'));
  return emitConv(g, x, d.convOut, prec, 'decoder.conv_out');
}

/** image [B, 3, H, W] in [-1, 1] -> latent [B, C, H/8, W/8] in the DiT's space: (mean - shift) * scale. */
export function buildSd3VaeEncoder(p: Sd3VaeParams, prec: PrecisionSpec = SD3_VAE_FP32, opts: Sd3VaeEncoderOptions = {}): IrGraph {
  const { encoder: e, config: c } = p;
  const g = new GraphBuilder('vae_encoder');
  const image = g.input('image', 'float32', ['batch', c.inChannels, 'height', 'width']);
  const moments = emitVaeEncoderTrunk(g, image, e, prec, vaeAttentionOptions(opts));
  const L = c.latentChannels;
  const mean = channelSlice(g, moments, 0, L);
  const latent = g.op('Mul', [g.op('Sub', [mean, g.constF32([c.shiftFactor])]), g.constF32([c.scalingFactor])]);
  const latentShape = ['batch', L, 'latent_height', 'latent_width'];
  g.output(latent, 'latent', 'float32', latentShape);
  if (opts.rawMoments) {
    g.output(mean, 'mean', 'float32', latentShape);
    const logvar = g.op('Clip', [channelSlice(g, moments, L, 2 * L), g.constF32([-30], []), g.constF32([20], [])]);
    g.output(logvar, 'logvar', 'float32', latentShape);
  }
  return g.build();
}

/** latent [B, C, h, w] in the DiT's space -> image [B, 3, 8h, 8w], decode(latent / scale + shift), not clamped. */
export function buildSd3VaeDecoder(p: Sd3VaeParams, prec: PrecisionSpec = SD3_VAE_FP32, opts: Sd3VaeGraphOptions = {}): IrGraph {
  const { decoder: d, config: c } = p;
  const g = new GraphBuilder('vae_decoder');
  const latent = g.input('latent', 'float32', ['batch', c.latentChannels, 'latent_height', 'latent_width']);
  const z = g.op('Add', [g.op('Div', [latent, g.constF32([c.scalingFactor])]), g.constF32([c.shiftFactor])]);
  g.output(emitVaeDecoderTrunk(g, z, d, prec, vaeAttentionOptions(opts)), 'image', 'float32', ['batch', c.outChannels, 'height', 'width']);
  return g.build();
}
