/**
 * Black Forest Labs' single-file FLUX.2 klein transformer (flux-2-klein-4b.safetensors and the like:
 * BFL's own key layout, with or without a `model.diffusion_model.` prefix) seen as diffusers'
 * Flux2Transformer2DModel checkpoint, so that loadFlux2Transformer reads it unchanged.
 *
 * The mapping is diffusers' own (diffusers 0.42.1, loaders/single_file_utils.py,
 * convert_flux2_transformer_checkpoint_to_diffusers, which Flux2Transformer2DModel.from_single_file
 * uses; scripts/convert_flux2_to_diffusers.py has the same tables):
 * - img_in / txt_in -> x_embedder / context_embedder; time_in.in_layer / out_layer ->
 *   time_guidance_embed.timestep_embedder.linear_1 / linear_2; the three `*_modulation.lin` ->
 *   `*_modulation.linear`; final_layer.linear -> proj_out;
 * - final_layer.adaLN_modulation.1 -> norm_out.linear with its two row halves swapped (BFL's final
 *   layer splits (shift, scale), diffusers' AdaLayerNormContinuous (scale, shift));
 * - double_blocks.N: img_attn.qkv / txt_attn.qkv split in three equal row ranges -> attn.to_q, to_k,
 *   to_v / attn.add_q_proj, add_k_proj, add_v_proj; img_attn.proj -> attn.to_out.0, txt_attn.proj ->
 *   attn.to_add_out; img_mlp.0 / .2 -> ff.linear_in / linear_out (txt_mlp -> ff_context); the RMSNorm
 *   `*.norm.query_norm.scale` / `key_norm.scale` -> attn.norm_q / norm_k (txt: norm_added_q / _k);
 * - single_blocks.N: linear1 -> attn.to_qkv_mlp_proj (kept fused, as diffusers keeps it), linear2 ->
 *   attn.to_out, norm.query_norm.scale / key_norm.scale -> attn.norm_q / norm_k.
 * Nothing is copied up front: a tensor of the view is one row range of a BFL tensor (or, for
 * norm_out, its two halves in the other order), read from the file only when asked for.
 *
 * Without a config.json the transformer config is inferred from the shapes (inferFlux2Config).
 */
import { ConvertError, formatShape } from '../errors';
import type { JsonObject } from '../folder';
import { FLOAT_DTYPES, openSafetensors, toFloat32, type RawTensor, type ReadOptions, type TensorIndex, type TensorInfo } from '../safetensors';
import { normalizePath, readJson, type FolderSource } from '../source';
import { flux2TransformerKeys } from './transformer';

/** The prefix of BFL checkpoints saved from a whole model (ComfyUI-style all-in-one files). */
export const BFL_PREFIX = 'model.diffusion_model.';
/** diffusers' own sniffing keys for a FLUX.2 BFL checkpoint (CHECKPOINT_KEY_NAMES["flux2"]), without the prefix. */
const FLUX2_MARKERS = ['single_stream_modulation.lin.weight', 'double_stream_modulation_img.lin.weight'];
/** FLUX.2's RoPE: not in the weights, the same in every FLUX.2 (klein and dev). */
const ROPE_THETA = 2000;
const AXES = 4;

export type BflLayout = 'flux2' | 'flux1';

const strip = (key: string): string => (key.startsWith(BFL_PREFIX) ? key.slice(BFL_PREFIX.length) : key);

/** Which BFL layout the keys are in: FLUX.2 (its shared modulations), FLUX.1 (double_blocks without them), or neither. */
export function detectBflLayout(keys: readonly string[]): BflLayout | undefined {
  const names = new Set(keys.map(strip));
  if (FLUX2_MARKERS.some((k) => names.has(k))) return 'flux2';
  if ([...names].some((k) => k.startsWith('double_blocks.'))) return 'flux1';
  return undefined;
}

/** A BFL key name (without prefix) -> the key as stored; two spellings of one name are an error. */
function bflNames(index: TensorIndex): Map<string, string> {
  const names = new Map<string, string>();
  for (const key of index.keys()) {
    const name = strip(key);
    const other = names.get(name);
    if (other !== undefined) {
      throw new ConvertError('duplicate-key', `${index.name} holds ${name} twice (as ${other} and as ${key}): it is not one transformer`, { file: index.name, key });
    }
    names.set(name, key);
  }
  return names;
}

function flux1Error(file: string): ConvertError {
  return new ConvertError(
    'wrong-model',
    `${file} is a FLUX.1 transformer in Black Forest Labs' single-file format (double_blocks without double_stream_modulation_img): a 12B model the studio does not convert; the studio converts FLUX.2 klein (black-forest-labs/FLUX.2-klein-4B, FLUX.2-klein-base-4B, FLUX.2-klein-9b-kv)`,
    { file },
  );
}

function notFlux2Error(file: string): ConvertError {
  return new ConvertError('wrong-model', `${file} is not a FLUX.2 transformer in Black Forest Labs' single-file format (it has no single_stream_modulation.lin.weight)`, { file });
}

/** Block indices of `prefix.N.` keys; they must run 0 .. n-1. */
function blockCount(file: string, names: Iterable<string>, prefix: string): number {
  const found = new Set<number>();
  for (const name of names) {
    const m = new RegExp(`^${prefix}\\.(\\d+)\\.`).exec(name);
    if (m) found.add(Number(m[1]));
  }
  const n = found.size;
  for (let i = 0; i < n; i++) {
    if (!found.has(i)) throw new ConvertError('missing-key', `${file} has ${prefix} ${[...found].sort((a, b) => a - b).join(', ')}: block ${i} is missing (a damaged or partial checkpoint)`, { file, key: `${prefix}.${i}` });
  }
  return n;
}

/**
 * The diffusers transformer config (transformer/config.json's fields) of a BFL FLUX.2 checkpoint,
 * from its shapes: dim and in_channels from img_in, joint_attention_dim from txt_in, the timestep
 * channels from time_in.in_layer, attention_head_dim from the RMSNorm scales (128 in every klein),
 * the MLP width from img_mlp.2 (mlp_ratio = width / dim), the block counts from the block indices.
 * axes_dims_rope (4 equal axes: 32 each at head dim 128) and rope_theta 2000 are not in the weights:
 * they are every FLUX.2's. Refuses (ConvertError) when the shapes contradict each other.
 */
export function inferFlux2Config(index: TensorIndex): JsonObject {
  const file = index.name;
  const names = bflNames(index);
  const layout = detectBflLayout([...names.keys()]);
  if (layout === 'flux1') throw flux1Error(file);
  if (layout !== 'flux2') throw notFlux2Error(file);
  if (names.has('guidance_in.in_layer.weight')) {
    throw new ConvertError('wrong-model', `${file} has guidance_in: it is FLUX.2 dev (guidance-distilled, a 32B transformer that does not fit a browser), not FLUX.2 klein`, { file, key: names.get('guidance_in.in_layer.weight') });
  }
  const shape = (name: string, rank: number): readonly number[] => {
    const key = names.get(name);
    if (key === undefined) throw new ConvertError('missing-key', `${file} has no ${name}: it is not a complete FLUX.2 transformer (a damaged or partial checkpoint?)`, { file, key: name });
    const s = index.info(key).shape;
    if (s.length !== rank) throw new ConvertError('bad-shape', `${file}: ${name} has shape ${formatShape(s)}, expected ${rank} dimensions`, { file, key });
    return s;
  };
  const contradiction = (message: string, key?: string) => new ConvertError('bad-shape', `${file}: ${message}; the shapes of this checkpoint contradict each other (it is damaged, or not FLUX.2 klein)`, { file, ...(key ? { key } : {}) });

  const [dim, channels] = shape('img_in.weight', 2) as [number, number];
  const joint = shape('txt_in.weight', 2)[1]!;
  const timeChannels = shape('time_in.in_layer.weight', 2)[1]!;
  const doubleLayers = blockCount(file, names.keys(), 'double_blocks');
  const singleLayers = blockCount(file, names.keys(), 'single_blocks');
  if (doubleLayers === 0 || singleLayers === 0) throw contradiction(`it has ${doubleLayers} double and ${singleLayers} single blocks (FLUX.2 has both)`);
  const headDim = shape('double_blocks.0.img_attn.norm.query_norm.scale', 1)[0]!;
  if (headDim % (2 * AXES) !== 0 || dim % headDim !== 0) throw contradiction(`the attention norm scales are ${headDim} wide, which does not split the width ${dim} into heads with ${AXES} even RoPE axes`, 'double_blocks.0.img_attn.norm.query_norm.scale');
  const mlpHidden = shape('double_blocks.0.img_mlp.2.weight', 2)[1]!;
  const ratio = mlpHidden / dim;
  if (Math.trunc(dim * ratio) !== mlpHidden) throw contradiction(`the MLP width ${mlpHidden} is no multiple of the width ${dim} that the config's mlp_ratio can express`, 'double_blocks.0.img_mlp.2.weight');
  const linear1 = shape('single_blocks.0.linear1.weight', 2);
  if (linear1[0] !== 3 * dim + 2 * mlpHidden) {
    throw contradiction(`single_blocks.0.linear1 has ${linear1[0]} rows, but q, k, v and the gated MLP of width ${mlpHidden} (from double_blocks.0.img_mlp.2) need 3 x ${dim} + 2 x ${mlpHidden} = ${3 * dim + 2 * mlpHidden}`, 'single_blocks.0.linear1.weight');
  }
  const out = shape('final_layer.linear.weight', 2)[0]!;
  if (out !== channels) throw contradiction(`final_layer.linear gives ${out} channels, img_in takes ${channels}`, 'final_layer.linear.weight');
  // Every other tensor is checked against this config when the view is made (bflFlux2View).
  return {
    _class_name: 'Flux2Transformer2DModel',
    patch_size: 1,
    in_channels: channels,
    out_channels: null,
    num_layers: doubleLayers,
    num_single_layers: singleLayers,
    attention_head_dim: headDim,
    num_attention_heads: dim / headDim,
    joint_attention_dim: joint,
    timestep_guidance_channels: timeChannels,
    mlp_ratio: ratio,
    axes_dims_rope: Array.from({ length: AXES }, () => headDim / AXES),
    rope_theta: ROPE_THETA,
    eps: 1e-6,
    guidance_embeds: false,
  };
}

/** Where a diffusers tensor of the view comes from: rows [rows) of a BFL tensor, or its two halves swapped. */
interface Source {
  /** The BFL name (without prefix). */
  name: string;
  /** The BFL tensor's shape. */
  shape: number[];
  /** Rows [start, end) of it; the whole tensor when absent. */
  rows?: [number, number];
  /** The BFL tensor's halves in the other order (final_layer.adaLN_modulation.1: (shift, scale) -> (scale, shift)). */
  swapHalves?: boolean;
}

/** diffusers key -> its BFL source, for the transformer `config` describes. */
function mappingFor(config: JsonObject): Map<string, Source> {
  const expected = flux2TransformerKeys(config);
  const D = expected.get('x_embedder.weight')![0]!;
  const map = new Map<string, Source>();
  const same = (target: string, name: string) => map.set(target, { name, shape: [...expected.get(target)!] });
  same('x_embedder.weight', 'img_in.weight');
  same('context_embedder.weight', 'txt_in.weight');
  same('time_guidance_embed.timestep_embedder.linear_1.weight', 'time_in.in_layer.weight');
  same('time_guidance_embed.timestep_embedder.linear_2.weight', 'time_in.out_layer.weight');
  for (const m of ['double_stream_modulation_img', 'double_stream_modulation_txt', 'single_stream_modulation']) same(`${m}.linear.weight`, `${m}.lin.weight`);
  for (const target of expected.keys()) {
    const d = /^transformer_blocks\.(\d+)\.(.+)$/.exec(target);
    if (d) {
      const b = `double_blocks.${d[1]}`;
      const inner = d[2]!;
      const qkv = /^attn\.(?:to_([qkv])|add_([qkv])_proj)\.weight$/.exec(inner);
      if (qkv) {
        const part = 'qkv'.indexOf((qkv[1] ?? qkv[2])!);
        map.set(target, { name: `${b}.${qkv[1] ? 'img' : 'txt'}_attn.qkv.weight`, shape: [3 * D, D], rows: [part * D, (part + 1) * D] });
        continue;
      }
      const names: Record<string, string> = {
        'attn.norm_q.weight': 'img_attn.norm.query_norm.scale',
        'attn.norm_k.weight': 'img_attn.norm.key_norm.scale',
        'attn.to_out.0.weight': 'img_attn.proj.weight',
        'ff.linear_in.weight': 'img_mlp.0.weight',
        'ff.linear_out.weight': 'img_mlp.2.weight',
        'attn.norm_added_q.weight': 'txt_attn.norm.query_norm.scale',
        'attn.norm_added_k.weight': 'txt_attn.norm.key_norm.scale',
        'attn.to_add_out.weight': 'txt_attn.proj.weight',
        'ff_context.linear_in.weight': 'txt_mlp.0.weight',
        'ff_context.linear_out.weight': 'txt_mlp.2.weight',
      };
      same(target, `${b}.${names[inner]!}`);
      continue;
    }
    const s = /^single_transformer_blocks\.(\d+)\.(.+)$/.exec(target);
    if (s) {
      const names: Record<string, string> = {
        'attn.to_qkv_mlp_proj.weight': 'linear1.weight',
        'attn.to_out.weight': 'linear2.weight',
        'attn.norm_q.weight': 'norm.query_norm.scale',
        'attn.norm_k.weight': 'norm.key_norm.scale',
      };
      same(target, `single_blocks.${s[1]}.${names[s[2]!]!}`);
    }
  }
  map.set('norm_out.linear.weight', { name: 'final_layer.adaLN_modulation.1.weight', shape: [2 * D, D], swapHalves: true });
  same('proj_out.weight', 'final_layer.linear.weight');
  for (const target of expected.keys()) if (!map.has(target)) throw new Error(`bfl-checkpoint: no BFL source for ${target}`);
  return map;
}

/** Row ranges of the BFL tensor that make up the view's tensor, in order. */
function pieces(src: Source): [number, number][] {
  const rows = src.shape[0]!;
  if (src.swapHalves) return [[rows / 2, rows], [0, rows / 2]];
  return [src.rows ?? [0, rows]];
}

/** The BFL FLUX.2 checkpoint `index` under diffusers' key names and shapes, for the transformer `config` describes. */
class BflFlux2View implements TensorIndex {
  readonly name: string;
  readonly files: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;

  constructor(
    private readonly index: TensorIndex,
    private readonly stored: ReadonlyMap<string, string>,
    private readonly sources: ReadonlyMap<string, Source>,
    private readonly shapes: ReadonlyMap<string, readonly number[]>,
  ) {
    this.name = index.name;
    this.files = index.files;
    this.metadata = index.metadata;
  }

  keys(): string[] {
    return [...this.sources.keys()];
  }

  has(key: string): boolean {
    return this.sources.has(key);
  }

  private source(key: string): { src: Source; stored: TensorInfo } {
    const src = this.sources.get(key);
    if (src === undefined) throw new ConvertError('missing-key', `key ${key} is missing from ${this.name} (a FLUX.2 transformer in BFL's format, read under diffusers' names)`, { file: this.name, key });
    return { src, stored: this.index.info(this.stored.get(src.name)!) };
  }

  info(key: string): TensorInfo {
    const { src, stored } = this.source(key);
    const shape = [...this.shapes.get(key)!];
    const rowBytes = (stored.end - stored.begin) / src.shape[0]!;
    // A row range has its own bytes; the swapped halves are the whole BFL tensor's.
    const [start, stop] = src.rows ?? [0, src.shape[0]!];
    return { key, dtype: stored.dtype, shape, file: stored.file, begin: stored.begin + start * rowBytes, end: stored.begin + stop * rowBytes };
  }

  async readTensorRaw(key: string, options?: ReadOptions): Promise<RawTensor> {
    const { src, stored } = this.source(key);
    const shape = this.shapes.get(key)!;
    const dim0 = shape[0]!;
    const [from, to] = options?.rows ?? [0, dim0];
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from || to > dim0) {
      throw new RangeError(`${this.name}: cannot read rows [${from}, ${to}) of key ${key} with shape ${formatShape(shape)}`);
    }
    // The asked rows of the view, as row ranges of the BFL tensor.
    const wanted: [number, number][] = [];
    let at = 0;
    for (const [a, b] of pieces(src)) {
      const lo = Math.max(from, at);
      const hi = Math.min(to, at + (b - a));
      if (hi > lo) wanted.push([a + lo - at, a + hi - at]);
      at += b - a;
    }
    const parts = await Promise.all(wanted.map((rows) => this.index.readTensorRaw(stored.key, { rows })));
    let bytes: Uint8Array;
    if (parts.length === 1) bytes = parts[0]!.bytes;
    else {
      bytes = new Uint8Array(parts.reduce((n, p) => n + p.bytes.byteLength, 0));
      let offset = 0;
      for (const p of parts) {
        bytes.set(p.bytes, offset);
        offset += p.bytes.byteLength;
      }
    }
    return { key, dtype: stored.dtype, shape: [to - from, ...shape.slice(1)], bytes };
  }

  async readTensor(key: string, options?: ReadOptions): Promise<Float32Array> {
    const raw = await this.readTensorRaw(key, options);
    if (!FLOAT_DTYPES.includes(raw.dtype)) {
      throw new ConvertError('unsupported-dtype', `key ${key} in ${this.name} has dtype ${raw.dtype}; only F32, F16 and BF16 tensors convert to float`, { file: this.name, key });
    }
    return toFloat32(raw.dtype, raw.bytes);
  }
}

/**
 * A BFL FLUX.2 checkpoint as diffusers' transformer checkpoint for `config` (transformer/config.json,
 * or inferFlux2Config's). Every BFL tensor the config implies is checked first (present, its BFL
 * shape, a float dtype), and a tensor it does not imply is an error, each named by its BFL key.
 */
export function bflFlux2View(index: TensorIndex, config: JsonObject): TensorIndex {
  const file = index.name;
  const names = bflNames(index);
  const layout = detectBflLayout([...names.keys()]);
  if (layout === 'flux1') throw flux1Error(file);
  if (layout !== 'flux2') throw notFlux2Error(file);
  const expected = flux2TransformerKeys(config);
  const sources = mappingFor(config);
  const needed = new Map<string, number[]>();
  for (const src of sources.values()) needed.set(src.name, src.shape);
  for (const [name, shape] of needed) {
    const key = names.get(name);
    if (key === undefined) throw new ConvertError('missing-key', `${file} has no ${name}, which the FLUX.2 transformer its config describes needs (a damaged or partial checkpoint, or another model)`, { file, key: name });
    const info = index.info(key);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new ConvertError('bad-shape', `${file}: ${name} has shape ${formatShape(info.shape)}, but the FLUX.2 transformer its config describes needs ${formatShape(shape)}`, { file, key });
    }
    if (!FLOAT_DTYPES.includes(info.dtype)) throw new ConvertError('unsupported-dtype', `${file}: ${name} has dtype ${info.dtype}, expected F32, F16 or BF16`, { file, key });
  }
  const extra = [...names.keys()].filter((n) => !needed.has(n));
  if (extra.length > 0) {
    const first = extra[0]!;
    const why = first.startsWith('guidance_in.')
      ? ': it is FLUX.2 dev (guidance-distilled), not klein'
      : /^(double|single)_blocks\./.test(first)
        ? ': the checkpoint has more blocks than its config says'
        : '';
    throw new ConvertError('wrong-model', `${file} has ${first}${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''}, which is not part of the FLUX.2 transformer its config describes${why}`, { file, key: names.get(first) });
  }
  return new BflFlux2View(index, names, sources, expected);
}

/** The config fields a BFL checkpoint's shapes fix, compared with a config.json beside it. */
function checkConfigAgainstShapes(file: string, configFile: string, config: JsonObject, inferred: JsonObject): void {
  const dim = (c: JsonObject) => (c.num_attention_heads as number) * (c.attention_head_dim as number);
  const fields: [string, (c: JsonObject) => unknown][] = [
    ['num_layers', (c) => c.num_layers],
    ['num_single_layers', (c) => c.num_single_layers],
    ['in_channels', (c) => c.in_channels],
    ['joint_attention_dim', (c) => c.joint_attention_dim],
    ['attention_head_dim', (c) => c.attention_head_dim],
    ['num_attention_heads x attention_head_dim', dim],
  ];
  for (const [what, get] of fields) {
    if (get(config) !== get(inferred)) {
      throw new ConvertError('wrong-model', `${configFile} says ${what} ${JSON.stringify(get(config))}, but ${file} has ${JSON.stringify(get(inferred))}: the config belongs to another FLUX.2 model (remove it, and the config is read from the checkpoint's shapes)`, { file: configFile });
    }
  }
}

export interface BflTransformer {
  /** The BFL file's path inside the folder. */
  readonly file: string;
  /** It, under diffusers' names (bflFlux2View). */
  readonly weights: TensorIndex;
  /** transformer/config.json when there is one (checked against the shapes), else inferred from them. */
  readonly config: JsonObject;
  readonly configFrom: 'config.json' | 'shapes';
  /** For the user: which file is used, and how. */
  readonly note: string;
}

/** diffusers' own transformer weights, by name: a sharded index, or the file diffusers saves. */
const isDiffusersWeights = (name: string): boolean => /^diffusion_pytorch_model\b.*\.safetensors$/.test(name) || /\.safetensors\.index(\.[\w-]+)?\.json$/.test(name);

/** The BFL FLUX.2 files among `paths` (headers only are read); FLUX.1 ones and others are listed apart. */
async function bflFiles(folder: FolderSource, paths: readonly string[]): Promise<{ flux2: { path: string; index: TensorIndex }[]; flux1: string[]; other: string[] }> {
  const flux2: { path: string; index: TensorIndex }[] = [];
  const flux1: string[] = [];
  const other: string[] = [];
  for (const path of paths) {
    const index = await openSafetensors(folder.open(path)!);
    const layout = detectBflLayout(index.keys());
    if (layout === 'flux2') flux2.push({ path, index });
    else if (layout === 'flux1') flux1.push(path);
    else other.push(path);
  }
  return { flux2, flux1, other };
}

/**
 * For a FLUX.2 klein folder: the transformer when it is BFL's single file instead of diffusers'
 * weights. Looked for in transformer/ (a .safetensors there that is not diffusers' own, e.g.
 * transformer/flux-2-klein-4b.safetensors), or, when transformer/ holds no weights at all (or is
 * absent), at the folder's top level (where the Hugging Face repository keeps it). Undefined when
 * the folder has diffusers' transformer weights, or no BFL file: the folder is then read as usual.
 */
export async function findBflTransformer(folder: FolderSource): Promise<BflTransformer | undefined> {
  const files = folder.list();
  const inDir = files.filter((p) => p.startsWith('transformer/') && !p.slice('transformer/'.length).includes('/')).map((p) => p.slice('transformer/'.length));
  if (inDir.some(isDiffusersWeights)) return undefined;
  const local = inDir.filter((n) => n.endsWith('.safetensors')).map((n) => `transformer/${n}`);
  const top = files.filter((p) => !p.includes('/') && p.endsWith('.safetensors'));
  const candidates = local.length > 0 ? local : top;
  if (candidates.length === 0) return undefined;
  const { flux2, flux1, other } = await bflFiles(folder, candidates);
  // diffusers' weights under another name (transformer/model.safetensors): read as usual.
  if (local.length > 0 && other.length > 0) return undefined;
  if (flux2.length === 0) {
    // A FLUX.1 file where the transformer goes is named; one merely lying at the top is not ours to judge.
    if (local.length > 0 && flux1.length > 0) throw flux1Error(flux1[0]!);
    return undefined;
  }
  if (flux2.length > 1) {
    throw new ConvertError('single-file', `${flux2.map((f) => f.path).join(' and ')} are all FLUX.2 transformers in BFL's single-file format: keep only the one this folder is for${local.length > 0 ? '' : ', or move it into transformer/'}`, { file: flux2[0]!.path });
  }
  const { path, index } = flux2[0]!;
  const inferred = inferFlux2Config(index);
  const configPath = 'transformer/config.json';
  const configSource = folder.open(configPath);
  let config = inferred;
  if (configSource !== undefined) {
    const value = await readJson(configSource);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConvertError('bad-json', `${configPath} is not a JSON object`, { file: configPath });
    checkConfigAgainstShapes(path, configPath, value as JsonObject, inferred);
    config = value as JsonObject;
  }
  const weights = bflFlux2View(index, config);
  const configFrom = configSource !== undefined ? 'config.json' : 'shapes';
  return {
    file: normalizePath(path),
    weights,
    config,
    configFrom,
    note: `transformer: ${path} is Black Forest Labs' single-file checkpoint; it is read under diffusers' names as diffusers' from_single_file maps it (fused qkv split, the final layer's shift and scale swapped), with ${configFrom === 'config.json' ? configPath : 'the config inferred from its shapes'}`,
  };
}

/** The diffusers repository that completes a lone BFL klein file, from its width and its file name. */
function repositoryFor(file: string, dim: number | undefined): string | undefined {
  const lower = file.toLowerCase();
  const base = lower.includes('base');
  if (dim === 3072) return `black-forest-labs/FLUX.2-klein-${base ? 'base-' : ''}4B`;
  if (dim === 4096) return lower.includes('kv') ? 'black-forest-labs/FLUX.2-klein-9b-kv' : `black-forest-labs/FLUX.2-klein-${base ? 'base-' : ''}9B`;
  return undefined;
}

/**
 * What to tell someone who opened a BFL FLUX.2 file on its own (no model_index.json): what it is,
 * what else the studio needs and where the file goes. Undefined for files of other layouts.
 */
export async function loneBflFileAdvice(folder: FolderSource, path: string): Promise<string | undefined> {
  let index: TensorIndex;
  try {
    index = await openSafetensors(folder.open(path)!);
  } catch {
    return undefined;
  }
  if (detectBflLayout(index.keys()) !== 'flux2') return undefined;
  let config: JsonObject | undefined;
  try {
    config = inferFlux2Config(index);
  } catch (e) {
    if (e instanceof ConvertError && e.code === 'wrong-model') return `model_index.json is missing: ${path} looks like a FLUX.2 single-file checkpoint (BFL format), but the studio cannot convert it: ${e.message}`;
  }
  const dim = config ? (config.num_attention_heads as number) * (config.attention_head_dim as number) : undefined;
  const variant = dim === 3072 ? ' klein 4B' : dim === 4096 ? ' klein 9B' : '';
  const repo = repositoryFor(path, dim);
  const where = repo ?? 'the FLUX.2 klein diffusers repository it belongs to (black-forest-labs/FLUX.2-klein-4B, FLUX.2-klein-base-4B or FLUX.2-klein-9b-kv)';
  return (
    `model_index.json is missing: ${path} looks like a FLUX.2 single-file checkpoint (BFL format), the FLUX.2${variant} transformer alone. ` +
    `The studio also needs the Qwen3 text encoder, the VAE and the tokenizer: download ${where} without its transformer/ weights (model_index.json, text_encoder/, vae/, tokenizer/, scheduler/), ` +
    `put ${path.split('/').pop()} into its transformer/ folder (or leave it at the top of that folder) and open that folder`
  );
}
