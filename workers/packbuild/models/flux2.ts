/**
 * The FLUX.2 transformer (diffusers' Flux2Transformer2DModel) as ONNX graphs, with the studio's two
 * ways of placing references (docs/flux2.md):
 *
 * - full mode (klein 4B and base 4B, as they were trained): reference tokens join the image
 *   stream after the noisy tokens, at the step's timestep, and every token attends to every token.
 *   One graph, `flux2_step_full`, recomputes them at every step.
 * - cached mode (klein 9B-kv, as it was trained): references are modulated at the fixed timestep 0
 *   and attend only to themselves, so their keys (after the qk RMSNorm and RoPE) and values do not
 *   depend on the step. `flux2_reference` computes them once per reference; `flux2_step` attends
 *   to [text, cached references, image] with them.
 *
 * The layout, as diffusers computes it: joint sequence [text; image]; shared modulation per stream
 * (double-stream image and text: shift, scale, gate for attention then for the MLP; single-stream:
 * shift, scale, gate) computed once from SiLU(temb); LayerNorms without affine; per-head RMSNorm on
 * q and k; interleaved 4-axis RoPE (pairs (2j, 2j+1)); SwiGLU MLPs (gate half first); single blocks
 * with one fused q|k|v|gate|up projection and one output projection over [attention; MLP]; no
 * biases anywhere; norm_out chunks (scale, shift). RoPE tables are inputs ([S, headDim / 2] cos and
 * sin, computed in float64 on the host by workers/families/flux2-positions.ts): where text, image
 * and references sit is the family's decision, not the graph's, and the tables stay exact.
 *
 * The graphs keep the studio's step contract (the same inputs as the SD3 family's DiT graphs, so
 * the sampler runs them unchanged): latents as a [B, C, h, w] grid (C = 128: 32 latent channels
 * patchified 2x2 by the VAE graphs), the timestep as 1000 sigma, the guidance branches' text and
 * reference sets held once with per-branch indices (text_set, ref_set), the attention plan's
 * attention_bias and ref_layer_bias (masks, selective mask, per-subject strength). FLUX.2 has no
 * pooled text vector, so there is no `pooled` input.
 */
import { attr, GraphBuilder, type IrGraph } from '../ir';
import { dimOf, emitAttention, emitLayerNorm, emitLinear, emitRmsNorm, emitSilu, emitTimestepFeatures, sliceAxis, WHOLE_ATTENTION, type AttentionImpl, type AttentionPieces, type BiasRows, type PrecisionSpec } from '../nn';
import { layerBias, textImageRowMask } from './reference-bias';
import type { Linear } from '../params';

export interface Flux2Config {
  /** Inner width, heads x head dim (3072 for klein 4B). */
  dim: number;
  heads: number;
  doubleLayers: number;
  singleLayers: number;
  /** Token channels in and out: latent channels x 2 x 2 (128 for the real models). */
  channels: number;
  /** Text embedding width (3 Qwen3 hidden-state taps: 7680 for klein 4B). */
  jointDim: number;
  /** The SwiGLU hidden width (dim x mlp_ratio). */
  mlpHidden: number;
  /** RoPE dims per axis (t, h, w, l); they sum to the head dim. */
  axesDims: readonly number[];
  ropeTheta: number;
}

/** q, k, v and their per-head RMSNorm weights ([head dim]). */
export interface Flux2Qkv {
  q: Linear;
  k: Linear;
  v: Linear;
  qNorm: Float32Array;
  kNorm: Float32Array;
}

/** One stream of a double block: attention in, attention out, SwiGLU MLP (in: gate | up). */
export interface Flux2Stream extends Flux2Qkv {
  o: Linear;
  ffIn: Linear;
  ffOut: Linear;
}

export interface Flux2SingleBlock {
  /** [dim] -> [3 dim + 2 mlpHidden]: q | k | v | gate | up. */
  qkvMlp: Linear;
  qNorm: Float32Array;
  kNorm: Float32Array;
  /** [dim + mlpHidden] -> [dim] over [attention; SwiGLU]. */
  out: Linear;
}

export interface Flux2Params {
  cfg: Flux2Config;
  xEmbed: Linear;
  context: Linear;
  /** The 128 sinusoid frequencies of Timesteps(256, flip_sin_to_cos) as torch computes them. */
  timeFreqs: Float32Array;
  time1: Linear;
  time2: Linear;
  /** SiLU(temb) -> 6 dim (image stream of the double blocks), 6 dim (text stream), 3 dim (single blocks). */
  modImage: Linear;
  modText: Linear;
  modSingle: Linear;
  double: { image: Flux2Stream; text: Flux2Stream }[];
  single: Flux2SingleBlock[];
  /** norm_out: SiLU(temb) -> 2 dim, chunks (scale, shift) as diffusers' AdaLayerNormContinuous. */
  normOut: Linear;
  projOut: Linear;
}

export const headDimOf = (c: Flux2Config): number => c.dim / c.heads;

/**
 * The precision of a linear in a pack of precision `prec`. The block linears (attention and MLP
 * projections, ~90 % of the weights) take the pack's precision; the layers the browser ports of
 * FLUX.2 found fragile (the shared modulation, which scales every block's residual, the timestep
 * and input embedders, norm_out and proj_out) stay at fp16 or above: fp16 storage computes in fp32
 * and costs 2^-11 relative per weight, where int4 costs ~7 %.
 */
export function flux2LinearPrecision(prec: PrecisionSpec, fragile: boolean): PrecisionSpec {
  return fragile && (prec.matmul === 'int4' || prec.matmul === 'int8') ? { ...prec, matmul: 'fp16' } : prec;
}
/** Layers that hold reference K/V: every double block, then every single block. */
export const kvLayersOf = (c: Flux2Config): number => c.doubleLayers + c.singleLayers;

/** The cached references' K/V of every layer: [layers, batch, reference tokens, dim]. */
const kvShape = (c: Flux2Config) => [kvLayersOf(c), 'batch', 'ref_tokens', c.dim];

class Flux2Emitter {
  readonly g: GraphBuilder;
  readonly D: number;
  readonly dh: number;
  private rope: { cos: string; sin: string } | null = null;

  constructor(
    readonly p: Flux2Params,
    readonly prec: PrecisionSpec,
    readonly impl: AttentionImpl,
    readonly pieces: AttentionPieces,
    name: string,
  ) {
    this.g = new GraphBuilder(name);
    this.D = p.cfg.dim;
    this.dh = headDimOf(p.cfg);
    const ropeDims = p.cfg.axesDims.reduce((a, b) => a + b, 0);
    if (ropeDims !== this.dh) throw new Error(`FLUX.2 RoPE axes ${p.cfg.axesDims.join('+')} do not sum to the head dim ${this.dh}`);
  }

  /** A block linear at the pack's precision. */
  linear(x: string, lin: Linear, name: string): string {
    return emitLinear(this.g, x, lin, this.prec, name);
  }

  /** A fragile linear (flux2LinearPrecision): modulation, embedders, norm_out, proj_out. */
  fragileLinear(x: string, lin: Linear, name: string): string {
    return emitLinear(this.g, x, lin, flux2LinearPrecision(this.prec, true), name);
  }

  /**
   * The RoPE tables: the step's [S, headDim / 2], shared by every branch, used as
   * [S, 1, headDim / 2, 1]; the reference pass's [B, R, headDim / 2] (each reference on its own
   * time coordinate), used as [B, R, 1, headDim / 2, 1]. Both broadcast over the heads.
   */
  ropeInputs(kind: 'step' | 'reference'): void {
    const g = this.g;
    const half = this.dh / 2;
    const step = kind === 'step';
    const dims = step ? ['rope_tokens', half] : ['batch', 'ref_tokens', half];
    const shape = g.i64(step ? [-1, 1, half, 1] : [0, 0, 1, half, 1]);
    const prefix = step ? '' : 'ref_';
    const cos = g.input(`${prefix}rope_cos`, 'float32', dims);
    const sin = g.input(`${prefix}rope_sin`, 'float32', dims);
    this.rope = { cos: g.op('Reshape', [cos, shape]), sin: g.op('Reshape', [sin, shape]) };
  }

  /** A latent grid [X, C, h, w] as row-major tokens [X, h w, C]. */
  gridTokens(latents: string): string {
    const g = this.g;
    return g.op('Transpose', [g.op('Reshape', [latents, g.i64([0, this.p.cfg.channels, -1])])], { perm: attr.ints([0, 2, 1]) });
  }

  /** Interleaved rotary embedding of x [B, S, H, dh]: (x0, x1) -> (x0 c - x1 s, x1 c + x0 s) per pair. */
  applyRope(x: string): string {
    const g = this.g;
    if (!this.rope) throw new Error('RoPE tables not declared');
    const { cos, sin } = this.rope;
    const pairs = g.op('Reshape', [x, g.i64([0, 0, 0, this.dh / 2, 2])]);
    const [x0, x1] = g.opN('Split', [pairs, g.i64([1, 1])], 2, { axis: attr.int(4) });
    const y0 = g.op('Sub', [g.op('Mul', [x0!, cos]), g.op('Mul', [x1!, sin])]);
    const y1 = g.op('Add', [g.op('Mul', [x1!, cos]), g.op('Mul', [x0!, sin])]);
    return g.op('Reshape', [g.op('Concat', [y0, y1], { axis: attr.int(4) }), g.i64([0, 0, 0, this.dh])]);
  }

  heads(x: string): string {
    return this.g.op('Reshape', [x, this.g.i64([0, 0, this.p.cfg.heads, this.dh])]);
  }

  flat(x: string): string {
    return this.g.op('Reshape', [x, this.g.i64([0, 0, this.D])]);
  }

  /** The timestep [B] (1000 sigma, as diffusers' forward multiplies it) -> temb [B, D]. */
  timeEmbed(t: string): string {
    const g = this.g;
    return g.scope('time_embed', () => {
      const feats = emitTimestepFeatures(g, t, this.p.timeFreqs);
      return this.fragileLinear(emitSilu(g, this.fragileLinear(feats, this.p.time1, 'linear_1')), this.p.time2, 'linear_2');
    });
  }

  /** linear(SiLU(temb)) [B, n D] as n chunks [B, 1, D]. */
  modulation(siluTemb: string, lin: Linear, name: string): string[] {
    const g = this.g;
    const n = lin.outF / this.D;
    const mod = g.op('Unsqueeze', [this.fragileLinear(siluTemb, lin, name), g.i64([1])]);
    return g.opN('Split', [mod, g.i64(new Array<number>(n).fill(this.D))], n, { axis: attr.int(-1) });
  }

  /** LayerNorm(x) (no affine) * (1 + scale) + shift. */
  modulate(x: string, shift: string, scale: string): string {
    const g = this.g;
    return g.op('Add', [g.op('Mul', [emitLayerNorm(g, x, this.D), g.op('Add', [scale, g.constF32([1])])]), shift]);
  }

  /** q, k (per-head RMSNorm, RoPE applied later) and v as [B, S, H, dh]. */
  qkv(x: string, a: Flux2Qkv): { q: string; k: string; v: string } {
    const g = this.g;
    return {
      q: emitRmsNorm(g, this.heads(this.linear(x, a.q, 'to_q')), g.f32('norm_q', [this.dh], a.qNorm)),
      k: emitRmsNorm(g, this.heads(this.linear(x, a.k, 'to_k')), g.f32('norm_k', [this.dh], a.kNorm)),
      v: this.heads(this.linear(x, a.v, 'to_v')),
    };
  }

  swiglu(x: string, inLin: Linear, outLin: Linear): string {
    const g = this.g;
    const h = this.linear(x, inLin, 'linear_in');
    const [gate, up] = g.opN('Split', [h, g.i64([inLin.outF / 2, inLin.outF / 2])], 2, { axis: attr.int(-1) });
    return this.linear(g.op('Mul', [emitSilu(g, gate!), up!]), outLin, 'linear_out');
  }

  /**
   * softmax(q k^T / sqrt(dh) + bias) v over q [B, S, H, dh] (RoPE applied) and keys/values
   * [B, L, H, dh], with extra key/value columns (cached references [B, R, D]) appended after them,
   * as the attention plan's columns are ([text; image; references]); RoPE is already in the cached
   * keys.
   */
  attend(q: string, k: string, v: string, extra: { k: string; v: string } | null, bias: BiasRows | null): string {
    const g = this.g;
    let kf = this.flat(k);
    let vf = this.flat(v);
    if (extra) {
      kf = g.op('Concat', [kf, extra.k], { axis: attr.int(1) });
      vf = g.op('Concat', [vf, extra.v], { axis: attr.int(1) });
    }
    return emitAttention(g, this.flat(q), kf, vf, bias, this.p.cfg.heads, this.D, this.impl, this.pieces);
  }

  /** One double block on the image stream x [B, N, D] and the text stream c [B, T, D]. */
  doubleBlock(l: number, x: string, c: string, mi: string[], mt: string[], refKv: { k: string; v: string } | null, bias: BiasRows | null): { x: string; c: string } {
    const g = this.g;
    const blk = this.p.double[l]!;
    return g.scope(`double${l}`, () => {
      const img = g.scope('image', () => this.qkv(this.modulate(x, mi[0]!, mi[1]!), blk.image));
      const txt = g.scope('text', () => this.qkv(this.modulate(c, mt[0]!, mt[1]!), blk.text));
      const q = this.applyRope(g.op('Concat', [txt.q, img.q], { axis: attr.int(1) }));
      const k = this.applyRope(g.op('Concat', [txt.k, img.k], { axis: attr.int(1) }));
      const v = g.op('Concat', [txt.v, img.v], { axis: attr.int(1) });
      const out = this.attend(q, k, v, refKv, bias);
      const T = dimOf(g, c, 1);
      const outText = sliceAxis(g, out, g.i64([0]), T, 1);
      const outImage = sliceAxis(g, out, T, g.i64([Number.MAX_SAFE_INTEGER]), 1);
      const stream = (h: string, attnOut: string, m: string[], s: Flux2Stream, name: string) =>
        g.scope(name, () => {
          const h1 = g.op('Add', [h, g.op('Mul', [m[2]!, this.linear(attnOut, s.o, 'to_out')])]);
          return g.op('Add', [h1, g.op('Mul', [m[5]!, this.swiglu(this.modulate(h1, m[3]!, m[4]!), s.ffIn, s.ffOut)])]);
        });
      return { x: stream(x, outImage, mi, blk.image, 'image'), c: stream(c, outText, mt, blk.text, 'text') };
    });
  }

  /**
   * One single block on h [B, S, D]; also gives its keys (RoPE applied) and values [B, S, D].
   * `kvOnly`: stop at the keys and values (the reference pass's last layer: nothing reads its
   * attention or MLP), h is returned as it came.
   */
  singleBlock(l: number, h: string, ms: string[], refKv: { k: string; v: string } | null, bias: BiasRows | null, kvOnly = false): { h: string; kv: { k: string; v: string } } {
    const g = this.g;
    const blk = this.p.single[l]!;
    const { D } = this;
    const M = this.p.cfg.mlpHidden;
    return g.scope(`single${l}`, () => {
      const proj = this.linear(this.modulate(h, ms[0]!, ms[1]!), blk.qkvMlp, 'to_qkv_mlp_proj');
      const [q, k, v, gate, up] = g.opN('Split', [proj, g.i64([D, D, D, M, M])], 5, { axis: attr.int(-1) });
      const qh = this.applyRope(emitRmsNorm(g, this.heads(q!), g.f32('norm_q', [this.dh], blk.qNorm)));
      const kh = this.applyRope(emitRmsNorm(g, this.heads(k!), g.f32('norm_k', [this.dh], blk.kNorm)));
      const vh = this.heads(v!);
      const kv = { k: this.flat(kh), v: this.flat(vh) };
      if (kvOnly) return { h, kv };
      const att = this.attend(qh, kh, vh, refKv, bias);
      const mlp = g.op('Mul', [emitSilu(g, gate!), up!]);
      const out = this.linear(g.op('Concat', [att, mlp], { axis: attr.int(-1) }), blk.out, 'to_out');
      return { h: g.op('Add', [h, g.op('Mul', [ms[2]!, out])]), kv };
    });
  }

  /** Layer l's cached reference K/V for every branch [B, R, D], from the sets [layers, sets, R, D] (one layer's copy at a time). */
  cachedLayer(refK: string, refV: string, refSet: string, l: number): { k: string; v: string } {
    const g = this.g;
    const pick = (x: string) => g.op('Gather', [g.op('Gather', [x, g.i64([l], [])], { axis: attr.int(0) }), refSet], { axis: attr.int(0) });
    return { k: pick(refK), v: pick(refV) };
  }
}

/**
 * One step, cached or full reference mode, in the studio's step contract (file comment). Inputs:
 * `latents` [B, C, h, w]; `timestep` [B] (1000 sigma); `text_embeddings` [text sets, T, J] and
 * `text_set` [B]; `ref_set` [B]; cached: `ref_k` / `ref_v` [layers, ref sets, R, D] from
 * flux2_reference; full: `ref_latents` [ref sets, refs, C, rh, rw] (references after the noisy
 * tokens, at the step's timestep, as klein 4B was trained); `attention_bias` [B, 1, rows, cols] and
 * `ref_layer_bias` [layers, B, R]; `rope_cos` / `rope_sin` [rows, dh / 2] for [text; image (; the
 * references)]. Output `velocity` [B, C, h, w].
 */
export function buildFlux2Step(p: Flux2Params, prec: PrecisionSpec, impl: AttentionImpl, mode: 'cached' | 'full', pieces: AttentionPieces = WHOLE_ATTENTION): IrGraph {
  const e = new Flux2Emitter(p, prec, impl, pieces, mode === 'full' ? 'dit_step_full' : 'dit_step');
  const { g } = e;
  const { cfg } = p;
  const L = kvLayersOf(cfg);
  const latents = g.input('latents', 'float32', ['batch', cfg.channels, 'latent_height', 'latent_width']);
  const timestep = g.input('timestep', 'float32', ['batch']);
  const byBranch = (sets: string, index: string) => g.op('Gather', [sets, index], { axis: attr.int(0) });
  const textSet = g.input('text_set', 'int64', ['batch']);
  const text = byBranch(g.input('text_embeddings', 'float32', ['text_sets', 'text_tokens', cfg.jointDim]), textSet);
  const refSet = g.input('ref_set', 'int64', ['batch']);
  const refK = mode === 'cached' ? g.input('ref_k', 'float32', [L, 'ref_sets', 'ref_tokens', cfg.dim]) : '';
  const refV = mode === 'cached' ? g.input('ref_v', 'float32', [L, 'ref_sets', 'ref_tokens', cfg.dim]) : '';
  const refLatents = mode === 'full' ? byBranch(g.input('ref_latents', 'float32', ['ref_sets', 'refs', cfg.channels, 'ref_height', 'ref_width']), refSet) : '';
  const bias = g.input('attention_bias', 'float32', ['batch', 1, 'query_tokens', 'key_tokens']);
  const refLayerBias = g.input('ref_layer_bias', 'float32', [L, 'batch', 'ref_tokens']);
  e.ropeInputs('step');

  const siluTemb = emitSilu(g, e.timeEmbed(timestep));
  const mi = e.modulation(siluTemb, p.modImage, 'double_stream_modulation_img');
  const mt = e.modulation(siluTemb, p.modText, 'double_stream_modulation_txt');
  const ms = e.modulation(siluTemb, p.modSingle, 'single_stream_modulation');

  const image = e.gridTokens(latents);
  // Full mode: every reference's grid as tokens, the references one after another: [B, R, C].
  const refTokens = mode === 'full' ? g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [refLatents, g.i64([0, 0, cfg.channels, -1])])], { perm: attr.ints([0, 1, 3, 2]) }), g.i64([0, -1, cfg.channels])]) : '';
  const T = dimOf(g, text, 1);
  const TN = g.op('Add', [T, dimOf(g, image, 1)]);
  const rowMask = mode === 'full' ? textImageRowMask(g, TN, g.op('Sub', [dimOf(g, bias, 2), TN])) : null;
  const biasOf = (l: number) => layerBias(g, bias, refLayerBias, l, TN, rowMask);
  const cached = (l: number) => (mode === 'cached' ? e.cachedLayer(refK, refV, refSet, l) : null);

  let x = e.fragileLinear(mode === 'full' ? g.op('Concat', [image, refTokens], { axis: attr.int(1) }) : image, p.xEmbed, 'x_embedder');
  let c = e.fragileLinear(text, p.context, 'context_embedder');
  for (let l = 0; l < cfg.doubleLayers; l++) ({ x, c } = e.doubleBlock(l, x, c, mi, mt, cached(l), biasOf(l)));
  let h = g.op('Concat', [c, x], { axis: attr.int(1) });
  for (let l = 0; l < cfg.singleLayers; l++) ({ h } = e.singleBlock(l, h, ms, cached(cfg.doubleLayers + l), biasOf(cfg.doubleLayers + l)));

  // The noisy tokens' rows: after the text, before any references.
  const out = sliceAxis(g, h, T, TN, 1);
  const [scale, shift] = e.modulation(siluTemb, p.normOut, 'norm_out');
  const tokens = e.fragileLinear(e.modulate(out, shift!, scale!), p.projOut, 'proj_out');
  const velocity = g.op('Reshape', [g.op('Transpose', [tokens], { perm: attr.ints([0, 2, 1]) }), g.op('Shape', [latents])]);
  g.output(velocity, 'velocity', 'float32', ['batch', cfg.channels, 'latent_height', 'latent_width']);
  return g.build();
}

/**
 * The reference pass of cached mode: `ref_latents` [B, C, h, w] (B references, each its own grid
 * of the same size) and `ref_rope_cos` / `ref_rope_sin` [B, R, dh / 2] (each reference on its own
 * time coordinate), modulated at the fixed timestep 0 and attending only to themselves, give every
 * layer's keys (after norm and RoPE) and values, `ref_k` / `ref_v` [layers, B, R, D]. The text
 * never reaches them, so one pass serves every prompt and every step.
 */
export function buildFlux2Reference(p: Flux2Params, prec: PrecisionSpec, impl: AttentionImpl, pieces: AttentionPieces = WHOLE_ATTENTION): IrGraph {
  const e = new Flux2Emitter(p, prec, impl, pieces, 'dit_reference');
  const { g } = e;
  const { cfg } = p;
  const refLatents = g.input('ref_latents', 'float32', ['batch', cfg.channels, 'latent_height', 'latent_width']);
  e.ropeInputs('reference');
  const siluTemb = emitSilu(g, e.timeEmbed(g.constF32([0])));
  const mi = e.modulation(siluTemb, p.modImage, 'double_stream_modulation_img');
  const ms = e.modulation(siluTemb, p.modSingle, 'single_stream_modulation');

  const ks: string[] = [];
  const vs: string[] = [];
  let x = e.fragileLinear(e.gridTokens(refLatents), p.xEmbed, 'x_embedder');
  for (let l = 0; l < cfg.doubleLayers; l++) {
    const blk = p.double[l]!;
    x = g.scope(`double${l}`, () =>
      g.scope('image', () => {
        const a = e.qkv(e.modulate(x, mi[0]!, mi[1]!), blk.image);
        const q = e.applyRope(a.q);
        const k = e.applyRope(a.k);
        ks.push(e.flat(k));
        vs.push(e.flat(a.v));
        const h1 = g.op('Add', [x, g.op('Mul', [mi[2]!, e.linear(e.attend(q, k, a.v, null, null), blk.image.o, 'to_out')])]);
        return g.op('Add', [h1, g.op('Mul', [mi[5]!, e.swiglu(e.modulate(h1, mi[3]!, mi[4]!), blk.image.ffIn, blk.image.ffOut)])]);
      }),
    );
  }
  let h = x;
  for (let l = 0; l < cfg.singleLayers; l++) {
    const r = e.singleBlock(l, h, ms, null, null, l === cfg.singleLayers - 1);
    ks.push(r.kv.k);
    vs.push(r.kv.v);
    h = r.h;
  }
  const stack = (xs: string[]) => g.op('Concat', xs.map((t) => g.op('Unsqueeze', [t, g.i64([0])])), { axis: attr.int(0) });
  g.output(stack(ks), 'ref_k', 'float32', kvShape(cfg));
  g.output(stack(vs), 'ref_v', 'float32', kvShape(cfg));
  return g.build();
}
