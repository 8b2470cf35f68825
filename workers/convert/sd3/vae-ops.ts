/**
 * Emitters for the layers of diffusers' AutoencoderKL (the SD3 VAE) that packbuild/nn.ts has no
 * emitter for: GroupNorm, ResnetBlock2D, the padded stride-2 downsampler, the nearest 2x upsampler and
 * the mid block's single-head spatial self-attention. All work on NCHW tensors.
 */
import { attr, type GraphBuilder } from '../../packbuild/ir';
import { emitAttention, emitConv, emitLinear, emitSilu, type AttentionImpl, type AttentionPieces, type PrecisionSpec } from '../../packbuild/nn';
import type { Conv2d, Linear, Norm } from '../../packbuild/params';

/** diffusers' Encoder / Decoder build every GroupNorm (resnets, attention, conv_norm_out) with eps 1e-6, whatever the config says. */
export const VAE_NORM_EPS = 1e-6;

/** nn.GroupNorm(groups, channels, eps, affine=True): gamma and beta per channel. */
export interface GroupNormParams extends Norm {
  channels: number;
  groups: number;
}

/** ResnetBlock2D without a time embedding (temb_channels None, output_scale_factor 1). */
export interface ResnetParams {
  norm1: GroupNormParams;
  conv1: Conv2d;
  norm2: GroupNormParams;
  conv2: Conv2d;
  /** The 1x1 conv_shortcut, present when the block changes the channel count. */
  shortcut: Conv2d | null;
}

/** The mid block's Attention: group_norm, one head as wide as the channels, residual, rescale 1. */
export interface SpatialAttentionParams {
  norm: GroupNormParams;
  q: Linear;
  k: Linear;
  v: Linear;
  out: Linear;
}

export interface MidBlockParams {
  resnets: readonly [ResnetParams, ResnetParams];
  /** null when the config has mid_block_add_attention false. */
  attention: SpatialAttentionParams | null;
}

export interface AttentionOptions {
  impl: AttentionImpl;
  pieces: AttentionPieces;
}

/**
 * GroupNorm as Reshape [B, G, -1] + InstanceNormalization + Reshape back + per-channel affine:
 * ORT-web's WebGPU backend has no GroupNormalization kernel, and InstanceNormalization over the
 * flattened group is exactly the group's mean and (biased) variance.
 */
export function emitGroupNorm(g: GraphBuilder, x: string, n: GroupNormParams, name = 'group_norm'): string {
  return g.scope(name, () => {
    const grouped = g.op('Reshape', [x, g.i64([0, n.groups, -1])]);
    const unitScale = g.constF32(new Array<number>(n.groups).fill(1));
    const zeroBias = g.constF32(new Array<number>(n.groups).fill(0));
    const normed = g.op('InstanceNormalization', [grouped, unitScale, zeroBias], { epsilon: attr.float(VAE_NORM_EPS) });
    const back = g.op('Reshape', [normed, g.op('Shape', [x])]);
    const gamma = g.f32('weight', [n.channels, 1, 1], n.gamma);
    const beta = g.f32('bias', [n.channels, 1, 1], n.beta);
    return g.op('Add', [g.op('Mul', [back, gamma]), beta]);
  });
}

/** norm1 -> SiLU -> conv1 -> norm2 -> SiLU -> conv2, plus the (shortcut of the) input. Dropout is identity at inference. */
export function emitResnet(g: GraphBuilder, x: string, r: ResnetParams, prec: PrecisionSpec, name: string): string {
  return g.scope(name, () => {
    let h = emitConv(g, emitSilu(g, emitGroupNorm(g, x, r.norm1, 'norm1')), r.conv1, prec, 'conv1');
    h = emitConv(g, emitSilu(g, emitGroupNorm(g, h, r.norm2, 'norm2')), r.conv2, prec, 'conv2');
    const skip = r.shortcut ? emitConv(g, x, r.shortcut, prec, 'conv_shortcut') : x;
    return g.op('Add', [skip, h]);
  });
}

/**
 * Downsample2D(padding=0): zero-pad one row at the bottom and one column at the right, then the
 * stride-2 conv (its own padding 0). The asymmetric pad is a Pad node because emitConv pads
 * symmetrically.
 */
export function emitDownsample(g: GraphBuilder, x: string, conv: Conv2d, prec: PrecisionSpec, name: string): string {
  if (conv.stride !== 2 || conv.pad !== 0) throw new Error(`${name}: a downsampler conv has stride 2 and padding 0 (got ${conv.stride}, ${conv.pad})`);
  return g.scope(name, () => {
    const padded = g.op('Pad', [x, g.i64([0, 0, 0, 0, 0, 0, 1, 1])], { mode: attr.string('constant') });
    return emitConv(g, padded, conv, prec, 'conv');
  });
}

/** Upsample2D: F.interpolate(scale_factor=2, mode='nearest') (source index floor(i / 2)), then the 3x3 conv. */
export function emitUpsample(g: GraphBuilder, x: string, conv: Conv2d, prec: PrecisionSpec, name: string): string {
  return g.scope(name, () => {
    const up = g.op('Resize', [x, '', g.constF32([1, 1, 2, 2])], {
      mode: attr.string('nearest'),
      coordinate_transformation_mode: attr.string('asymmetric'),
      nearest_mode: attr.string('floor'),
    });
    return emitConv(g, up, conv, prec, 'conv');
  });
}

/**
 * The mid block's Attention (AttnProcessor2_0 on a 4-D input): the H*W pixels are tokens of width C,
 * group-normed, projected by to_q / to_k / to_v, attended with one head (scale 1/sqrt(C)), projected
 * by to_out.0 and added to the input. The linears stay fp32: they are C x C (a few MB at C = 512) and
 * a VAE's precision names only its convolutions.
 */
export function emitSpatialAttention(g: GraphBuilder, x: string, a: SpatialAttentionParams, opts: AttentionOptions, name: string): string {
  const fp32: PrecisionSpec = { matmul: 'fp32', conv: 'fp32', blockSize: 32 };
  const channels = a.norm.channels;
  return g.scope(name, () => {
    const normed = emitGroupNorm(g, x, a.norm);
    const tokens = g.op('Transpose', [g.op('Reshape', [normed, g.i64([0, 0, -1])])], { perm: attr.ints([0, 2, 1]) });
    const q = emitLinear(g, tokens, a.q, fp32, 'to_q');
    const k = emitLinear(g, tokens, a.k, fp32, 'to_k');
    const v = emitLinear(g, tokens, a.v, fp32, 'to_v');
    const attended = emitAttention(g, q, k, v, null, 1, channels, opts.impl, opts.pieces);
    const projected = emitLinear(g, attended, a.out, fp32, 'to_out.0');
    const image = g.op('Reshape', [g.op('Transpose', [projected], { perm: attr.ints([0, 2, 1]) }), g.op('Shape', [x])]);
    return g.op('Add', [image, x]);
  });
}

/** UNetMidBlock2D: resnet, attention (when there is one), resnet. */
export function emitMidBlock(g: GraphBuilder, x: string, m: MidBlockParams, prec: PrecisionSpec, opts: AttentionOptions, name: string): string {
  return g.scope(name, () => {
    let h = emitResnet(g, x, m.resnets[0], prec, 'resnets.0');
    if (m.attention) h = emitSpatialAttention(g, h, m.attention, opts, 'attentions.0');
    return emitResnet(g, h, m.resnets[1], prec, 'resnets.1');
  });
}
