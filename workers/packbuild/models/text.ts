/** A one-block transformer text encoder: ids -> per-token embeddings + a pooled embedding. */
import { attr, GraphBuilder, type IrGraph } from '../ir';
import { dimOf, emitAttention, emitGelu, emitLayerNorm, emitLinear, sliceAxis, type AttentionImpl, type AttentionPieces, type PrecisionSpec } from '../nn';
import { linear, norm, uniform, type Linear, type Norm, type Rng } from '../params';
import { add, attentionRef, gelu, layerNormRef, linearRef } from '../reference/ops';

export interface TextConfig {
  vocabSize: number;
  maxTokens: number;
  dim: number;
  heads: number;
  mlpHidden: number;
  pooledDim: number;
}

export interface TextParams {
  cfg: TextConfig;
  embed: Float32Array;
  pos: Float32Array;
  ln1: Norm;
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
  ln2: Norm;
  mlp1: Linear;
  mlp2: Linear;
  lnFinal: Norm;
  pool: Linear;
}

export function makeTextParams(rng: Rng, cfg: TextConfig): TextParams {
  const r = rng.fork('text');
  const D = cfg.dim;
  return {
    cfg,
    embed: uniform(r.fork('embed'), cfg.vocabSize * D, 1),
    pos: uniform(r.fork('pos'), cfg.maxTokens * D, 0.5),
    ln1: norm(r.fork('ln1'), D),
    q: linear(r.fork('q'), D, D),
    k: linear(r.fork('k'), D, D),
    v: linear(r.fork('v'), D, D),
    o: linear(r.fork('o'), D, D),
    ln2: norm(r.fork('ln2'), D),
    mlp1: linear(r.fork('mlp1'), D, cfg.mlpHidden),
    mlp2: linear(r.fork('mlp2'), cfg.mlpHidden, D),
    lnFinal: norm(r.fork('lnf'), D),
    pool: linear(r.fork('pool'), D, cfg.pooledDim),
  };
}

export function buildTextEncoder(p: TextParams, prec: PrecisionSpec, impl: AttentionImpl, pieces: AttentionPieces): IrGraph {
  const g = new GraphBuilder('text_encoder');
  const D = p.cfg.dim;
  const ids = g.input('input_ids', 'int64', ['batch', 'text_tokens']);
  const tok = g.op('Gather', [g.f32('token_embedding', [p.cfg.vocabSize, D], p.embed), ids], { axis: attr.int(0) });
  const pos = sliceAxis(g, g.f32('position_embedding', [p.cfg.maxTokens, D], p.pos), g.i64([0]), dimOf(g, ids, 1), 0);
  let h = g.op('Add', [tok, pos]);
  g.scope('block', () => {
    const n1 = emitLayerNorm(g, h, D, p.ln1);
    const a = emitAttention(g, emitLinear(g, n1, p.q, prec, 'q'), emitLinear(g, n1, p.k, prec, 'k'), emitLinear(g, n1, p.v, prec, 'v'), null, p.cfg.heads, D, impl, pieces);
    h = g.op('Add', [h, emitLinear(g, a, p.o, prec, 'o')]);
    const n2 = emitLayerNorm(g, h, D, p.ln2);
    h = g.op('Add', [h, emitLinear(g, emitGelu(g, emitLinear(g, n2, p.mlp1, prec, 'mlp1')), p.mlp2, prec, 'mlp2')]);
  });
  h = emitLayerNorm(g, h, D, p.lnFinal);
  g.output(h, 'text_embeddings', 'float32', ['batch', 'text_tokens', D]);
  const mean = g.op('ReduceMean', [h], { axes: attr.ints([1]), keepdims: attr.int(0) });
  g.output(emitLinear(g, mean, p.pool, prec, 'pool'), 'pooled', 'float32', ['batch', p.cfg.pooledDim]);
  return g.build();
}

/** One sequence of ids -> { embeddings [M, D], pooled [pooledDim] }. */
export function textEncodeRef(p: TextParams, prec: PrecisionSpec, ids: number[]): { embeddings: Float32Array; pooled: Float32Array } {
  const D = p.cfg.dim;
  const M = ids.length;
  let h: Float32Array = new Float32Array(M * D);
  ids.forEach((id, t) => {
    for (let i = 0; i < D; i++) h[t * D + i] = p.embed[id * D + i]! + p.pos[t * D + i]!;
  });
  const n1 = layerNormRef(h, D, p.ln1);
  const a = attentionRef(linearRef(n1, p.q, prec), linearRef(n1, p.k, prec), linearRef(n1, p.v, prec), null, p.cfg.heads, D);
  h = add(h, linearRef(a, p.o, prec));
  const n2 = layerNormRef(h, D, p.ln2);
  h = add(h, linearRef(linearRef(n2, p.mlp1, prec).map(gelu), p.mlp2, prec));
  h = layerNormRef(h, D, p.lnFinal);
  const mean = new Float32Array(D);
  for (let t = 0; t < M; t++) for (let i = 0; i < D; i++) mean[i]! += h[t * D + i]! / M;
  return { embeddings: h, pooled: linearRef(mean, p.pool, prec) };
}
