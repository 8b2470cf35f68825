/**
 * SD3 / SD3.5 Medium's transformer (diffusers' SD3Transformer2DModel) as the studio's DiT weights
 * (workers/packbuild/models/dit.ts). Every key the config implies is checked for presence, shape and
 * a float dtype before anything is read, and a key the config does not imply is an error too (a
 * config that disagrees with its weights, e.g. on dual_attention_layers, would convert into a wrong
 * model). Errors are ConvertErrors naming the key.
 *
 * Layout changes, so that the graphs compute exactly what diffusers computes:
 * - linear weights [out, in] -> our [in, out]; q, k, v stay separate (dit.ts fuses them);
 * - AdaLayerNormContinuous (norm_out, and norm1_context of the context_pre_only last block) chunks
 *   its modulation [scale, shift]; ours is [shift, scale]: the two halves of its outputs swap;
 * - proj_out's outputs are (a, b, c) with c fastest (diffusers unpatchifies with
 *   "nhwpqc->nchpwq"); our DepthToSpace CRD reads output c*p*p + a*p + b: outputs permuted;
 * - the timestep frequencies computed in float32 as torch computes them;
 * - pos_embed: only the window the pack's images and references read (Sd3TransformerOptions).
 */
import type { Linear } from '../../packbuild/params';
import { centredWindow, type CentredPositions, type DitParams, type Grid, type QkvParams, type SelfAttentionParams, type StreamParams } from '../../packbuild/models/dit';
import { ConvertError } from '../errors';
import type { JsonObject } from '../folder';
import { expectTensor, type TensorIndex } from '../safetensors';

export interface Sd3TransformerOptions {
  /**
   * Applied to every linear as soon as it is read: the converter compacts it
   * to its stored form (stored-linear.ts), so the transformer never sits in memory in fp32.
   */
  compact?: (lin: Linear) => Linear;
  /**
   * The largest image grid the pack runs, in patches (pixels / 16: SD3's VAE downsamples 8x and its
   * patches are 2x2). The converter then keeps only the window of pos_embed that images up to that
   * grid and their references (one image width to the right) read: at 1024 px, 64 x 128 patches of
   * SD3.5 Medium's 384 x 384 table (1/18 of it). Throws when that grid's references do not fit the
   * table. Absent: the whole table (images up to the table; references only where they fit).
   */
  maxGrid?: Grid;
}

/** SD3's timestep embedding: 256 sinusoid channels (Timesteps(256, flip_sin_to_cos, shift 0)). */
const TIME_CHANNELS = 256;

interface Sd3Config {
  layers: number;
  heads: number;
  headDim: number;
  dim: number;
  patch: number;
  channels: number;
  jointDim: number;
  pooledDim: number;
  tableSize: number;
  qkNorm: boolean;
  dual: ReadonlySet<number>;
}

function configError(message: string): ConvertError {
  return new ConvertError('bad-json', `transformer config: ${message}`, { file: 'transformer/config.json' });
}

function unsupported(message: string): ConvertError {
  return new ConvertError('wrong-model', `transformer config: ${message}`, { file: 'transformer/config.json' });
}

function positiveInt(config: JsonObject, key: string): number {
  const v = config[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw configError(`${key} is ${JSON.stringify(v)}, expected a positive integer`);
  return v;
}

function parseConfig(config: JsonObject): Sd3Config {
  const layers = positiveInt(config, 'num_layers');
  const heads = positiveInt(config, 'num_attention_heads');
  const headDim = positiveInt(config, 'attention_head_dim');
  const dim = heads * headDim;
  const channels = positiveInt(config, 'in_channels');
  const out = config.out_channels === undefined || config.out_channels === null ? channels : positiveInt(config, 'out_channels');
  if (out !== channels) throw unsupported(`out_channels ${out} differs from in_channels ${channels}`);
  const caption = positiveInt(config, 'caption_projection_dim');
  if (caption !== dim) throw unsupported(`caption_projection_dim ${caption} differs from the inner width ${dim} (heads x head dim)`);
  const qk = config.qk_norm ?? null;
  if (qk !== null && qk !== 'rms_norm') throw unsupported(`qk_norm ${JSON.stringify(qk)} (only rms_norm or none)`);
  const dualRaw = config.dual_attention_layers ?? [];
  if (!Array.isArray(dualRaw) || !dualRaw.every((l): l is number => Number.isSafeInteger(l) && l >= 0 && l < layers)) {
    throw configError(`dual_attention_layers is ${JSON.stringify(dualRaw)}, expected layer indices below ${layers}`);
  }
  if (dualRaw.includes(layers - 1)) throw unsupported(`dual attention in the last (context_pre_only) block`);
  return {
    layers,
    heads,
    headDim,
    dim,
    patch: positiveInt(config, 'patch_size'),
    channels,
    jointDim: positiveInt(config, 'joint_attention_dim'),
    pooledDim: positiveInt(config, 'pooled_projection_dim'),
    tableSize: positiveInt(config, 'pos_embed_max_size'),
    qkNorm: qk === 'rms_norm',
    dual: new Set(dualRaw),
  };
}

/** Every key of the transformer the config describes, with its shape (diffusers' layout). */
export function sd3TransformerKeys(config: JsonObject): Map<string, number[]> {
  const c = parseConfig(config);
  const D = c.dim;
  const keys = new Map<string, number[]>();
  const linear = (key: string, inF: number, outF: number) => keys.set(`${key}.weight`, [outF, inF]).set(`${key}.bias`, [outF]);
  keys.set('pos_embed.proj.weight', [D, c.channels, c.patch, c.patch]).set('pos_embed.proj.bias', [D]);
  keys.set('pos_embed.pos_embed', [1, c.tableSize * c.tableSize, D]);
  linear('time_text_embed.timestep_embedder.linear_1', TIME_CHANNELS, D);
  linear('time_text_embed.timestep_embedder.linear_2', D, D);
  linear('time_text_embed.text_embedder.linear_1', c.pooledDim, D);
  linear('time_text_embed.text_embedder.linear_2', D, D);
  linear('context_embedder', c.jointDim, D);
  for (let l = 0; l < c.layers; l++) {
    const b = `transformer_blocks.${l}`;
    const last = l === c.layers - 1;
    const dual = c.dual.has(l);
    linear(`${b}.norm1.linear`, D, (dual ? 9 : 6) * D);
    linear(`${b}.norm1_context.linear`, D, (last ? 2 : 6) * D);
    for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0', 'add_q_proj', 'add_k_proj', 'add_v_proj']) linear(`${b}.attn.${p}`, D, D);
    linear(`${b}.ff.net.0.proj`, D, 4 * D);
    linear(`${b}.ff.net.2`, 4 * D, D);
    if (!last) {
      linear(`${b}.attn.to_add_out`, D, D);
      linear(`${b}.ff_context.net.0.proj`, D, 4 * D);
      linear(`${b}.ff_context.net.2`, 4 * D, D);
    }
    if (c.qkNorm) for (const n of ['norm_q', 'norm_k', 'norm_added_q', 'norm_added_k']) keys.set(`${b}.attn.${n}.weight`, [c.headDim]);
    if (dual) {
      for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) linear(`${b}.attn2.${p}`, D, D);
      if (c.qkNorm) keys.set(`${b}.attn2.norm_q.weight`, [c.headDim]).set(`${b}.attn2.norm_k.weight`, [c.headDim]);
    }
  }
  linear('norm_out.linear', D, 2 * D);
  linear('proj_out', D, c.patch * c.patch * c.channels);
  return keys;
}

/** torch's get_timestep_embedding frequencies, in float32 as torch computes them: exp(fl(fl(-ln 1e4) i) / half). */
export function torchTimestepFrequencies(channels: number): Float32Array {
  const half = channels / 2;
  const minusLog = Math.fround(-Math.log(10000));
  return Float32Array.from({ length: half }, (_, i) => Math.exp(Math.fround(Math.fround(minusLog * i) / half)));
}

/** A diffusers linear ([out, in] weight) as ours ([in, out]), output j taken from diffusers' output from(j). */
function toLinear(w: Float32Array, b: Float32Array, inF: number, outF: number, from: (j: number) => number = (j) => j): Linear {
  const t = new Float32Array(inF * outF);
  const bias = new Float32Array(outF);
  for (let j = 0; j < outF; j++) {
    const src = from(j);
    bias[j] = b[src]!;
    for (let i = 0; i < inF; i++) t[i * outF + j] = w[src * inF + i]!;
  }
  return { inF, outF, w: t, b: bias };
}

/** The stored window of the [size * size, D] table, rows x cols x D. */
function tableWindow(table: Float32Array, size: number, D: number, s: CentredPositions['stored']): Float32Array {
  const out = new Float32Array(s.rows * s.cols * D);
  for (let r = 0; r < s.rows; r++) out.set(table.subarray(((s.top + r) * size + s.left) * D, ((s.top + r) * size + s.left + s.cols) * D), r * s.cols * D);
  return out;
}

/**
 * Loads and rearranges the transformer's weights (see the file comment). `config` is the
 * transformer's config.json.
 */
export async function loadSd3Transformer(index: TensorIndex, config: JsonObject, opts: Sd3TransformerOptions = {}): Promise<DitParams<QkvParams>> {
  const c = parseConfig(config);
  const expected = sd3TransformerKeys(config);
  for (const [key, shape] of expected) expectTensor(index, key, shape);
  const extra = index.keys().filter((k) => !expected.has(k));
  if (extra.length > 0) {
    throw new ConvertError('wrong-model', `key ${extra[0]}${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''} in ${index.name} is not part of the transformer its config describes`, { file: index.name, key: extra[0] });
  }

  const D = c.dim;
  const read = (key: string) => index.readTensor(key);
  const lin = async (key: string, from?: (j: number) => number): Promise<Linear> => {
    const [outF, inF] = expected.get(`${key}.weight`)!;
    return (opts.compact ?? ((l: Linear) => l))(toLinear(await read(`${key}.weight`), await read(`${key}.bias`), inF!, outF!, from));
  };
  /** AdaLayerNormContinuous: [scale, shift] -> [shift, scale]. */
  const swapHalves = (j: number) => (j < D ? j + D : j - D);
  const norms = async (prefix: string, q: string, k: string) =>
    c.qkNorm ? { qNorm: await read(`${prefix}.${q}.weight`), kNorm: await read(`${prefix}.${k}.weight`) } : {};

  const blocks: { text: QkvParams; image: StreamParams }[] = [];
  for (let l = 0; l < c.layers; l++) {
    const b = `transformer_blocks.${l}`;
    const last = l === c.layers - 1;
    const attn2: SelfAttentionParams | undefined = c.dual.has(l)
      ? { q: await lin(`${b}.attn2.to_q`), k: await lin(`${b}.attn2.to_k`), v: await lin(`${b}.attn2.to_v`), o: await lin(`${b}.attn2.to_out.0`), ...(await norms(`${b}.attn2`, 'norm_q', 'norm_k')) }
      : undefined;
    const image: StreamParams = {
      mod: await lin(`${b}.norm1.linear`),
      q: await lin(`${b}.attn.to_q`),
      k: await lin(`${b}.attn.to_k`),
      v: await lin(`${b}.attn.to_v`),
      ...(await norms(`${b}.attn`, 'norm_q', 'norm_k')),
      o: await lin(`${b}.attn.to_out.0`),
      mlp1: await lin(`${b}.ff.net.0.proj`),
      mlp2: await lin(`${b}.ff.net.2`),
      ...(attn2 ? { attn2 } : {}),
    };
    const textQkv: QkvParams = {
      mod: await lin(`${b}.norm1_context.linear`, last ? swapHalves : undefined),
      q: await lin(`${b}.attn.add_q_proj`),
      k: await lin(`${b}.attn.add_k_proj`),
      v: await lin(`${b}.attn.add_v_proj`),
      ...(await norms(`${b}.attn`, 'norm_added_q', 'norm_added_k')),
    };
    const text = last ? textQkv : { ...textQkv, o: await lin(`${b}.attn.to_add_out`), mlp1: await lin(`${b}.ff_context.net.0.proj`), mlp2: await lin(`${b}.ff_context.net.2`) };
    blocks.push({ text, image });
  }

  const stored = opts.maxGrid ? centredWindow(c.tableSize, opts.maxGrid) : { top: 0, left: 0, rows: c.tableSize, cols: c.tableSize };
  const p = c.patch;
  const C = c.channels;
  // Our output c*p*p + a*p + b is diffusers' (a*p + b)*C + c.
  const unpatchOrder = (j: number) => (j % (p * p)) * C + Math.floor(j / (p * p));
  return {
    cfg: {
      latentChannels: C,
      patchSize: p,
      dim: D,
      heads: c.heads,
      layers: c.layers,
      mlpHidden: 4 * D,
      textDim: c.jointDim,
      pooledDim: c.pooledDim,
      timeFreqDim: TIME_CHANNELS,
      maxGrid: opts.maxGrid ?? { height: c.tableSize, width: c.tableSize },
      centredPositions: { size: c.tableSize, stored },
    },
    patch: { inC: C, outC: D, k: p, stride: p, pad: 0, w: await read('pos_embed.proj.weight'), b: await read('pos_embed.proj.bias') },
    pos: tableWindow(await read('pos_embed.pos_embed'), c.tableSize, D, stored),
    timeFreqs: torchTimestepFrequencies(TIME_CHANNELS),
    time1: await lin('time_text_embed.timestep_embedder.linear_1'),
    time2: await lin('time_text_embed.timestep_embedder.linear_2'),
    pooled1: await lin('time_text_embed.text_embedder.linear_1'),
    pooled2: await lin('time_text_embed.text_embedder.linear_2'),
    context: await lin('context_embedder'),
    blocks,
    finalMod: await lin('norm_out.linear', swapHalves),
    finalOut: await lin('proj_out', unpatchOrder),
  };
}
