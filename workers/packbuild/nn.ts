/** Layer emitters: each writes the ONNX nodes of one layer kind into a GraphBuilder. */
import { attr, type GraphBuilder } from './ir';
import type { Conv2d, Linear, Norm } from './params';
import { quantizeConvInt8, quantizeLinearInt4, quantizeLinearInt8, type ConvPrecision, type MatmulPrecision } from './quantize';

export interface PrecisionSpec {
  matmul: MatmulPrecision;
  conv: ConvPrecision;
  blockSize: number;
}

export type AttentionImpl = 'decomposed' | 'mha';

export const LN_EPS = 1e-6;

export function emitLinear(g: GraphBuilder, x: string, lin: Linear, p: PrecisionSpec, name = 'linear'): string {
  return g.scope(name, () => {
    let y: string;
    if (p.matmul === 'fp32') {
      y = g.op('MatMul', [x, g.f32('weight', [lin.inF, lin.outF], lin.w)]);
    } else if (p.matmul === 'int8') {
      const q = quantizeLinearInt8(lin.w, lin.inF, lin.outF);
      const w = g.op(
        'DequantizeLinear',
        [g.initializer('weight_q', 'int8', [lin.inF, lin.outF], q.q), g.f32('weight_scale', [lin.outF], q.scale)],
        { axis: attr.int(1) },
      );
      y = g.op('MatMul', [x, w]);
    } else {
      const q = quantizeLinearInt4(lin.w, lin.inF, lin.outF, p.blockSize);
      g.useOpset('com.microsoft', 1);
      y = g.op(
        'MatMulNBits',
        [x, g.initializer('weight_q4', 'uint8', [lin.outF, q.blocks, p.blockSize / 2], q.packed), g.f32('weight_scale', [lin.outF * q.blocks], q.scales)],
        { K: attr.int(lin.inF), N: attr.int(lin.outF), bits: attr.int(4), block_size: attr.int(p.blockSize) },
        'com.microsoft',
      );
    }
    return g.op('Add', [y, g.f32('bias', [lin.outF], lin.b)]);
  });
}

export function emitConv(g: GraphBuilder, x: string, c: Conv2d, p: PrecisionSpec, name = 'conv'): string {
  return g.scope(name, () => {
    const dims = [c.outC, c.inC, c.k, c.k];
    let w: string;
    if (p.conv === 'fp32') {
      w = g.f32('weight', dims, c.w);
    } else {
      const q = quantizeConvInt8(c.w, c.outC);
      w = g.op('DequantizeLinear', [g.initializer('weight_q', 'int8', dims, q.q), g.f32('weight_scale', [c.outC], q.scale)], { axis: attr.int(0) });
    }
    return g.op('Conv', [x, w, g.f32('bias', [c.outC], c.b)], {
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
 * softmax(Q K^T / sqrt(dh) + bias) V for q [B, S, D], k/v [B, L, D], bias
 * [B, 1, S, L] or null. `mha` uses com.microsoft.MultiHeadAttention, which
 * needs the bias at its full shape [B, heads, S, L].
 */
export function emitAttention(
  g: GraphBuilder,
  q: string,
  k: string,
  v: string,
  bias: string | null,
  heads: number,
  dim: number,
  impl: AttentionImpl,
): string {
  const dh = dim / heads;
  const scale = Math.fround(1 / Math.sqrt(dh));
  if (impl === 'mha') {
    g.useOpset('com.microsoft', 1);
    const inputs = [q, k, v];
    if (bias) inputs.push('', '', g.op('Expand', [bias, g.i64([1, heads, 1, 1])]));
    return g.op('MultiHeadAttention', inputs, { num_heads: attr.int(heads), scale: attr.float(scale) }, 'com.microsoft');
  }
  const split = g.i64([0, 0, heads, dh]);
  const qh = g.op('Transpose', [g.op('Reshape', [q, split])], { perm: attr.ints([0, 2, 1, 3]) });
  const kt = g.op('Transpose', [g.op('Reshape', [k, split])], { perm: attr.ints([0, 2, 3, 1]) });
  const vh = g.op('Transpose', [g.op('Reshape', [v, split])], { perm: attr.ints([0, 2, 1, 3]) });
  let logits = g.op('Mul', [g.op('MatMul', [qh, kt]), g.constF32([scale])]);
  if (bias) logits = g.op('Add', [logits, bias]);
  const probs = g.op('Softmax', [logits], { axis: attr.int(-1) });
  const o = g.op('Transpose', [g.op('MatMul', [probs, vh])], { perm: attr.ints([0, 2, 1, 3]) });
  return g.op('Reshape', [o, g.i64([0, 0, dim])]);
}

/** Dimension `axis` of `x` as an int64 tensor of shape [1]. */
export function dimOf(g: GraphBuilder, x: string, axis: number): string {
  return g.op('Gather', [g.op('Shape', [x]), g.i64([axis])], { axis: attr.int(0) });
}

/** x[..., start:end, ...] along `axis`, with start/end as int64 [1] tensors. */
export function sliceAxis(g: GraphBuilder, x: string, start: string, end: string, axis: number): string {
  return g.op('Slice', [x, start, end, g.i64([axis])]);
}
