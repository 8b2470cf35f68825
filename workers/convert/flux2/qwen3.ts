/**
 * FLUX.2 klein's text encoder: transformers' Qwen3ForCausalLM (Qwen3-4B for klein 4B / base 4B,
 * Qwen3-8B for 9B-kv) as an IR graph, from the folder's own weights. The pipeline
 * (Flux2KleinPipeline._get_qwen3_prompt_embeds) reads hidden_states at a few layers, not the
 * logits:
 *   hidden_states[0]  = embed_tokens(ids) (no scaling);
 *   hidden_states[i]  = the raw output of decoder layer i-1, for 0 < i < num_layers;
 *   hidden_states[L]  = model.norm(output of the last layer) (transformers 5 records the last entry
 *                       after the final RMSNorm; the fixture script checked it);
 * and concatenates the taps per token, tap-major: [hs[9] | hs[18] | hs[27]] for the real models.
 * So only layers below the largest tap are loaded and emitted (27 of Qwen3-4B's 36), and lm_head
 * and model.norm are never read unless a tap is the last hidden state.
 *
 * A decoder layer, pre-norm:
 *   h += o_proj(attn(rope(q_norm(q_proj(x))), rope(k_norm(k_proj(x))), v_proj(x)))   x = input_layernorm(h)
 *   h += down_proj(silu(gate_proj(x)) * up_proj(x))                                  x = post_attention_layernorm(h)
 * RMSNorm x / sqrt(mean(x^2) + rms_norm_eps) * w everywhere (q/k per head, over head_dim, BEFORE
 * RoPE); RoPE rotate-half (non-interleaved: the first and second halves of a head are the pair);
 * grouped-query attention (kv head j serves q heads j*rep .. j*rep+rep-1, transformers' repeat_kv);
 * no biases; q width (heads x head_dim) may differ from hidden (Qwen3-4B: 4096 vs 2560).
 *
 * Positions: the pipeline passes no position_ids, so they are arange(T) for every row (right
 * padding leaves the real tokens at 0..n-1). The mask is causal AND the padding mask over keys:
 * row i sees keys j <= i that are real tokens. Padding rows therefore see every real token but not
 * themselves; they are never fully masked (position 0 is always <|im_start|>) and they are real
 * outputs that the transformer consumes (the pipeline does not zero them).
 */
import { attr, GraphBuilder, type IrGraph } from '../../packbuild/ir';
import { dimOf, emitAttention, emitLinear, emitRmsNorm, emitSilu, sliceAxis, type AttentionPieces, type PrecisionSpec } from '../../packbuild/nn';
import type { Linear } from '../../packbuild/params';
import { toFloat16 } from '../../packbuild/quantize';
import { ConvertError } from '../errors';
import type { JsonObject } from '../folder';
import { expectTensor, type TensorIndex } from '../safetensors';
import { clipLinearPrecision, withPlaceholderRows } from '../sd3/clip';

export interface Qwen3Config {
  /** Rows of the stored embedding table (vocab_size: 151936 for the real models, more than the tokenizer's 151669 ids). */
  vocabSize: number;
  hidden: number;
  /** num_hidden_layers of the checkpoint (36 for Qwen3-4B and 8B). */
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  rmsNormEps: number;
  ropeTheta: number;
  tiedEmbeddings: boolean;
  maxPositions: number;
}

export interface Qwen3LayerParams {
  inputNorm: Float32Array;
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
  /** [head_dim] each. */
  qNorm: Float32Array;
  kNorm: Float32Array;
  postNorm: Float32Array;
  gate: Linear;
  up: Linear;
  down: Linear;
}

export interface Qwen3TextParams {
  cfg: Qwen3Config;
  /** [vocabSize + placeholder rows, hidden]. */
  embedTokens: Float32Array;
  /** Decoder layers 0 .. layers.length - 1 (only those below the largest tap). */
  layers: Qwen3LayerParams[];
  /** model.norm, loaded only with every layer (the last hidden state is the only tap that needs it). */
  finalNorm: Float32Array | null;
}

export interface Qwen3LoadOptions {
  /** Decoder layers to read: the largest tap (qwen3LayersFor). Later layers are never read. */
  layers: number;
  /** Extra embedding rows after vocab_size, one per placeholder (qwen3-tokenizer.ts gives them ids vocab_size, vocab_size + 1, ...). */
  placeholderRows?: number;
  /** Applied to every linear as soon as it is read (the converter's stored form: int4, int8, fp16). */
  compact?: (lin: Linear) => Linear;
}

export interface Qwen3GraphOptions {
  /**
   * The longest sequence the graph takes (the RoPE and causal tables have this many rows): the
   * pipeline's max_sequence_length, 512 by default.
   */
  maxTokens?: number;
  pieces?: AttentionPieces;
}

/** The pipeline's default text_encoder_out_layers (of 36 layers); an encode_prompt argument, in no config file. */
export const QWEN3_DEFAULT_TAPS: readonly number[] = [9, 18, 27];
export const QWEN3_MAX_TOKENS = 512;

/**
 * Masked logits: exp underflows to exactly 0 in float32, the same as transformers' boolean (sdpa)
 * or finfo.min (eager) mask for every row that keeps at least one key, which is every row here.
 */
const MASKED = -1e9;

const FILE = 'text_encoder/config.json';
const configError = (message: string) => new ConvertError('bad-json', `${FILE}: ${message}`, { file: FILE });
const unsupported = (message: string) => new ConvertError('wrong-model', `${FILE}: ${message}`, { file: FILE });

function positiveInt(config: JsonObject, key: string, fallback?: number): number {
  const v = config[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw configError(`${key} is ${JSON.stringify(v)}, expected a positive integer`);
  return v;
}

function positiveNumber(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw configError(`${key} is ${JSON.stringify(value)}, expected a positive number`);
  return value;
}

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * theta of the default RoPE: transformers 5 writes rope_parameters { rope_theta, rope_type }, the
 * real repos (transformers 4.51) rope_theta at the top level with rope_scaling null. Any scaled
 * RoPE (yarn, dynamic, ...) would change the tables: refused.
 */
function ropeTheta(config: JsonObject): number {
  const params = config.rope_parameters ?? null;
  const scaling = config.rope_scaling ?? null;
  for (const [key, value] of [
    ['rope_parameters', params],
    ['rope_scaling', scaling],
  ] as const) {
    if (value === null) continue;
    if (!isRecord(value)) throw configError(`${key} is ${JSON.stringify(value)}, expected an object or null`);
    const type = value.rope_type ?? value.type ?? 'default';
    if (type !== 'default') throw unsupported(`${key}.rope_type ${JSON.stringify(type)}: only the default RoPE of Qwen3 is supported`);
  }
  if (isRecord(params) && params.rope_theta !== undefined) return positiveNumber(params.rope_theta, 'rope_parameters.rope_theta');
  if (config.rope_theta !== undefined) return positiveNumber(config.rope_theta, 'rope_theta');
  throw configError('has neither rope_parameters.rope_theta nor rope_theta');
}

/** Features that would change the computation, refused by name rather than ignored. */
function checkSupported(config: JsonObject): void {
  if (config.model_type !== undefined && config.model_type !== 'qwen3') throw unsupported(`model_type ${JSON.stringify(config.model_type)} is not qwen3`);
  if ((config.hidden_act ?? 'silu') !== 'silu') throw unsupported(`hidden_act ${JSON.stringify(config.hidden_act)} (Qwen3 uses silu)`);
  if (config.attention_bias === true) throw unsupported('attention_bias is true (Qwen3 has no attention biases)');
  if (config.use_sliding_window === true) throw unsupported('use_sliding_window is true (klein uses full attention in every layer)');
  const types = config.layer_types;
  if (types !== undefined && types !== null && (!Array.isArray(types) || types.some((t) => t !== 'full_attention'))) {
    throw unsupported(`layer_types ${JSON.stringify(types)}: only full_attention layers are supported`);
  }
}

/** text_encoder/config.json, validated; a ConvertError names the field. */
export function qwen3Config(config: JsonObject): Qwen3Config {
  checkSupported(config);
  const hidden = positiveInt(config, 'hidden_size');
  const heads = positiveInt(config, 'num_attention_heads');
  const kvHeads = positiveInt(config, 'num_key_value_heads', heads);
  if (heads % kvHeads !== 0) throw configError(`num_key_value_heads ${kvHeads} does not divide num_attention_heads ${heads}`);
  // transformers' Qwen3Config defaults (head_dim 128, untied, 32768 positions), for a file that leaves them out.
  const headDim = positiveInt(config, 'head_dim', 128);
  if (headDim % 2 !== 0) throw configError(`head_dim ${headDim} is odd (RoPE rotates pairs)`);
  const tied = config.tie_word_embeddings ?? false;
  if (typeof tied !== 'boolean') throw configError(`tie_word_embeddings is ${JSON.stringify(tied)}, expected true or false`);
  return {
    vocabSize: positiveInt(config, 'vocab_size'),
    hidden,
    layers: positiveInt(config, 'num_hidden_layers'),
    heads,
    kvHeads,
    headDim,
    intermediate: positiveInt(config, 'intermediate_size'),
    rmsNormEps: positiveNumber(config.rms_norm_eps ?? 1e-6, 'rms_norm_eps'),
    ropeTheta: ropeTheta(config),
    tiedEmbeddings: tied,
    maxPositions: positiveInt(config, 'max_position_embeddings', 32768),
  };
}

/** The decoder layers a set of taps needs: hidden_states[t] is the output of layer t - 1. */
export function qwen3LayersFor(taps: readonly number[]): number {
  if (taps.length === 0) throw new Error('no hidden-state taps');
  return Math.max(...taps);
}

function checkLayerCount(cfg: Qwen3Config, layers: number): void {
  if (!Number.isSafeInteger(layers) || layers < 0 || layers > cfg.layers) {
    throw new ConvertError('bad-option', `${layers} text encoder layers asked for; ${FILE} has num_hidden_layers ${cfg.layers}`, { file: FILE });
  }
}

/**
 * The keys (transformers' Qwen3ForCausalLM names) and shapes that the first `layersNeeded` decoder
 * layers need; model.norm only with every layer. lm_head is never needed.
 */
export function qwen3TextEncoderKeys(config: JsonObject, layersNeeded: number): Map<string, number[]> {
  const c = qwen3Config(config);
  checkLayerCount(c, layersNeeded);
  const D = c.hidden;
  const qWidth = c.heads * c.headDim;
  const kvWidth = c.kvHeads * c.headDim;
  const keys = new Map<string, number[]>([['model.embed_tokens.weight', [c.vocabSize, D]]]);
  const linear = (key: string, inF: number, outF: number) => keys.set(`${key}.weight`, [outF, inF]);
  for (let l = 0; l < layersNeeded; l++) {
    const b = `model.layers.${l}`;
    keys.set(`${b}.input_layernorm.weight`, [D]);
    linear(`${b}.self_attn.q_proj`, D, qWidth);
    linear(`${b}.self_attn.k_proj`, D, kvWidth);
    linear(`${b}.self_attn.v_proj`, D, kvWidth);
    linear(`${b}.self_attn.o_proj`, qWidth, D);
    keys.set(`${b}.self_attn.q_norm.weight`, [c.headDim]);
    keys.set(`${b}.self_attn.k_norm.weight`, [c.headDim]);
    keys.set(`${b}.post_attention_layernorm.weight`, [D]);
    linear(`${b}.mlp.gate_proj`, D, c.intermediate);
    linear(`${b}.mlp.up_proj`, D, c.intermediate);
    linear(`${b}.mlp.down_proj`, c.intermediate, D);
  }
  if (layersNeeded === c.layers) keys.set('model.norm.weight', [D]);
  return keys;
}

/**
 * Every key of the file is checked against the whole model its config describes (header only, no
 * data is read), so a folder holding another model fails here rather than as a bad image.
 */
function checkNoForeignKeys(index: TensorIndex, config: JsonObject, cfg: Qwen3Config): void {
  const known = qwen3TextEncoderKeys(config, cfg.layers);
  // Untied (Qwen3-8B) files hold lm_head; a tied file may hold a copy of the embeddings too.
  known.set('lm_head.weight', [cfg.vocabSize, cfg.hidden]);
  const extra = index.keys().filter((k) => !known.has(k));
  if (extra.length > 0) {
    throw new ConvertError('wrong-model', `key ${extra[0]}${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''} in ${index.name} is not part of the Qwen3 model ${FILE} describes`, {
      file: index.name,
      key: extra[0],
    });
  }
}

/** A torch linear without bias ([out, in]) as ours ([in, out]). */
function toLinear(w: Float32Array, inF: number, outF: number): Linear {
  const t = new Float32Array(inF * outF);
  for (let j = 0; j < outF; j++) for (let i = 0; i < inF; i++) t[i * outF + j] = w[j * inF + i]!;
  return { inF, outF, w: t, b: null };
}

/** Loads the embeddings and the first `opts.layers` decoder layers; `config` is text_encoder/config.json. */
export async function loadQwen3TextEncoder(index: TensorIndex, config: JsonObject, opts: Qwen3LoadOptions): Promise<Qwen3TextParams> {
  const cfg = qwen3Config(config);
  const expected = qwen3TextEncoderKeys(config, opts.layers);
  for (const [key, shape] of expected) expectTensor(index, key, shape);
  checkNoForeignKeys(index, config, cfg);
  const extraRows = opts.placeholderRows ?? 0;
  if (!Number.isSafeInteger(extraRows) || extraRows < 0) throw new Error(`placeholderRows ${extraRows} is not a whole number`);
  const read = (key: string) => index.readTensor(key);
  const compact = opts.compact ?? ((l: Linear) => l);
  const lin = async (key: string): Promise<Linear> => {
    const [outF, inF] = expected.get(`${key}.weight`)!;
    return compact(toLinear(await read(`${key}.weight`), inF!, outF!));
  };
  const layers: Qwen3LayerParams[] = [];
  for (let l = 0; l < opts.layers; l++) {
    const b = `model.layers.${l}`;
    layers.push({
      inputNorm: await read(`${b}.input_layernorm.weight`),
      q: await lin(`${b}.self_attn.q_proj`),
      k: await lin(`${b}.self_attn.k_proj`),
      v: await lin(`${b}.self_attn.v_proj`),
      o: await lin(`${b}.self_attn.o_proj`),
      qNorm: await read(`${b}.self_attn.q_norm.weight`),
      kNorm: await read(`${b}.self_attn.k_norm.weight`),
      postNorm: await read(`${b}.post_attention_layernorm.weight`),
      gate: await lin(`${b}.mlp.gate_proj`),
      up: await lin(`${b}.mlp.up_proj`),
      down: await lin(`${b}.mlp.down_proj`),
    });
  }
  return {
    cfg,
    embedTokens: (extraRows === 0 ? await read('model.embed_tokens.weight') : withPlaceholderRows(await read('model.embed_tokens.weight'), cfg.vocabSize, cfg.hidden, extraRows)),
    layers,
    finalNorm: expected.has('model.norm.weight') ? await read('model.norm.weight') : null,
  };
}

/**
 * transformers' default RoPE tables [positions, head_dim / 2], in float32 step by step as torch
 * computes them: inv_freq = 1 / theta^(fl(2j / dim)), angle = fl(position * inv_freq), then cos
 * and sin. The full-width tables are [angles, angles] (rotate-half), so the half is all we store.
 */
export function qwen3RopeTables(positions: number, headDim: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const invFreq = Float32Array.from({ length: half }, (_, j) => Math.fround(1 / Math.fround(Math.pow(theta, Math.fround((2 * j) / headDim)))));
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let p = 0; p < positions; p++) {
    for (let j = 0; j < half; j++) {
      const angle = Math.fround(p * invFreq[j]!);
      cos[p * half + j] = Math.cos(angle);
      sin[p * half + j] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** What every layer of one graph shares: RoPE rows and the attention bias for the fed length. */
interface SequenceContext {
  cos: string;
  sin: string;
  bias: string;
}

/**
 * RoPE and bias for `ids` [B, T]. The tables are initializers of `maxTokens` rows, sliced to T, so
 * one graph serves any length up to maxTokens. The bias [B, 1, T, T] is the causal table plus a
 * per-key padding row, found by a Gather from [MASKED, 0] with the mask as indices: the int64 mask
 * feeds only a Gather (as the CLIP port's ids do), no int64 Cast or compare for WebGPU to run on
 * the CPU. A mask value other than 0 or 1 is out of the table's range and fails the Gather.
 */
function emitSequenceContext(g: GraphBuilder, ids: string, mask: string, cfg: Qwen3Config, maxTokens: number): SequenceContext {
  const half = cfg.headDim / 2;
  const T = dimOf(g, ids, 1);
  const zero = g.i64([0]);
  const tables = qwen3RopeTables(maxTokens, cfg.headDim, cfg.ropeTheta);
  // [T, half] -> [1, T, 1, half]: broadcast over batch and heads of [B, T, H, half].
  const rows = (name: string, table: Float32Array) => g.op('Reshape', [sliceAxis(g, g.f32(name, [maxTokens, half], table), zero, T, 0), g.i64([1, -1, 1, half])]);
  const causal = new Float32Array(maxTokens * maxTokens);
  for (let i = 0; i < maxTokens; i++) for (let j = i + 1; j < maxTokens; j++) causal[i * maxTokens + j] = MASKED;
  const TT = g.op('Concat', [T, T], { axis: attr.int(0) });
  const causalRows = g.op('Slice', [g.f32('causal_bias', [maxTokens, maxTokens], causal), g.i64([0, 0]), TT, g.i64([0, 1])]);
  const padding = g.op('Gather', [g.constF32([MASKED, 0]), mask], { axis: attr.int(0) }); // [B, T]
  const keys = g.op('Unsqueeze', [padding, g.i64([1, 2])]); // [B, 1, 1, T]
  return { cos: rows('rope_cos', tables.cos), sin: rows('rope_sin', tables.sin), bias: g.op('Add', [keys, causalRows]) };
}

/** Rotate-half RoPE of x [B, T, H, dh]: halves (x1, x2) -> (x1 c - x2 s, x2 c + x1 s). */
function emitRope(g: GraphBuilder, x: string, ctx: SequenceContext, headDim: number): string {
  const [x1, x2] = g.opN('Split', [x, g.i64([headDim / 2, headDim / 2])], 2, { axis: attr.int(3) });
  const y1 = g.op('Sub', [g.op('Mul', [x1!, ctx.cos]), g.op('Mul', [x2!, ctx.sin])]);
  const y2 = g.op('Add', [g.op('Mul', [x2!, ctx.cos]), g.op('Mul', [x1!, ctx.sin])]);
  return g.op('Concat', [y1, y2], { axis: attr.int(3) });
}

/** [B, T, kvHeads, dh] -> [B, T, heads * dh], each kv head repeated for its `rep` q heads (repeat_kv's order). */
function emitRepeatKv(g: GraphBuilder, x: string, cfg: Qwen3Config): string {
  const rep = cfg.heads / cfg.kvHeads;
  const flat = g.i64([0, 0, cfg.heads * cfg.headDim]);
  if (rep === 1) return g.op('Reshape', [x, flat]);
  const expanded = g.op('Expand', [g.op('Unsqueeze', [x, g.i64([3])]), g.i64([1, 1, 1, rep, 1])]);
  return g.op('Reshape', [expanded, flat]);
}

function emitDecoderLayer(g: GraphBuilder, h: string, l: Qwen3LayerParams, cfg: Qwen3Config, ctx: SequenceContext, prec: PrecisionSpec, pieces: AttentionPieces | undefined): string {
  const { headDim: dh, rmsNormEps: eps } = cfg;
  const linear = (x: string, lin: Linear, name: string) => emitLinear(g, x, lin, clipLinearPrecision(lin, prec), name);
  const perHead = (x: string, heads: number) => g.op('Reshape', [x, g.i64([0, 0, heads, dh])]);
  const x = emitRmsNorm(g, h, g.f32('input_layernorm', [cfg.hidden], l.inputNorm), eps);
  const q = emitRope(g, emitRmsNorm(g, perHead(linear(x, l.q, 'q_proj'), cfg.heads), g.f32('q_norm', [dh], l.qNorm), eps), ctx, dh);
  const k = emitRope(g, emitRmsNorm(g, perHead(linear(x, l.k, 'k_proj'), cfg.kvHeads), g.f32('k_norm', [dh], l.kNorm), eps), ctx, dh);
  const v = perHead(linear(x, l.v, 'v_proj'), cfg.kvHeads);
  const qWidth = cfg.heads * dh;
  const attn = emitAttention(g, g.op('Reshape', [q, g.i64([0, 0, qWidth])]), emitRepeatKv(g, k, cfg), emitRepeatKv(g, v, cfg), ctx.bias, cfg.heads, qWidth, 'decomposed', pieces);
  const h1 = g.op('Add', [h, linear(attn, l.o, 'o_proj')]);
  const y = emitRmsNorm(g, h1, g.f32('post_attention_layernorm', [cfg.hidden], l.postNorm), eps);
  const mlp = linear(g.op('Mul', [emitSilu(g, linear(y, l.gate, 'gate_proj')), linear(y, l.up, 'up_proj')]), l.down, 'down_proj');
  return g.op('Add', [h1, mlp]);
}

/**
 * The embedding table: fp32 in an fp32 graph, otherwise fp16 (the real table is 151936 x 2560:
 * 1.6 GB in fp32). The checkpoints are bf16, whose values fp16 holds exactly in its normal range.
 */
function emitEmbedding(g: GraphBuilder, ids: string, p: Qwen3TextParams, prec: PrecisionSpec): string {
  const rows = p.embedTokens.length / p.cfg.hidden;
  const dims = [rows, p.cfg.hidden];
  if (prec.matmul === 'fp32') return g.op('Gather', [g.f32('embed_tokens', dims, p.embedTokens), ids], { axis: attr.int(0) });
  const half = g.initializer('embed_tokens_f16', 'float16', dims, toFloat16(p.embedTokens, 'the token embedding table').bits);
  return g.op('Cast', [g.op('Gather', [half, ids], { axis: attr.int(0) })], { to: attr.int(1) });
}

function checkTaps(p: Qwen3TextParams, taps: readonly number[]): void {
  if (taps.length === 0) throw new Error('no hidden-state taps');
  for (const t of taps) {
    if (!Number.isSafeInteger(t) || t < 0 || t > p.layers.length) throw new Error(`tap ${t}: the encoder was loaded with layers 0..${p.layers.length - 1} (taps 0..${p.layers.length})`);
    if (t === p.cfg.layers && !p.finalNorm) throw new Error(`tap ${t} is the last hidden state, which needs model.norm`);
  }
}

/**
 * The encoder on `ids` and `mask` ([batch, T] int64, T <= maxTokens): hidden_states[t] for each
 * tap, concatenated per token in tap order ([batch, T, taps.length * hidden]).
 */
export function emitQwen3Text(g: GraphBuilder, ids: string, mask: string, p: Qwen3TextParams, prec: PrecisionSpec, taps: readonly number[], opts: Qwen3GraphOptions = {}): string {
  checkTaps(p, taps);
  const maxTokens = opts.maxTokens ?? QWEN3_MAX_TOKENS;
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 1 || maxTokens > p.cfg.maxPositions) throw new Error(`maxTokens ${maxTokens} is not within 1..${p.cfg.maxPositions}`);
  const ctx = emitSequenceContext(g, ids, mask, p.cfg, maxTokens);
  const hidden: string[] = [emitEmbedding(g, ids, p, prec)];
  const needed = Math.max(...taps);
  for (let i = 0; i < needed; i++) {
    const h = hidden[i]!;
    hidden.push(g.scope(`layer${i}`, () => emitDecoderLayer(g, h, p.layers[i]!, p.cfg, ctx, prec, opts.pieces)));
  }
  const tapped = (t: number) => (t === p.cfg.layers ? emitRmsNorm(g, hidden[t]!, g.f32('norm', [p.cfg.hidden], p.finalNorm!), p.cfg.rmsNormEps) : hidden[t]!);
  const outs = taps.map(tapped);
  return outs.length > 1 ? g.op('Concat', outs, { axis: attr.int(2) }) : outs[0]!;
}

/**
 * The text encoder as its own graph: input_ids and attention_mask [batch, tokens] int64 ->
 * text_embeddings [batch, tokens, taps.length * hidden] float32, the pipeline's prompt_embeds.
 */
export function buildQwen3TextEncoder(p: Qwen3TextParams, prec: PrecisionSpec, taps: readonly number[], opts: Qwen3GraphOptions = {}): IrGraph {
  const g = new GraphBuilder('qwen3_text_encoder');
  const ids = g.input('input_ids', 'int64', ['batch', 'tokens']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'tokens']);
  const out = emitQwen3Text(g, ids, mask, p, prec, taps, opts);
  g.output(out, 'text_embeddings', 'float32', ['batch', 'tokens', taps.length * p.cfg.hidden]);
  return g.build();
}
