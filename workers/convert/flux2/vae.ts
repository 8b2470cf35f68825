/**
 * FLUX.2 klein's VAE (diffusers' AutoencoderKLFlux2) read from its diffusers folder and written as
 * the pack's vae_encoder / vae_decoder graphs. Its Encoder and Decoder are those of SD3's
 * AutoencoderKL (loaded and emitted by ../sd3/vae.ts); around them it has
 * - quant_conv (1x1, 2C -> 2C) after the encoder and post_quant_conv (1x1, C -> C) before the
 *   decoder;
 * - a latent space of its own instead of scaling_factor / shift_factor: the pipelines patchify the
 *   posterior mean 2x2 (channel c*4 + dy*2 + dx: 4C channels at 1/16 of the image) and normalise
 *   each of those channels by the running statistics of the VAE's BatchNorm,
 *   (x - running_mean) / sqrt(running_var + batch_norm_eps). The BatchNorm itself never runs.
 *
 * Both graphs work in that space (docs/pack-format.md 7.2): the encoder outputs the normalised,
 * patchified mean, the decoder takes it and undoes both itself.
 *
 * At the graph boundary the latents are grids `latent [B, 4C, h, w]`, not the pipelines' packed
 * tokens [B, h*w, 4C]: the role contract of vae_encoder / vae_decoder is a rank-4 `latent` for every
 * family, FLUX.2's step and reference graphs take grids (`latents`, `ref_latents`) and pack them
 * row-major inside (the pipelines' _pack_latents), and the sampler's noise, the reference cache and
 * the latent preview all hold grids. Tokens out of the encoder would need a second layout in the
 * engine for nothing: the transpose costs the same inside the DiT graph.
 */
import { GraphBuilder, attr, type IrGraph } from '../../packbuild/ir';
import { emitConv, sliceAxis, type PrecisionSpec } from '../../packbuild/nn';
import type { Conv2d } from '../../packbuild/params';
import { ConvertError } from '../errors';
import type { JsonObject } from '../folder';
import { expectTensor, type TensorIndex } from '../safetensors';
import {
  channelSlice,
  emitVaeDecoderTrunk,
  emitVaeEncoderTrunk,
  loadVaeDecoder,
  loadVaeEncoder,
  SD3_VAE_FP32,
  vaeAttentionOptions,
  VaeReader,
  type Sd3VaeDecoderParams,
  type Sd3VaeEncoderOptions,
  type Sd3VaeEncoderParams,
  type Sd3VaeGraphOptions,
  type VaeTrunkConfig,
} from '../sd3/vae';

/** The pipelines' _patchify_latents / _unpatchify_latents are written for 2x2 patches only. */
const PATCH = 2;

/** The BatchNorm's step counter: int64, stored by torch, of no use to inference (accepted, never read). */
const BN_BATCHES_KEY = 'bn.num_batches_tracked';

/** What the graphs need from vae/config.json. */
export interface Flux2VaeConfig extends VaeTrunkConfig {
  /** decoder_block_out_channels, or block_out_channels when it is unset. */
  decoderBlockOutChannels: readonly number[];
  groups: number;
  quantConv: boolean;
  postQuantConv: boolean;
  batchNormEps: number;
}

export interface Flux2VaeParams {
  config: Flux2VaeConfig;
  encoder: Sd3VaeEncoderParams;
  decoder: Sd3VaeDecoderParams;
  quantConv: Conv2d | null;
  postQuantConv: Conv2d | null;
  /** bn.running_mean and bn.running_var, [4C] in patchified channel order. */
  bn: { mean: Float32Array; variance: Float32Array };
}

/** The VAE stays fp32 (as SD3's): FLUX.2's latents are only as good as its decoder's last convs. */
export const FLUX2_VAE_FP32: PrecisionSpec = SD3_VAE_FP32;

export type Flux2VaeGraphOptions = Sd3VaeGraphOptions;
/** `rawMoments` adds the posterior's `mean` and `logvar` [B, C, H/8, W/8] (before patchify). */
export type Flux2VaeEncoderOptions = Sd3VaeEncoderOptions;

const CONFIG_FILE = 'vae/config.json';
const configError = (message: string) => new ConvertError('bad-json', `${CONFIG_FILE}: ${message}`, { file: CONFIG_FILE });
const unsupported = (message: string) =>
  new ConvertError('wrong-model', `${CONFIG_FILE}: ${message}; the studio converts the FLUX.2 klein VAE layout`, { file: CONFIG_FILE });

function positiveInt(config: JsonObject, key: string, fallback?: number): number {
  const v = config[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw configError(`${key} is ${JSON.stringify(v)}, expected a positive integer`);
  return v;
}

function flag(config: JsonObject, key: string, fallback: boolean): boolean {
  const v = config[key] ?? fallback;
  if (typeof v !== 'boolean') throw configError(`${key} is ${JSON.stringify(v)}, expected true or false`);
  return v;
}

function widths(config: JsonObject, key: string): number[] {
  const v = config[key];
  if (!Array.isArray(v) || v.length === 0 || !v.every((c): c is number => Number.isSafeInteger(c) && (c as number) > 0)) {
    throw configError(`${key} is ${JSON.stringify(v)}, expected a list of positive integers`);
  }
  return v;
}

function blockTypes(config: JsonObject, key: string, expected: string, count: number): void {
  const v = config[key];
  if (!Array.isArray(v) || v.length !== count || v.some((t) => t !== expected)) throw unsupported(`${key} is ${JSON.stringify(v)}, expected ${count} x ${expected}`);
}

/** Reads and checks vae/config.json; unset options take AutoencoderKLFlux2's defaults. */
export function readFlux2VaeConfig(config: JsonObject): Flux2VaeConfig {
  if (config._class_name !== undefined && config._class_name !== 'AutoencoderKLFlux2') {
    throw unsupported(`_class_name is ${JSON.stringify(config._class_name)}, not AutoencoderKLFlux2`);
  }
  const encoderWidths = widths(config, 'block_out_channels');
  const decoderWidths = config.decoder_block_out_channels === undefined || config.decoder_block_out_channels === null ? encoderWidths : widths(config, 'decoder_block_out_channels');
  blockTypes(config, 'down_block_types', 'DownEncoderBlock2D', encoderWidths.length);
  blockTypes(config, 'up_block_types', 'UpDecoderBlock2D', decoderWidths.length);
  const act = config.act_fn ?? 'silu';
  if (act !== 'silu') throw unsupported(`act_fn is ${JSON.stringify(act)}, not silu`);
  const patch = config.patch_size ?? [PATCH, PATCH];
  if (!Array.isArray(patch) || patch.length !== 2 || patch.some((p) => p !== PATCH)) throw unsupported(`patch_size is ${JSON.stringify(patch)}, expected [2, 2]`);
  const groups = positiveInt(config, 'norm_num_groups', 32);
  const bad = [...encoderWidths, ...decoderWidths].find((c) => c % groups !== 0);
  if (bad !== undefined) throw configError(`norm_num_groups ${groups} does not divide the block width ${bad}`);
  const eps = config.batch_norm_eps ?? 1e-4;
  if (typeof eps !== 'number' || !(eps >= 0)) throw configError(`batch_norm_eps is ${JSON.stringify(eps)}, expected a number >= 0`);
  return {
    inChannels: positiveInt(config, 'in_channels', 3),
    outChannels: positiveInt(config, 'out_channels', 3),
    latentChannels: positiveInt(config, 'latent_channels', 32),
    blockOutChannels: encoderWidths,
    decoderBlockOutChannels: decoderWidths,
    layersPerBlock: positiveInt(config, 'layers_per_block', 2),
    groups,
    midBlockAttention: flag(config, 'mid_block_add_attention', true),
    quantConv: flag(config, 'use_quant_conv', true),
    postQuantConv: flag(config, 'use_post_quant_conv', true),
    batchNormEps: eps,
  };
}

/** The latent space the transformer sees: 4C channels at 1/16 of the image (the manifest's `latent`). */
export function flux2VaeLatentSpace(c: Flux2VaeConfig): { channels: number; downsample: number } {
  return { channels: PATCH * PATCH * c.latentChannels, downsample: PATCH * 2 ** (c.blockOutChannels.length - 1) };
}

/** The diffusers key layout of one Encoder / Decoder, as loadVaeEncoder / loadVaeDecoder read it. */
class KeyList {
  readonly keys = new Map<string, number[]>();

  conv(prefix: string, inC: number, outC: number, k: number): void {
    this.keys.set(`${prefix}.weight`, [outC, inC, k, k]).set(`${prefix}.bias`, [outC]);
  }

  /** GroupNorm (weight, bias) and nn.Linear (weight [out, in], bias) alike. */
  affine(prefix: string, channels: number, inF?: number): void {
    this.keys.set(`${prefix}.weight`, inF === undefined ? [channels] : [channels, inF]).set(`${prefix}.bias`, [channels]);
  }

  resnet(prefix: string, inC: number, outC: number): void {
    this.affine(`${prefix}.norm1`, inC);
    this.conv(`${prefix}.conv1`, inC, outC, 3);
    this.affine(`${prefix}.norm2`, outC);
    this.conv(`${prefix}.conv2`, outC, outC, 3);
    if (inC !== outC) this.conv(`${prefix}.conv_shortcut`, inC, outC, 1);
  }

  midBlock(prefix: string, channels: number, attention: boolean): void {
    this.resnet(`${prefix}.resnets.0`, channels, channels);
    this.resnet(`${prefix}.resnets.1`, channels, channels);
    if (!attention) return;
    this.affine(`${prefix}.attentions.0.group_norm`, channels);
    for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) this.affine(`${prefix}.attentions.0.${p}`, channels, channels);
  }

  encoder(c: Flux2VaeConfig): void {
    const w = c.blockOutChannels;
    const top = w[w.length - 1]!;
    this.conv('encoder.conv_in', c.inChannels, w[0]!, 3);
    w.forEach((outC, i) => {
      const inC = i > 0 ? w[i - 1]! : w[0]!;
      for (let j = 0; j < c.layersPerBlock; j++) this.resnet(`encoder.down_blocks.${i}.resnets.${j}`, j === 0 ? inC : outC, outC);
      if (i < w.length - 1) this.conv(`encoder.down_blocks.${i}.downsamplers.0.conv`, outC, outC, 3);
    });
    this.midBlock('encoder.mid_block', top, c.midBlockAttention);
    this.affine('encoder.conv_norm_out', top);
    this.conv('encoder.conv_out', top, 2 * c.latentChannels, 3);
  }

  decoder(c: Flux2VaeConfig): void {
    const w = [...c.decoderBlockOutChannels].reverse();
    const bottom = w[w.length - 1]!;
    this.conv('decoder.conv_in', c.latentChannels, w[0]!, 3);
    this.midBlock('decoder.mid_block', w[0]!, c.midBlockAttention);
    w.forEach((outC, i) => {
      const inC = i > 0 ? w[i - 1]! : w[0]!;
      // UpDecoderBlock2D has one resnet more than the encoder's blocks.
      for (let j = 0; j <= c.layersPerBlock; j++) this.resnet(`decoder.up_blocks.${i}.resnets.${j}`, j === 0 ? inC : outC, outC);
      if (i < w.length - 1) this.conv(`decoder.up_blocks.${i}.upsamplers.0.conv`, outC, outC, 3);
    });
    this.affine('decoder.conv_norm_out', bottom);
    this.conv('decoder.conv_out', bottom, c.outChannels, 3);
  }
}

function keysOf(c: Flux2VaeConfig): Map<string, number[]> {
  const list = new KeyList();
  list.encoder(c);
  list.decoder(c);
  const L = c.latentChannels;
  if (c.quantConv) list.conv('quant_conv', 2 * L, 2 * L, 1);
  if (c.postQuantConv) list.conv('post_quant_conv', L, L, 1);
  const { channels } = flux2VaeLatentSpace(c);
  return list.keys.set('bn.running_mean', [channels]).set('bn.running_var', [channels]);
}

/** Every float tensor of the VAE its config describes, with its shape (diffusers' layout); bn.num_batches_tracked is not one. */
export function flux2VaeKeys(config: JsonObject): Map<string, number[]> {
  return keysOf(readFlux2VaeConfig(config));
}

/** Checks the whole checkpoint before anything is read: every key present and shaped as the config says, no other key. */
function checkKeys(index: TensorIndex, expected: Map<string, number[]>): void {
  for (const [key, shape] of expected) expectTensor(index, key, shape);
  if (index.has(BN_BATCHES_KEY)) expectTensor(index, BN_BATCHES_KEY, [], { dtypes: ['I64'] });
  const extra = index.keys().filter((k) => !expected.has(k) && k !== BN_BATCHES_KEY);
  if (extra.length > 0) {
    const more = extra.length > 1 ? ` (and ${extra.length - 1} more)` : '';
    throw new ConvertError('wrong-model', `key ${extra[0]}${more} in ${index.name} is not part of the FLUX.2 VAE its config describes`, { file: index.name, key: extra[0] });
  }
}

/** Every tensor of the VAE as float32 (bf16 and fp16 widened exactly), after checkKeys. */
export async function loadFlux2VaeParams(index: TensorIndex, config: JsonObject): Promise<Flux2VaeParams> {
  const c = readFlux2VaeConfig(config);
  checkKeys(index, keysOf(c));
  const r = new VaeReader(index, c.groups);
  const L = c.latentChannels;
  const { channels } = flux2VaeLatentSpace(c);
  return {
    config: c,
    encoder: await loadVaeEncoder(r, c),
    decoder: await loadVaeDecoder(r, { ...c, blockOutChannels: c.decoderBlockOutChannels }),
    quantConv: c.quantConv ? await r.conv('quant_conv', 2 * L, 2 * L, 1) : null,
    postQuantConv: c.postQuantConv ? await r.conv('post_quant_conv', L, L, 1) : null,
    bn: { mean: await r.tensor('bn.running_mean', [channels]), variance: await r.tensor('bn.running_var', [channels]) },
  };
}

/**
 * _patchify_latents: [B, C, 2h, 2w] -> [B, 4C, h, w], channel c*4 + dy*2 + dx. Written as the
 * pipelines' view / permute / reshape: ONNX's SpaceToDepth orders its channels (dy*2 + dx)*C + c
 * and, unlike DepthToSpace, has no CRD mode.
 */
export function emitPatchify(g: GraphBuilder, x: string, channels: number): string {
  return g.scope('patchify', () => {
    const grid = g.op('Div', [sliceAxis(g, g.op('Shape', [x]), g.i64([2]), g.i64([4]), 0), g.i64([PATCH, PATCH])]);
    const h = sliceAxis(g, grid, g.i64([0]), g.i64([1]), 0);
    const w = sliceAxis(g, grid, g.i64([1]), g.i64([2]), 0);
    const patches = g.op('Reshape', [x, g.op('Concat', [g.i64([0, channels]), h, g.i64([PATCH]), w, g.i64([PATCH])], { axis: attr.int(0) })]);
    const moved = g.op('Transpose', [patches], { perm: attr.ints([0, 1, 3, 5, 2, 4]) });
    return g.op('Reshape', [moved, g.op('Concat', [g.i64([0, PATCH * PATCH * channels]), grid], { axis: attr.int(0) })]);
  });
}

/** _unpatchify_latents: [B, 4C, h, w] -> [B, C, 2h, 2w]; DepthToSpace's CRD mode reads channel c*4 + dy*2 + dx, exactly its order. */
export function emitUnpatchify(g: GraphBuilder, x: string): string {
  return g.op('DepthToSpace', [x], { blocksize: attr.int(PATCH), mode: attr.string('CRD') });
}

/** The BatchNorm's statistics as [4C, 1, 1] tensors: running_mean and sqrt(running_var + eps), as the pipelines compute them in fp32. */
function bnTensors(g: GraphBuilder, p: Flux2VaeParams): { mean: string; std: string } {
  const n = p.bn.mean.length;
  const eps = Math.fround(p.config.batchNormEps);
  const std = p.bn.variance.map((v) => Math.sqrt(Math.fround(v + eps)));
  return { mean: g.f32('bn.running_mean', [n, 1, 1], p.bn.mean), std: g.f32('bn.std', [n, 1, 1], std) };
}

/** Patchified VAE latents -> the transformer's: (x - mean) / std (Flux2KleinPipeline._encode_vae_image). */
export function emitBnNormalise(g: GraphBuilder, x: string, p: Flux2VaeParams): string {
  return g.scope('bn', () => {
    const { mean, std } = bnTensors(g, p);
    return g.op('Div', [g.op('Sub', [x, mean]), std]);
  });
}

/** The transformer's latents -> patchified VAE latents: x * std + mean (the end of Flux2KleinPipeline.__call__). */
export function emitBnDenormalise(g: GraphBuilder, x: string, p: Flux2VaeParams): string {
  return g.scope('bn', () => {
    const { mean, std } = bnTensors(g, p);
    return g.op('Add', [g.op('Mul', [x, std]), mean]);
  });
}

/**
 * image [B, 3, H, W] in [-1, 1] -> latent [B, 4C, H/16, W/16]: the posterior mean (encoder,
 * quant_conv, the first C channels), patchified and normalised. `retrieve_latents(..., "argmax")`
 * takes the mean too, so the graph is the pipelines' reference encoding, before _pack_latents.
 */
export function buildFlux2VaeEncoder(p: Flux2VaeParams, prec: PrecisionSpec = FLUX2_VAE_FP32, opts: Flux2VaeEncoderOptions = {}): IrGraph {
  const c = p.config;
  const L = c.latentChannels;
  const g = new GraphBuilder('vae_encoder');
  const image = g.input('image', 'float32', ['batch', c.inChannels, 'height', 'width']);
  let moments = emitVaeEncoderTrunk(g, image, p.encoder, prec, vaeAttentionOptions(opts));
  if (p.quantConv) moments = emitConv(g, moments, p.quantConv, prec, 'quant_conv');
  const mean = channelSlice(g, moments, 0, L);
  const latent = emitBnNormalise(g, emitPatchify(g, mean, L), p);
  g.output(latent, 'latent', 'float32', ['batch', flux2VaeLatentSpace(c).channels, 'latent_height', 'latent_width']);
  if (opts.rawMoments) {
    const shape = ['batch', L, 'moment_height', 'moment_width'];
    g.output(mean, 'mean', 'float32', shape);
    const logvar = g.op('Clip', [channelSlice(g, moments, L, 2 * L), g.constF32([-30], []), g.constF32([20], [])]);
    g.output(logvar, 'logvar', 'float32', shape);
  }
  return g.build();
}

/**
 * latent [B, 4C, h, w] in the transformer's space -> image [B, 3, 16h, 16w], nominally in [-1, 1]
 * and not clamped (the pipelines' image_processor.postprocess clamps (x / 2 + 0.5) to [0, 1]):
 * un-normalise, unpatchify, post_quant_conv, decoder.
 */
export function buildFlux2VaeDecoder(p: Flux2VaeParams, prec: PrecisionSpec = FLUX2_VAE_FP32, opts: Flux2VaeGraphOptions = {}): IrGraph {
  const c = p.config;
  const g = new GraphBuilder('vae_decoder');
  const latent = g.input('latent', 'float32', ['batch', flux2VaeLatentSpace(c).channels, 'latent_height', 'latent_width']);
  let z = emitUnpatchify(g, emitBnDenormalise(g, latent, p));
  if (p.postQuantConv) z = emitConv(g, z, p.postQuantConv, prec, 'post_quant_conv');
  g.output(emitVaeDecoderTrunk(g, z, p.decoder, prec, vaeAttentionOptions(opts)), 'image', 'float32', ['batch', c.outChannels, 'height', 'width']);
  return g.build();
}
