/**
 * FLUX.2's transformer (diffusers' Flux2Transformer2DModel: klein 4B, base 4B, 9B-kv) as the
 * studio's FLUX.2 graph weights (workers/packbuild/models/flux2.ts). As for SD3, every key the
 * config implies is checked for presence, shape and a float dtype (fp32, fp16 or bf16: the real
 * repos ship bf16, read exactly) before anything is read, and a key it does not imply is an error.
 *
 * Layout changes: linear weights [out, in] -> ours [in, out]; nothing else (FLUX.2 has no biases,
 * patch size 1 so no unpatchify order, and the emitter reads norm_out's chunks in diffusers'
 * (scale, shift) order).
 */
import type { Flux2Params } from '../../packbuild/models/flux2';
import type { Linear } from '../../packbuild/params';
import { ConvertError } from '../errors';
import type { JsonObject } from '../folder';
import { expectTensor, type TensorIndex } from '../safetensors';
import { torchTimestepFrequencies } from '../sd3/transformer';

export interface Flux2TransformerOptions {
  /**
   * Applied to every linear as soon as it is read (the converter's stored form: int4, int8, fp16);
   * `fragile` marks the layers flux2LinearPrecision keeps higher.
   */
  compact?: (lin: Linear, fragile: boolean) => Linear;
}

interface Flux2TransformerConfig {
  doubleLayers: number;
  singleLayers: number;
  heads: number;
  headDim: number;
  dim: number;
  channels: number;
  jointDim: number;
  mlpHidden: number;
  timeChannels: number;
  axesDims: number[];
  ropeTheta: number;
}

const FILE = 'transformer/config.json';
const configError = (message: string) => new ConvertError('bad-json', `transformer config: ${message}`, { file: FILE });
const unsupported = (message: string) => new ConvertError('wrong-model', `transformer config: ${message}`, { file: FILE });

function positiveInt(config: JsonObject, key: string, fallback?: number): number {
  const v = config[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw configError(`${key} is ${JSON.stringify(v)}, expected a positive integer`);
  return v;
}

function parseConfig(config: JsonObject): Flux2TransformerConfig {
  const heads = positiveInt(config, 'num_attention_heads');
  const headDim = positiveInt(config, 'attention_head_dim');
  const dim = heads * headDim;
  const channels = positiveInt(config, 'in_channels');
  const out = config.out_channels === undefined || config.out_channels === null ? channels : positiveInt(config, 'out_channels');
  if (out !== channels) throw unsupported(`out_channels ${out} differs from in_channels ${channels}`);
  const patch = positiveInt(config, 'patch_size', 1);
  if (patch !== 1) throw unsupported(`patch_size ${patch} (FLUX.2 patchifies in the VAE; the transformer's is 1)`);
  if (config.guidance_embeds === true) throw unsupported('guidance_embeds is true: this is a guidance-distilled FLUX.2 (dev), not klein');
  const ratio = config.mlp_ratio ?? 3;
  if (typeof ratio !== 'number' || !(ratio > 0)) throw configError(`mlp_ratio is ${JSON.stringify(ratio)}`);
  const axes = config.axes_dims_rope ?? [32, 32, 32, 32];
  if (!Array.isArray(axes) || axes.length !== 4 || !axes.every((a): a is number => Number.isSafeInteger(a) && a > 0 && a % 2 === 0)) {
    throw configError(`axes_dims_rope is ${JSON.stringify(axes)}, expected 4 even dims`);
  }
  if (axes.reduce((a, b) => a + b, 0) !== headDim) throw configError(`axes_dims_rope ${JSON.stringify(axes)} do not sum to attention_head_dim ${headDim}`);
  const theta = config.rope_theta ?? 2000;
  if (typeof theta !== 'number' || !(theta > 1)) throw configError(`rope_theta is ${JSON.stringify(theta)}`);
  const eps = config.eps ?? 1e-6;
  if (eps !== 1e-6) throw unsupported(`eps ${JSON.stringify(eps)} (the graphs use 1e-6, as every FLUX.2)`);
  return {
    doubleLayers: positiveInt(config, 'num_layers'),
    singleLayers: positiveInt(config, 'num_single_layers'),
    heads,
    headDim,
    dim,
    channels,
    jointDim: positiveInt(config, 'joint_attention_dim'),
    mlpHidden: Math.trunc(dim * ratio),
    timeChannels: positiveInt(config, 'timestep_guidance_channels', 256),
    axesDims: axes,
    ropeTheta: theta,
  };
}

/** Linears kept at fp16 or above whatever the pack's precision (flux2LinearPrecision): the shared modulation, the embedders, norm_out, proj_out. */
export const isFlux2FragileLinear = (key: string): boolean => /embedder|modulation|norm_out|proj_out/.test(key);

/** Every key of the transformer its config describes, with its shape (diffusers' layout). */
export function flux2TransformerKeys(config: JsonObject): Map<string, number[]> {
  const c = parseConfig(config);
  const { dim: D, mlpHidden: M } = c;
  const keys = new Map<string, number[]>();
  const linear = (key: string, inF: number, outF: number) => keys.set(`${key}.weight`, [outF, inF]);
  linear('x_embedder', c.channels, D);
  linear('context_embedder', c.jointDim, D);
  linear('time_guidance_embed.timestep_embedder.linear_1', c.timeChannels, D);
  linear('time_guidance_embed.timestep_embedder.linear_2', D, D);
  linear('double_stream_modulation_img.linear', D, 6 * D);
  linear('double_stream_modulation_txt.linear', D, 6 * D);
  linear('single_stream_modulation.linear', D, 3 * D);
  for (let l = 0; l < c.doubleLayers; l++) {
    const b = `transformer_blocks.${l}`;
    for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0', 'add_q_proj', 'add_k_proj', 'add_v_proj', 'to_add_out']) linear(`${b}.attn.${p}`, D, D);
    for (const n of ['norm_q', 'norm_k', 'norm_added_q', 'norm_added_k']) keys.set(`${b}.attn.${n}.weight`, [c.headDim]);
    for (const ff of ['ff', 'ff_context']) {
      linear(`${b}.${ff}.linear_in`, D, 2 * M);
      linear(`${b}.${ff}.linear_out`, M, D);
    }
  }
  for (let l = 0; l < c.singleLayers; l++) {
    const b = `single_transformer_blocks.${l}`;
    linear(`${b}.attn.to_qkv_mlp_proj`, D, 3 * D + 2 * M);
    linear(`${b}.attn.to_out`, D + M, D);
    keys.set(`${b}.attn.norm_q.weight`, [c.headDim]).set(`${b}.attn.norm_k.weight`, [c.headDim]);
  }
  linear('norm_out.linear', D, 2 * D);
  linear('proj_out', D, c.channels);
  return keys;
}

/** A diffusers linear without bias ([out, in]) as ours ([in, out]). */
function toLinear(w: Float32Array, inF: number, outF: number): Linear {
  const t = new Float32Array(inF * outF);
  for (let j = 0; j < outF; j++) for (let i = 0; i < inF; i++) t[i * outF + j] = w[j * inF + i]!;
  return { inF, outF, w: t, b: null };
}

/** Loads the transformer's weights (see the file comment); `config` is transformer/config.json. */
export async function loadFlux2Transformer(index: TensorIndex, config: JsonObject, opts: Flux2TransformerOptions = {}): Promise<Flux2Params> {
  const c = parseConfig(config);
  const expected = flux2TransformerKeys(config);
  for (const [key, shape] of expected) expectTensor(index, key, shape);
  const extra = index.keys().filter((k) => !expected.has(k));
  if (extra.length > 0) {
    throw new ConvertError('wrong-model', `key ${extra[0]}${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''} in ${index.name} is not part of the FLUX.2 transformer its config describes`, { file: index.name, key: extra[0] });
  }
  const read = (key: string) => index.readTensor(key);
  // Which linears are fragile is said once (isFlux2FragileLinear): the block-size check, the storage bound and this loader agree.
  const lin = async (key: string): Promise<Linear> => {
    const [outF, inF] = expected.get(`${key}.weight`)!;
    const l = toLinear(await read(`${key}.weight`), inF!, outF!);
    return opts.compact ? opts.compact(l, isFlux2FragileLinear(key)) : l;
  };
  const fragile = lin;

  const double: Flux2Params['double'] = [];
  for (let l = 0; l < c.doubleLayers; l++) {
    const b = `transformer_blocks.${l}`;
    double.push({
      image: {
        q: await lin(`${b}.attn.to_q`),
        k: await lin(`${b}.attn.to_k`),
        v: await lin(`${b}.attn.to_v`),
        qNorm: await read(`${b}.attn.norm_q.weight`),
        kNorm: await read(`${b}.attn.norm_k.weight`),
        o: await lin(`${b}.attn.to_out.0`),
        ffIn: await lin(`${b}.ff.linear_in`),
        ffOut: await lin(`${b}.ff.linear_out`),
      },
      text: {
        q: await lin(`${b}.attn.add_q_proj`),
        k: await lin(`${b}.attn.add_k_proj`),
        v: await lin(`${b}.attn.add_v_proj`),
        qNorm: await read(`${b}.attn.norm_added_q.weight`),
        kNorm: await read(`${b}.attn.norm_added_k.weight`),
        o: await lin(`${b}.attn.to_add_out`),
        ffIn: await lin(`${b}.ff_context.linear_in`),
        ffOut: await lin(`${b}.ff_context.linear_out`),
      },
    });
  }
  const single: Flux2Params['single'] = [];
  for (let l = 0; l < c.singleLayers; l++) {
    const b = `single_transformer_blocks.${l}`;
    single.push({
      qkvMlp: await lin(`${b}.attn.to_qkv_mlp_proj`),
      qNorm: await read(`${b}.attn.norm_q.weight`),
      kNorm: await read(`${b}.attn.norm_k.weight`),
      out: await lin(`${b}.attn.to_out`),
    });
  }
  return {
    cfg: {
      dim: c.dim,
      heads: c.heads,
      doubleLayers: c.doubleLayers,
      singleLayers: c.singleLayers,
      channels: c.channels,
      jointDim: c.jointDim,
      mlpHidden: c.mlpHidden,
      axesDims: c.axesDims,
      ropeTheta: c.ropeTheta,
    },
    xEmbed: await fragile('x_embedder'),
    context: await fragile('context_embedder'),
    timeFreqs: torchTimestepFrequencies(c.timeChannels),
    time1: await fragile('time_guidance_embed.timestep_embedder.linear_1'),
    time2: await fragile('time_guidance_embed.timestep_embedder.linear_2'),
    modImage: await fragile('double_stream_modulation_img.linear'),
    modText: await fragile('double_stream_modulation_txt.linear'),
    modSingle: await fragile('single_stream_modulation.linear'),
    double,
    single,
    normOut: await fragile('norm_out.linear'),
    projOut: await fragile('proj_out'),
  };
}
