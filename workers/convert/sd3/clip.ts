/**
 * transformers' CLIPTextModelWithProjection (SD3's text_encoder and text_encoder_2) as IR graph
 * nodes, from the folder's own weights. SD3 reads two things from each encoder:
 *   - hidden_states[-2]: the output of layer num_layers-2 (the input of the last layer), no final
 *     LayerNorm: the per-token embeddings;
 *   - text_embeds: final_layer_norm of the LAST layer's output at the first <|endoftext|>, times
 *     text_projection (no bias): the pooled vector.
 * Each layer is pre-norm: h += out_proj(attn(ln1(h))) with a causal mask, h += fc2(act(fc1(ln2(h)))).
 */
import { attr, GraphBuilder, type IrGraph } from '../../packbuild/ir';
import { dimOf, emitAttention, emitLinear, type AttentionImpl, type AttentionPieces, type PrecisionSpec } from '../../packbuild/nn';
import type { Linear, Norm } from '../../packbuild/params';
import { ConvertError } from '../errors';
import type { JsonObject } from '../folder';
import { expectTensor, type TensorIndex } from '../safetensors';

export type ClipActivation = 'quick_gelu' | 'gelu';

export interface ClipTextConfig {
  /** Rows of the token embedding table: the stored vocabulary plus any placeholder rows. */
  tokenRows: number;
  /** The stored vocabulary (vocab_size). */
  vocabSize: number;
  hidden: number;
  heads: number;
  layers: number;
  intermediate: number;
  projection: number;
  /** max_position_embeddings: the fixed sequence length of the graph (77). */
  positions: number;
  layerNormEps: number;
  activation: ClipActivation;
}

export interface ClipLayerParams {
  ln1: Norm;
  q: Linear;
  k: Linear;
  v: Linear;
  out: Linear;
  ln2: Norm;
  fc1: Linear;
  fc2: Linear;
}

export interface ClipTextParams {
  cfg: ClipTextConfig;
  /** [tokenRows, hidden]. */
  tokenEmbedding: Float32Array;
  /** [positions, hidden]. */
  positionEmbedding: Float32Array;
  layers: ClipLayerParams[];
  finalNorm: Norm;
  /** text_projection, with a zero bias (the checkpoint has none). */
  projection: Linear;
}

export interface ClipLoadOptions {
  /** Extra token rows after the vocabulary, one per placeholder id (the tokenizer gives them ids vocab_size, vocab_size+1, ...). */
  placeholderRows?: number;
  /**
   * Applied to every linear as soon as it is read: the converter compacts it
   * to its stored form (stored-linear.ts), so the encoder never sits in memory in fp32.
   */
  compact?: (lin: Linear) => Linear;
}

/** Masked logits: exp underflows to exactly 0 in float32, as with transformers' finfo.min mask. */
const CAUSAL_MASKED = -1e9;

/** A ConvertError, so the CLI and the studio show it as a message about the file, not as a crash. */
function configError(file: string, message: string): ConvertError {
  return new ConvertError('bad-json', `${file}: ${message}`, { file });
}

function configNumber(config: JsonObject, key: string, file: string): number {
  const value = config[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw configError(file, `${key} is ${JSON.stringify(value)}, expected a number`);
  return value;
}

function configActivation(config: JsonObject, file: string): ClipActivation {
  const act = config.hidden_act;
  if (act !== 'quick_gelu' && act !== 'gelu') throw configError(file, `hidden_act ${JSON.stringify(act)} is not quick_gelu or gelu`);
  return act;
}

/** `file` names the config in messages (text_encoder_2/config.json). */
export function clipTextConfig(config: JsonObject, placeholderRows = 0, file = 'text encoder config'): ClipTextConfig {
  const number = (key: string) => configNumber(config, key, file);
  const vocabSize = number('vocab_size');
  const hidden = number('hidden_size');
  const heads = number('num_attention_heads');
  if (hidden % heads !== 0) throw configError(file, `${heads} heads do not divide hidden_size ${hidden}`);
  return {
    tokenRows: vocabSize + placeholderRows,
    vocabSize,
    hidden,
    heads,
    layers: number('num_hidden_layers'),
    intermediate: number('intermediate_size'),
    projection: number('projection_dim'),
    positions: number('max_position_embeddings'),
    layerNormEps: typeof config.layer_norm_eps === 'number' ? config.layer_norm_eps : 1e-5,
    activation: configActivation(config, file),
  };
}

/** torch nn.Linear weight [out, in] -> our row-major [in, out]. */
function transposed(w: Float32Array, outF: number, inF: number): Float32Array {
  const t = new Float32Array(inF * outF);
  for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) t[i * outF + o] = w[o * inF + i]!;
  return t;
}

async function readLinearAsIs(index: TensorIndex, key: string, inF: number, outF: number, bias: boolean): Promise<Linear> {
  expectTensor(index, `${key}.weight`, [outF, inF]);
  const w = transposed(await index.readTensor(`${key}.weight`), outF, inF);
  if (!bias) return { inF, outF, w, b: new Float32Array(outF) };
  expectTensor(index, `${key}.bias`, [outF]);
  return { inF, outF, w, b: Float32Array.from(await index.readTensor(`${key}.bias`)) };
}

async function readNorm(index: TensorIndex, key: string, dim: number): Promise<Norm> {
  expectTensor(index, `${key}.weight`, [dim]);
  expectTensor(index, `${key}.bias`, [dim]);
  return { gamma: Float32Array.from(await index.readTensor(`${key}.weight`)), beta: Float32Array.from(await index.readTensor(`${key}.bias`)) };
}

/**
 * The token table with `extra` rows appended, each the mean of the stored rows: an untuned
 * placeholder then embeds like an average (unused) token, not like any particular word, and tuning
 * starts from the middle of the embedding cloud.
 */
export function withPlaceholderRows(table: Float32Array, rows: number, dim: number, extra: number): Float32Array {
  const out = new Float32Array((rows + extra) * dim);
  out.set(table.subarray(0, rows * dim));
  const mean = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let i = 0; i < dim; i++) mean[i]! += table[r * dim + i]!;
  for (let e = 0; e < extra; e++) for (let i = 0; i < dim; i++) out[(rows + e) * dim + i] = mean[i]! / rows;
  return out;
}

export async function loadClipTextParams(index: TensorIndex, config: JsonObject, opts: ClipLoadOptions = {}): Promise<ClipTextParams> {
  const cfg = clipTextConfig(config, opts.placeholderRows ?? 0, index.name.replace(/[^/]*$/, 'config.json'));
  const D = cfg.hidden;
  const embeddings = 'text_model.embeddings';
  expectTensor(index, `${embeddings}.token_embedding.weight`, [cfg.vocabSize, D]);
  expectTensor(index, `${embeddings}.position_embedding.weight`, [cfg.positions, D]);
  const tokens = await index.readTensor(`${embeddings}.token_embedding.weight`);
  const compact = opts.compact ?? ((lin: Linear) => lin);
  const readLinear = async (key: string, inF: number, outF: number, bias = true) => compact(await readLinearAsIs(index, key, inF, outF, bias));
  const layers: ClipLayerParams[] = [];
  for (let i = 0; i < cfg.layers; i++) {
    const l = `text_model.encoder.layers.${i}`;
    layers.push({
      ln1: await readNorm(index, `${l}.layer_norm1`, D),
      q: await readLinear(`${l}.self_attn.q_proj`, D, D),
      k: await readLinear(`${l}.self_attn.k_proj`, D, D),
      v: await readLinear(`${l}.self_attn.v_proj`, D, D),
      out: await readLinear(`${l}.self_attn.out_proj`, D, D),
      ln2: await readNorm(index, `${l}.layer_norm2`, D),
      fc1: await readLinear(`${l}.mlp.fc1`, D, cfg.intermediate),
      fc2: await readLinear(`${l}.mlp.fc2`, cfg.intermediate, D),
    });
  }
  return {
    cfg,
    tokenEmbedding: withPlaceholderRows(tokens, cfg.vocabSize, D, cfg.tokenRows - cfg.vocabSize),
    positionEmbedding: Float32Array.from(await index.readTensor(`${embeddings}.position_embedding.weight`)),
    layers,
    finalNorm: await readNorm(index, 'text_model.final_layer_norm', D),
    projection: await readLinear('text_projection', D, cfg.projection, false),
  };
}

/** LayerNormalization over the last axis with the model's own eps (nn.ts's emitLayerNorm fixes 1e-6). */
export function emitLayerNormEps(g: GraphBuilder, x: string, dim: number, n: Norm, eps: number): string {
  return g.op('LayerNormalization', [x, g.f32('ln_gamma', [dim], n.gamma), g.f32('ln_beta', [dim], n.beta)], { axis: attr.int(-1), epsilon: attr.float(eps) });
}

/** quick_gelu = x sigmoid(1.702 x) (CLIP-L); gelu = the exact erf form 0.5 x (1 + erf(x / sqrt 2)) (bigG). */
function emitActivation(g: GraphBuilder, x: string, act: ClipActivation): string {
  if (act === 'quick_gelu') return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, g.constF32([1.702])])])]);
  const erf = g.op('Erf', [g.op('Mul', [x, g.constF32([Math.fround(Math.SQRT1_2)])])]);
  return g.op('Mul', [g.op('Mul', [x, g.op('Add', [erf, g.constF32([1])])]), g.constF32([0.5])]);
}

/**
 * int4 (MatMulNBits) needs the input width to be a multiple of the block size; a layer whose width
 * is not (the fixtures' prime MLP widths 37 and 53; never the real 768/3072/1280/5120) is stored int8.
 */
export function clipLinearPrecision(lin: Linear, prec: PrecisionSpec): PrecisionSpec {
  return prec.matmul === 'int4' && lin.inF % prec.blockSize !== 0 ? { ...prec, matmul: 'int8' } : prec;
}

function linear(g: GraphBuilder, x: string, lin: Linear, prec: PrecisionSpec, name: string): string {
  return emitLinear(g, x, lin, clipLinearPrecision(lin, prec), name);
}

/** [batch, 1, S, S]: 0 on and below the diagonal, CAUSAL_MASKED above (expanded to the batch for MultiHeadAttention's WebGPU kernel). */
function emitCausalBias(g: GraphBuilder, ids: string, S: number): string {
  const bias = new Float32Array(S * S);
  for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) bias[i * S + j] = CAUSAL_MASKED;
  const table = g.f32('causal_bias', [1, 1, S, S], bias);
  return g.op('Expand', [table, g.op('Concat', [dimOf(g, ids, 0), g.i64([1, S, S])], { axis: attr.int(0) })]);
}

/** [S, S] float: 1 where row < column, so (x @ it)[j] = sum of x[i] over i < j. */
function strictlyBefore(g: GraphBuilder, S: number): string {
  const m = new Float32Array(S * S);
  for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) m[i * S + j] = 1;
  return g.f32('strictly_before', [S, S], m);
}

/**
 * Where the first `eosId` is, as float masks [batch, S]: `first` (1 at the first EOS) and `after`
 * (1 at every later position). Found by a Gather from an indicator table and one MatMul, so the
 * int64 ids feed only Gather nodes (no int64 compare or ArgMax for WebGPU to fall back on the CPU
 * for). With no EOS both are 0.
 */
function emitEosMasks(g: GraphBuilder, ids: string, eosId: number, rows: number, S: number): { first: string; after: string } {
  const indicator = new Float32Array(rows);
  indicator[eosId] = 1;
  const isEos = g.op('Gather', [g.f32('eos_indicator', [rows], indicator), ids], { axis: attr.int(0) });
  const eosBefore = g.op('MatMul', [isEos, strictlyBefore(g, S)]); // count of EOS strictly before each position
  const noneBefore = g.op('Relu', [g.op('Sub', [g.constF32([1]), eosBefore])]);
  return { first: g.op('Mul', [isEos, noneBefore]), after: g.op('Sub', [g.constF32([1]), noneBefore]) };
}

export interface ClipTextOutputs {
  /** hidden_states[-2], [batch, S, hidden]. */
  penultimate: string;
  /** text_embeds, [batch, projection]. */
  pooled: string;
}

export interface ClipTextIds {
  /**
   * The tokenizer's <|endoftext|> id. The SD3 configs carry the legacy eos_token_id 2, for which
   * transformers pools at argmax(ids): that is the first EOS only while EOS is the largest id, which
   * placeholder ids are not, so the first EOS is found by its id.
   */
  eosId: number;
  /** Positions after the first EOS read this token instead (SD3's tokenizer_2 pads with "!" = 0 where tokenizer/ pads with EOS). */
  padAfterEos?: number;
}

/**
 * The encoder on `ids` ([batch, S] int64, S = max_position_embeddings). Initializers are written in
 * the current scope of `g`.
 */
export function emitClipText(g: GraphBuilder, ids: string, p: ClipTextParams, tokens: ClipTextIds, prec: PrecisionSpec, impl: AttentionImpl, pieces: AttentionPieces): ClipTextOutputs {
  const { hidden: D, positions: S, layerNormEps: eps, tokenRows } = p.cfg;
  for (const id of [tokens.eosId, tokens.padAfterEos ?? 0]) {
    if (!Number.isInteger(id) || id < 0 || id >= tokenRows) throw new Error(`token id ${id} is outside the ${tokenRows}-row embedding table`);
  }
  const table = g.f32('token_embedding', [tokenRows, D], p.tokenEmbedding);
  const eos = emitEosMasks(g, ids, tokens.eosId, tokenRows, S);
  let embedded = g.op('Gather', [table, ids], { axis: attr.int(0) });
  if (tokens.padAfterEos !== undefined) {
    const padRow = g.op('Gather', [table, g.i64([tokens.padAfterEos], [1, 1])], { axis: attr.int(0) }); // [1, 1, D]
    const isAfter = g.op('Greater', [g.op('Unsqueeze', [eos.after, g.i64([2])]), g.constF32([0.5])]);
    embedded = g.op('Where', [isAfter, padRow, embedded]);
  }
  let h = g.op('Add', [embedded, g.f32('position_embedding', [1, S, D], p.positionEmbedding)]);
  const causal = emitCausalBias(g, ids, S);
  let penultimate = h;
  p.layers.forEach((l, i) => {
    if (i === p.layers.length - 1) penultimate = h;
    h = g.scope(`layer${i}`, () => {
      const n1 = emitLayerNormEps(g, h, D, l.ln1, eps);
      const q = linear(g, n1, l.q, prec, 'q_proj');
      const k = linear(g, n1, l.k, prec, 'k_proj');
      const v = linear(g, n1, l.v, prec, 'v_proj');
      const a = emitAttention(g, q, k, v, causal, p.cfg.heads, D, impl, pieces);
      const h1 = g.op('Add', [h, linear(g, a, l.out, prec, 'out_proj')]);
      const n2 = emitLayerNormEps(g, h1, D, l.ln2, eps);
      const mlp = linear(g, emitActivation(g, linear(g, n2, l.fc1, prec, 'fc1'), p.cfg.activation), l.fc2, prec, 'fc2');
      return g.op('Add', [h1, mlp]);
    });
  });
  // The one-hot row picks the first EOS's hidden state; the final LayerNorm is per row, so it runs on that row only.
  const eosRow = g.op('Reshape', [g.op('MatMul', [g.op('Unsqueeze', [eos.first, g.i64([1])]), h]), g.i64([-1, D])]);
  const pooled = linear(g, emitLayerNormEps(g, eosRow, D, p.finalNorm, eps), p.projection, prec, 'text_projection');
  return { penultimate, pooled };
}

/** One encoder as its own graph: input_ids [batch, S] -> hidden_states_m2 [batch, S, hidden], text_embeds [batch, projection]. */
export function buildClipTextEncoder(p: ClipTextParams, tokens: ClipTextIds, prec: PrecisionSpec, impl: AttentionImpl, pieces: AttentionPieces): IrGraph {
  const g = new GraphBuilder('clip_text_encoder');
  const ids = g.input('input_ids', 'int64', ['batch', p.cfg.positions]);
  const out = emitClipText(g, ids, p, tokens, prec, impl, pieces);
  g.output(out.penultimate, 'hidden_states_m2', 'float32', ['batch', p.cfg.positions, p.cfg.hidden]);
  g.output(out.pooled, 'text_embeds', 'float32', ['batch', p.cfg.projection]);
  return g.build();
}
