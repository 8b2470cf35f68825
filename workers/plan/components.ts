/**
 * The weight tensors of the real model parts the presets use, counted from
 * their architectures (diffusers / transformers module layouts): CLIP text
 * towers, Qwen3 decoder layers, the SD3 / SD3.5 MM-DiT, the FLUX.2 transformer
 * and the AutoencoderKL halves. Each function lists every weight once, so the
 * parameter counts can be checked against the published sizes.
 */
import type { BlockShape, Component, ParamGroup } from './architecture';

const lin = (name: string, inF: number, outF: number, bias: boolean, count = 1): ParamGroup => ({ kind: 'linear', name, inF, outF, bias, count });
/** A linear the FLUX.2 packs keep at fp16 whatever their precision (the shared modulation, embedders, output layers). */
const fragile = (name: string, inF: number, outF: number): ParamGroup => ({ kind: 'linear', name, inF, outF, bias: false, count: 1, atLeastHalf: true });
const conv = (name: string, inC: number, outC: number, kernel: number, count = 1): ParamGroup => ({ kind: 'conv', name, inC, outC, kernel, bias: true, count });
const table = (name: string, elements: number, count = 1): ParamGroup => ({ kind: 'table', name, elements, count });

export interface ClipConfig {
  name: string;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  projection: number;
  vocab: number;
  positions: number;
}

/** CLIPTextModelWithProjection: embeddings, pre-LN blocks with biases, final LN, text_projection (no bias). */
export function clipText(c: ClipConfig): Component {
  const D = c.hidden;
  return {
    name: c.name,
    groups: [
      table('token_embedding', c.vocab * D),
      table('position_embedding', c.positions * D),
      table('layer_norm1, layer_norm2 (weight, bias)', 4 * D, c.layers),
      lin('self_attn q, k, v, out', D, D, true, 4 * c.layers),
      lin('mlp.fc1', D, c.intermediate, true, c.layers),
      lin('mlp.fc2', c.intermediate, D, true, c.layers),
      table('final_layer_norm', 2 * D),
      lin('text_projection', D, c.projection, false),
    ],
  };
}

export const clipBlock = (c: ClipConfig): BlockShape => ({
  width: c.hidden,
  heads: c.heads,
  qkvWidth: 3 * c.hidden,
  attnOutWidth: c.hidden,
  mlpHidden: c.intermediate,
  gatedMlp: false,
});

export interface Qwen3Config {
  name: string;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  vocab: number;
  /** Decoder layers the graph keeps (FLUX.2 reads the outputs of layers 8, 17 and 26: 27 layers). */
  layers: number;
}

/**
 * Qwen3 decoder layers (no biases, q/k RMSNorm per head, SwiGLU) and the token
 * embedding. The final norm and lm_head are never needed by FLUX.2.
 */
export function qwen3Text(c: Qwen3Config): Component {
  const D = c.hidden;
  const q = c.heads * c.headDim;
  const kv = c.kvHeads * c.headDim;
  return {
    name: c.name,
    groups: [
      table('embed_tokens', c.vocab * D),
      table('input_layernorm, post_attention_layernorm', 2 * D, c.layers),
      table('self_attn.q_norm, k_norm', 2 * c.headDim, c.layers),
      lin('self_attn.q_proj', D, q, false, c.layers),
      lin('self_attn.k_proj, v_proj', D, kv, false, 2 * c.layers),
      lin('self_attn.o_proj', q, D, false, c.layers),
      lin('mlp.gate_proj, up_proj', D, c.intermediate, false, 2 * c.layers),
      lin('mlp.down_proj', c.intermediate, D, false, c.layers),
    ],
  };
}

export const qwen3Block = (c: Qwen3Config): BlockShape => ({
  width: c.hidden,
  heads: c.heads,
  qkvWidth: (c.heads + 2 * c.kvHeads) * c.headDim,
  attnOutWidth: c.heads * c.headDim,
  mlpHidden: c.intermediate,
  gatedMlp: true,
});

export interface Sd3Config {
  name: string;
  layers: number;
  hidden: number;
  heads: number;
  headDim: number;
  latentChannels: number;
  patchSize: number;
  jointDim: number;
  pooledDim: number;
  /** Entries of the positional table the graph stores (192 x 192 for SD3 Medium). */
  posTableEntries: number;
  /** qk RMSNorm weights per block (SD3.5). */
  qkNorm: boolean;
  /** Blocks 0..dualAttentionBlocks-1 have the extra image-only attention (SD3.5 MMDiT-X). */
  dualAttentionBlocks: number;
}

/**
 * The image-stream side of SD3's transformer: what a reference pass needs.
 * With `full`, the text stream, context embedder and output head too (the step
 * graphs). The last block is context-pre-only (no text output: no to_add_out,
 * no ff_context, a 2-chunk context norm); in the reference pass its attention
 * output and MLP are unused (only its K and V are read).
 */
export function sd3Transformer(c: Sd3Config, part: 'full' | 'image-stream'): Component {
  const D = c.hidden;
  const L = c.layers;
  const full = part === 'full';
  const dual = c.dualAttentionBlocks;
  const groups: ParamGroup[] = [
    conv('pos_embed.proj', c.latentChannels, D, c.patchSize),
    table('pos_embed (positional table)', c.posTableEntries * D),
    lin('time_text_embed.timestep_embedder.linear_1', 256, D, true),
    lin('time_text_embed.timestep_embedder.linear_2', D, D, true),
    lin('time_text_embed.text_embedder.linear_1', c.pooledDim, D, true),
    lin('time_text_embed.text_embedder.linear_2', D, D, true),
    // norm1 (AdaLayerNormZero): 6 chunks, 9 in SD3.5's dual-attention blocks.
    lin('norm1.linear (6 chunks)', D, 6 * D, true, L - dual),
    lin('norm1.linear (9 chunks)', D, 9 * D, true, dual),
    lin('attn.to_q, to_k, to_v', D, D, true, 3 * L),
    // The reference pass reads only the last block's K and V.
    lin('attn.to_out.0', D, D, true, full ? L : L - 1),
    lin('ff.net.0.proj', D, 4 * D, true, full ? L : L - 1),
    lin('ff.net.2', 4 * D, D, true, full ? L : L - 1),
    lin('attn2.to_q, to_k, to_v, to_out.0', D, D, true, 4 * dual),
  ];
  if (c.qkNorm) groups.push(table('attn.norm_q, norm_k (+ attn2)', 2 * c.headDim, L + dual));
  if (full) {
    groups.push(
      lin('context_embedder', c.jointDim, D, true),
      lin('norm1_context.linear (6 chunks)', D, 6 * D, true, L - 1),
      lin('norm1_context.linear (last block, 2 chunks)', D, 2 * D, true),
      lin('attn.add_q_proj, add_k_proj, add_v_proj', D, D, true, 3 * L),
      lin('attn.to_add_out', D, D, true, L - 1),
      lin('ff_context.net.0.proj', D, 4 * D, true, L - 1),
      lin('ff_context.net.2', 4 * D, D, true, L - 1),
      lin('norm_out.linear', D, 2 * D, true),
      lin('proj_out', D, c.patchSize * c.patchSize * c.latentChannels, true),
    );
    if (c.qkNorm) groups.push(table('attn.norm_added_q, norm_added_k', 2 * c.headDim, L));
  }
  return { name: c.name, groups };
}

export const sd3Block = (c: Sd3Config): BlockShape => ({
  width: c.hidden,
  heads: c.heads,
  qkvWidth: 3 * c.hidden,
  attnOutWidth: c.hidden,
  mlpHidden: 4 * c.hidden,
  gatedMlp: false,
});

export interface Flux2Config {
  name: string;
  doubleBlocks: number;
  singleBlocks: number;
  heads: number;
  headDim: number;
  jointDim: number;
  mlpRatio: number;
  /** Packed latent channels (32 VAE channels x 2 x 2). */
  inChannels: number;
}

/**
 * FLUX.2's transformer (no biases, weightless LayerNorms, per-head RMSNorm
 * weights of 128). With `image-stream`, what a reference pass (klein-kv)
 * needs: no context embedder, text modulation, text halves of the double
 * blocks or output head, and no output projection in the last single block.
 */
export function flux2Transformer(c: Flux2Config, part: 'full' | 'image-stream'): Component {
  const D = c.heads * c.headDim;
  const M = c.mlpRatio * D;
  const full = part === 'full';
  const nd = c.doubleBlocks;
  const ns = c.singleBlocks;
  const groups: ParamGroup[] = [
    fragile('x_embedder', c.inChannels, D),
    fragile('time_guidance_embed.timestep_embedder.linear_1', 256, D),
    fragile('time_guidance_embed.timestep_embedder.linear_2', D, D),
    fragile('double_stream_modulation_img.linear', D, 6 * D),
    fragile('single_stream_modulation.linear', D, 3 * D),
    lin('double attn.to_q, to_k, to_v, to_out.0', D, D, false, 4 * nd),
    table('double attn.norm_q, norm_k', 2 * c.headDim, nd),
    lin('double ff.linear_in (gate | up)', D, 2 * M, false, nd),
    lin('double ff.linear_out', M, D, false, nd),
    lin('single attn.to_qkv_mlp_proj', D, 3 * D + 2 * M, false, ns),
    lin('single attn.to_out', D + M, D, false, full ? ns : ns - 1),
    table('single attn.norm_q, norm_k', 2 * c.headDim, ns),
  ];
  if (full) {
    groups.push(
      fragile('context_embedder', c.jointDim, D),
      fragile('double_stream_modulation_txt.linear', D, 6 * D),
      lin('double attn.add_q_proj, add_k_proj, add_v_proj, to_add_out', D, D, false, 4 * nd),
      table('double attn.norm_added_q, norm_added_k', 2 * c.headDim, nd),
      lin('double ff_context.linear_in (gate | up)', D, 2 * M, false, nd),
      lin('double ff_context.linear_out', M, D, false, nd),
      fragile('norm_out.linear', D, 2 * D),
      fragile('proj_out', D, c.inChannels),
    );
  }
  return { name: c.name, groups };
}

export function flux2Blocks(c: Flux2Config): BlockShape[] {
  const D = c.heads * c.headDim;
  const M = c.mlpRatio * D;
  return [
    { width: D, heads: c.heads, qkvWidth: 3 * D, attnOutWidth: D, mlpHidden: M, gatedMlp: true },
    // Single-stream: q, k, v and the MLP input come out of one fused projection.
    { width: D, heads: c.heads, qkvWidth: 3 * D + 2 * M, attnOutWidth: D, mlpHidden: 0, gatedMlp: true },
  ];
}

export interface VaeConfig {
  blockOut: number[];
  layersPerBlock: number;
  latentChannels: number;
  /** quant_conv / post_quant_conv (FLUX.2 has them, SD3 not). */
  quantConvs: boolean;
  /** Stored latent statistics (FLUX.2's BatchNorm running mean and variance), elements. */
  latentStats: number;
}

/** ResNet block: two GroupNorms (weight, bias), two 3x3 convs, a 1x1 shortcut when the width changes. */
function resnet(name: string, cIn: number, cOut: number, count: number): ParamGroup[] {
  const g: ParamGroup[] = [
    table(`${name} norm1, norm2`, 2 * cIn + 2 * cOut, count),
    conv(`${name} conv1`, cIn, cOut, 3, count),
    conv(`${name} conv2`, cOut, cOut, 3, count),
  ];
  if (cIn !== cOut) g.push(conv(`${name} conv_shortcut`, cIn, cOut, 1, count));
  return g;
}

/** The mid block: ResNet, single-head attention (group norm, q, k, v, out), ResNet. */
function midBlock(c: number): ParamGroup[] {
  return [...resnet('mid_block resnets', c, c, 2), table('mid_block attention group_norm', 2 * c), lin('mid_block attention to_q, to_k, to_v, to_out', c, c, true, 4)];
}

/** AutoencoderKL's encoder (diffusers Encoder, double_z: mean and log-variance out). */
export function vaeEncoder(c: VaeConfig): Component {
  const levels = c.blockOut.length;
  const groups: ParamGroup[] = [conv('conv_in', 3, c.blockOut[0]!, 3)];
  c.blockOut.forEach((cOut, i) => {
    const cIn = c.blockOut[Math.max(0, i - 1)]!;
    groups.push(...resnet(`down_blocks.${i}.resnets.0`, cIn, cOut, 1), ...resnet(`down_blocks.${i}.resnets.1+`, cOut, cOut, c.layersPerBlock - 1));
    if (i < levels - 1) groups.push(conv(`down_blocks.${i}.downsamplers`, cOut, cOut, 3));
  });
  const cLow = c.blockOut[levels - 1]!;
  groups.push(...midBlock(cLow), table('conv_norm_out', 2 * cLow), conv('conv_out', cLow, 2 * c.latentChannels, 3));
  if (c.quantConvs) groups.push(conv('quant_conv', 2 * c.latentChannels, 2 * c.latentChannels, 1));
  if (c.latentStats) groups.push(table('latent statistics (bn)', c.latentStats));
  return { name: 'VAE encoder', groups: groups.filter((g) => g.count > 0) };
}

/** AutoencoderKL's decoder (layers_per_block + 1 ResNets per level, nearest 2x upsampling + conv). */
export function vaeDecoder(c: VaeConfig): Component {
  const up = [...c.blockOut].reverse();
  const levels = up.length;
  const groups: ParamGroup[] = [];
  if (c.latentStats) groups.push(table('latent statistics (bn)', c.latentStats));
  if (c.quantConvs) groups.push(conv('post_quant_conv', c.latentChannels, c.latentChannels, 1));
  groups.push(conv('conv_in', c.latentChannels, up[0]!, 3), ...midBlock(up[0]!));
  let prev = up[0]!;
  up.forEach((cOut, i) => {
    groups.push(...resnet(`up_blocks.${i}.resnets.0`, prev, cOut, 1), ...resnet(`up_blocks.${i}.resnets.1+`, cOut, cOut, c.layersPerBlock));
    if (i < levels - 1) groups.push(conv(`up_blocks.${i}.upsamplers`, cOut, cOut, 3));
    prev = cOut;
  });
  groups.push(table('conv_norm_out', 2 * up[levels - 1]!), conv('conv_out', up[levels - 1]!, 3, 3));
  return { name: 'VAE decoder', groups };
}
