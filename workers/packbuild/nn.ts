/** Layer emitters: each writes the ONNX nodes of one layer kind into a GraphBuilder. */
import { attr, type GraphBuilder } from './ir';
import type { Conv2d, Linear, Norm } from './params';
import { quantizeConvInt8, type ConvPrecision, type MatmulPrecision } from './quantize';
import { storedLinear } from './stored-linear';

export interface PrecisionSpec {
  matmul: MatmulPrecision;
  conv: ConvPrecision;
  blockSize: number;
}

export type AttentionImpl = 'decomposed' | 'mha';

export const LN_EPS = 1e-6;

/**
 * The initializers of a layer emitted once per graph: a layer used twice in
 * one graph (the image stream's weights run on the image tokens and again on
 * live reference tokens in full mode) must not be stored, and loaded onto the
 * GPU, twice. Keyed by the parameter object and the precision.
 */
const emitted = new WeakMap<GraphBuilder, WeakMap<object, Map<string, string[]>>>();

function oncePerGraph(g: GraphBuilder, layer: object, p: PrecisionSpec, make: () => string[]): string[] {
  let perGraph = emitted.get(g);
  if (!perGraph) emitted.set(g, (perGraph = new WeakMap()));
  let perLayer = perGraph.get(layer);
  if (!perLayer) perGraph.set(layer, (perLayer = new Map()));
  const key = `${p.matmul}/${p.conv}/${p.blockSize}`;
  let names = perLayer.get(key);
  if (!names) perLayer.set(key, (names = make()));
  return names;
}

export function emitLinear(g: GraphBuilder, x: string, lin: Linear, p: PrecisionSpec, name = 'linear'): string {
  return g.scope(name, () => {
    const stored = storedLinear(lin, p);
    const bias = (): string[] => (lin.b ? [g.f32('bias', [lin.outF], lin.b)] : []);
    const withBias = (y: string, b: string | undefined) => (b ? g.op('Add', [y, b]) : y);
    if (stored.kind === 'fp32') {
      const [w, b] = oncePerGraph(g, lin, p, () => [g.f32('weight', [lin.inF, lin.outF], stored.w), ...bias()]);
      return withBias(g.op('MatMul', [x, w!]), b);
    }
    if (stored.kind === 'fp16') {
      // Stored at half size, computed in fp32: WebGPU without shader-f16 (SwiftShader, many
      // laptops) has no fp16 matmul, and fp32 accumulation keeps the error at fp16 rounding.
      const [wh, b] = oncePerGraph(g, lin, p, () => [g.initializer('weight_f16', 'float16', [lin.inF, lin.outF], stored.bits), ...bias()]);
      const w = g.op('Cast', [wh!], { to: attr.int(1) });
      return withBias(g.op('MatMul', [x, w]), b);
    }
    if (stored.kind === 'int8') {
      const [wq, scale, b] = oncePerGraph(g, lin, p, () => [
        g.initializer('weight_q', 'int8', [lin.inF, lin.outF], stored.q),
        g.f32('weight_scale', [lin.outF], stored.scale),
        ...bias(),
      ]);
      const w = g.op('DequantizeLinear', [wq!, scale!], { axis: attr.int(1) });
      return withBias(g.op('MatMul', [x, w]), b);
    }
    const blocks = Math.ceil(lin.inF / p.blockSize);
    if (stored.blocks !== blocks) throw new Error(`int4 blocks: ${stored.blocks} for K ${lin.inF}, block ${p.blockSize}`);
    const [wq, scale, b] = oncePerGraph(g, lin, p, () => [
      g.initializer('weight_q4', 'uint8', [lin.outF, stored.blocks, p.blockSize / 2], stored.packed),
      g.f32('weight_scale', [lin.outF * stored.blocks], stored.scales),
      ...bias(),
    ]);
    g.useOpset('com.microsoft', 1);
    const y = g.op('MatMulNBits', [x, wq!, scale!], { K: attr.int(lin.inF), N: attr.int(lin.outF), bits: attr.int(4), block_size: attr.int(p.blockSize) }, 'com.microsoft');
    return withBias(y, b);
  });
}

export function emitConv(g: GraphBuilder, x: string, c: Conv2d, p: PrecisionSpec, name = 'conv'): string {
  return g.scope(name, () => {
    const dims = [c.outC, c.inC, c.k, c.k];
    const [wRaw, scale, b] = oncePerGraph(g, c, p, () => {
      if (p.conv === 'fp32') return [g.f32('weight', dims, c.w), '', g.f32('bias', [c.outC], c.b)];
      const q = quantizeConvInt8(c.w, c.outC);
      return [g.initializer('weight_q', 'int8', dims, q.q), g.f32('weight_scale', [c.outC], q.scale), g.f32('bias', [c.outC], c.b)];
    });
    const w = scale ? g.op('DequantizeLinear', [wRaw!, scale], { axis: attr.int(0) }) : wRaw!;
    return g.op('Conv', [x, w, b!], {
      kernel_shape: attr.ints([c.k, c.k]),
      strides: attr.ints([c.stride, c.stride]),
      pads: attr.ints([c.pad, c.pad, c.pad, c.pad]),
    });
  });
}

/** LayerNormalization over the last axis; without `n` it has no affine (adaLN style). */
export function emitLayerNorm(g: GraphBuilder, x: string, dim: number, n?: Norm): string {
  const gamma = n ? g.f32('ln_gamma', [dim], n.gamma) : g.constF32(new Array(dim).fill(1));
  const beta = n ? g.f32('ln_beta', [dim], n.beta) : g.constF32(new Array(dim).fill(0));
  return g.op('LayerNormalization', [x, gamma, beta], { axis: attr.int(-1), epsilon: attr.float(LN_EPS) });
}

/**
 * RMSNorm over the last axis, x / sqrt(mean(x^2) + eps) * weight (diffusers'
 * RMSNorm, eps 1e-6 as SD3.5's qk_norm), decomposed: opset 17 has no
 * RMSNormalization. `weight` is an initializer name, so that a caller can
 * share one weight between the uses of a layer.
 */
export function emitRmsNorm(g: GraphBuilder, x: string, weight: string, eps = LN_EPS): string {
  const meanSquare = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: attr.ints([-1]), keepdims: attr.int(1) });
  const inverse = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [meanSquare, g.constF32([eps])])])]);
  return g.op('Mul', [g.op('Mul', [x, inverse]), weight]);
}

/**
 * The sinusoidal timestep features [X, 2 half] of t [X] (diffusers' Timesteps with
 * flip_sin_to_cos: cos first, then sin), for frequencies `freqs` [half].
 */
export function emitTimestepFeatures(g: GraphBuilder, t: string, freqs: Float32Array): string {
  const args = g.op('Mul', [g.op('Unsqueeze', [t, g.i64([1])]), g.f32('freqs', [1, freqs.length], freqs)]);
  return g.op('Concat', [g.op('Cos', [args]), g.op('Sin', [args])], { axis: attr.int(1) });
}

export function emitSilu(g: GraphBuilder, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [x])]);
}

/** GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
export function emitGelu(g: GraphBuilder, x: string): string {
  const x3 = g.op('Mul', [g.op('Mul', [x, x]), x]);
  const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [x3, g.constF32([0.044715])])]), g.constF32([Math.fround(Math.sqrt(2 / Math.PI))])]);
  const t = g.op('Add', [g.op('Tanh', [inner]), g.constF32([1])]);
  return g.op('Mul', [g.op('Mul', [x, t]), g.constF32([0.5])]);
}

/**
 * How an attention is cut into pieces (docs/pack-format.md section 8): the
 * queries in `queryChunks` row ranges, and within each range the heads in
 * groups of `headsPerPiece`. One piece computes the scores of its heads for
 * its queries against every key; no tensor holds more than one piece's
 * scores. Both counts are static (fixed when the graph is built); the chunk
 * boundaries are computed at run time from the query count S: chunk j is rows
 * [floor(j S / n), floor((j + 1) S / n)), at most ceil(S / n) rows. A graph
 * needs S >= queryChunks (every chunk non-empty).
 */
export interface AttentionPieces {
  headsPerPiece: number;
  queryChunks: number;
}

/** Every head and every query in one piece: attention as one MatMul/Softmax/MatMul (or one fused call). */
export const WHOLE_ATTENTION: AttentionPieces = { headsPerPiece: Number.POSITIVE_INFINITY, queryChunks: 1 };

/**
 * The additive bias of one chunk of query rows, [B, 1, rows, L] (broadcast
 * over heads). `rows` is null for a single chunk (every row). A caller whose
 * bias is a sum (the DiT's attention_bias plus a layer's ref_layer_bias
 * columns) builds the sum per chunk, so that it never exists for all rows.
 */
export type BiasRows = (rows: { start: string; end: string } | null) => string;

/**
 * softmax(Q K^T / sqrt(dh) + bias) V for q [B, S, D], k/v [B, L, D], bias
 * [B, 1, S, L] (a tensor, or a function giving the rows of one query chunk)
 * or null, computed in pieces (AttentionPieces) in piece order: for each
 * query chunk, its bias rows, then for each head group its scores, bias
 * added, softmax and product with V. Onnxruntime runs the nodes in that order
 * and frees a piece's scores after its last consumer, so one layer holds at
 * most the chunk's bias rows plus two pieces of scores (the logits and the
 * softmax output):
 *   (2 * headsPerPiece + 1) * B * ceil(S / queryChunks) * L * 4 bytes
 * (2 * headsPerPiece without a bias). The bias is never expanded per head in
 * `decomposed`. `mha` makes one com.microsoft.MultiHeadAttention call per
 * piece (num_heads = headsPerPiece); its WebGPU (JSEP) kernel accepts only an
 * attention_bias of shape [B, num_heads, S, L], so with headsPerPiece = 1 the
 * chunk's bias [B, 1, rows, L] is fed as it is, and with more heads per
 * piece it is expanded to the piece's heads only.
 */
export function emitAttention(
  g: GraphBuilder,
  q: string,
  k: string,
  v: string,
  bias: string | BiasRows | null,
  heads: number,
  dim: number,
  impl: AttentionImpl,
  pieces: AttentionPieces = WHOLE_ATTENTION,
): string {
  const dh = dim / heads;
  if (!Number.isInteger(dh)) throw new Error(`${heads} heads do not divide the width ${dim}`);
  const hp = Math.min(heads, pieces.headsPerPiece);
  const n = pieces.queryChunks;
  if (!Number.isInteger(hp) || hp < 1 || heads % hp !== 0) throw new Error(`headsPerPiece ${pieces.headsPerPiece} does not divide ${heads} heads`);
  if (!Number.isInteger(n) || n < 1) throw new Error(`queryChunks must be a whole number >= 1 (got ${n})`);
  const groups = heads / hp;
  const scale = Math.fround(1 / Math.sqrt(dh));
  const biasRows: BiasRows | null = bias === null ? null : typeof bias === 'string' ? (rows) => (rows ? sliceAxis(g, bias, rows.start, rows.end, 2) : bias) : bias;
  const split = (x: string, axis: number, width: number) =>
    groups === 1 ? [x] : g.opN('Split', [x, g.i64(new Array<number>(groups).fill(width))], groups, { axis: attr.int(axis) });
  // Query chunk j: rows [floor(j S / n), floor((j + 1) S / n)).
  const S = n > 1 ? dimOf(g, q, 1) : '';
  const bound = (j: number) => (j === 0 ? g.i64([0]) : j === n ? S : g.op('Div', [g.op('Mul', [S, g.i64([j])]), g.i64([n])]));
  const chunks = Array.from({ length: n }, (_, j) => (n > 1 ? { start: bound(j), end: bound(j + 1) } : null));

  if (impl === 'mha') {
    g.useOpset('com.microsoft', 1);
    const qg = split(q, 2, hp * dh);
    const kg = split(k, 2, hp * dh);
    const vg = split(v, 2, hp * dh);
    const outs = chunks.map((rows) => {
      let b = biasRows ? biasRows(rows) : null;
      if (b && hp > 1) b = g.op('Expand', [b, g.i64([1, hp, 1, 1])]);
      const parts = qg.map((qi, i) => {
        const qc = rows ? sliceAxis(g, qi, rows.start, rows.end, 1) : qi;
        const inputs = [qc, kg[i]!, vg[i]!];
        if (b) inputs.push('', '', b);
        return g.op('MultiHeadAttention', inputs, { num_heads: attr.int(hp), scale: attr.float(scale) }, 'com.microsoft');
      });
      return parts.length > 1 ? g.op('Concat', parts, { axis: attr.int(2) }) : parts[0]!;
    });
    return outs.length > 1 ? g.op('Concat', outs, { axis: attr.int(1) }) : outs[0]!;
  }

  const headShape = g.i64([0, 0, heads, dh]);
  // The scale goes on Q ([B, S, D]) rather than on every piece's scores.
  const qs = g.op('Mul', [q, g.constF32([scale])]);
  const qg = split(g.op('Transpose', [g.op('Reshape', [qs, headShape])], { perm: attr.ints([0, 2, 1, 3]) }), 1, hp);
  const kg = split(g.op('Transpose', [g.op('Reshape', [k, headShape])], { perm: attr.ints([0, 2, 3, 1]) }), 1, hp);
  const vg = split(g.op('Transpose', [g.op('Reshape', [v, headShape])], { perm: attr.ints([0, 2, 1, 3]) }), 1, hp);
  const outs = chunks.map((rows) => {
    const b = biasRows ? biasRows(rows) : null;
    const parts = qg.map((qi, i) => {
      const qc = rows ? sliceAxis(g, qi, rows.start, rows.end, 2) : qi;
      let logits = g.op('MatMul', [qc, kg[i]!]);
      if (b) logits = g.op('Add', [logits, b]);
      return g.op('MatMul', [g.op('Softmax', [logits], { axis: attr.int(-1) }), vg[i]!]);
    });
    return parts.length > 1 ? g.op('Concat', parts, { axis: attr.int(1) }) : parts[0]!;
  });
  const o = outs.length > 1 ? g.op('Concat', outs, { axis: attr.int(2) }) : outs[0]!;
  return g.op('Reshape', [g.op('Transpose', [o], { perm: attr.ints([0, 2, 1, 3]) }), g.i64([0, 0, dim])]);
}

/** Dimension `axis` of `x` as an int64 tensor of shape [1]. */
export function dimOf(g: GraphBuilder, x: string, axis: number): string {
  return g.op('Gather', [g.op('Shape', [x]), g.i64([axis])], { axis: attr.int(0) });
}

/** x[..., start:end, ...] along `axis`, with start/end as int64 [1] tensors. */
export function sliceAxis(g: GraphBuilder, x: string, start: string, end: string, axis: number): string {
  return g.op('Slice', [x, start, end, g.i64([axis])]);
}
