/**
 * An SD3-style MM-DiT with reference tokens (METHOD.md sections 1-2): text and
 * image streams with their own weights, adaLN-zero modulation from timestep +
 * pooled text, one joint attention over [text; image; references] per block.
 * References ride the image stream's weights at timestep 0 with their own
 * pooled prompt, and sit one image width to the right in the positional table.
 *
 * Three graphs share these weights:
 * - reference: a reference image alone -> every layer's K and V (cached mode);
 * - step: one denoising step with cached reference K/V as extra keys/values;
 * - full: one step with the references as live tokens (queries too).
 *
 * The same emitter expresses Stable Diffusion 3 and 3.5 Medium exactly
 * (workers/convert/sd3/transformer.ts loads them). What they add, each absent
 * in the toy model (whose graphs stay as they were):
 * - a last text block that only feeds the joint attention its keys and values
 *   (diffusers' context_pre_only): a QkvParams stream, 2 modulation chunks;
 * - SD3's centred positional table (DitConfig.centredPositions);
 * - SD3.5's qk_norm: per-head RMSNorm on q and k (QkvParams.qNorm, kNorm);
 * - SD3.5's dual attention blocks: a second, image-only self-attention
 *   (StreamParams.attn2, with 9 modulation chunks). It runs over the image
 *   tokens, and over each reference's own tokens (reference pass, full mode).
 */
import { attr, GraphBuilder, type IrGraph } from '../ir';
import { fuseStored, isCompacted, storeOnce, type LinearPrecision } from '../stored-linear';
import { dimOf, emitAttention, emitConv, emitGelu, emitLayerNorm, emitLinear, emitRmsNorm, emitSilu, emitTimestepFeatures, sliceAxis, type AttentionImpl, type AttentionPieces, type PrecisionSpec } from '../nn';
import { layerBias, textImageRowMask } from './reference-bias';
import { conv2d, linear, uniform, type Conv2d, type Linear, type Rng } from '../params';

/** A grid of patches. */
export interface Grid {
  height: number;
  width: number;
}

/**
 * SD3's positional table (diffusers' PatchEmbed with pos_embed_max_size): a
 * square table of `size` x `size` patches, cropped centred on the image
 * (top = (size - h) // 2, left = (size - w) // 2, tokens row-major).
 * References read the crop one image width to the right (columns left + w ..
 * left + 2w), which must still be inside the table. DitParams.pos holds only
 * the window `stored` of the table (rows x cols x D, row-major), so that a pack
 * ships the part its resolutions read (centredWindow), not SD3.5's whole
 * 384 x 384 x 1536 table (576 MB in fp32).
 */
export interface CentredPositions {
  size: number;
  /** In patches of the whole table. */
  stored: { top: number; left: number; rows: number; cols: number };
}

export interface DitConfig {
  latentChannels: number;
  patchSize: number;
  dim: number;
  heads: number;
  layers: number;
  mlpHidden: number;
  textDim: number;
  pooledDim: number;
  /** Sinusoidal timestep features (cos and sin halves). */
  timeFreqDim: number;
  /**
   * The largest image grid. The toy's positional table is maxGrid.height rows
   * x 2*maxGrid.width columns of patches, read from the origin (references from
   * column w) unless centredPositions is set.
   */
  maxGrid: Grid;
  centredPositions?: CentredPositions;
}

/** What a stream computes before the joint attention: its modulation and q, k, v. */
export interface QkvParams {
  /**
   * adaLN: 6 chunks (shift, scale, gate of the attention, then of the MLP), 9
   * with attn2 (then shift, scale, gate of attn2), or 2 (shift, scale) in a
   * stream whose attention output is never read (SD3's last text block).
   */
  mod: Linear;
  q: Linear;
  k: Linear;
  v: Linear;
  /** SD3.5's qk_norm: RMSNorm weights [head dim] applied to every head of q and of k. */
  qNorm?: Float32Array;
  kNorm?: Float32Array;
}

/** SD3.5's attn2: a self-attention of the image stream alone. */
export interface SelfAttentionParams {
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
  qNorm?: Float32Array;
  kNorm?: Float32Array;
}

export interface StreamParams extends QkvParams {
  o: Linear;
  mlp1: Linear;
  mlp2: Linear;
  attn2?: SelfAttentionParams;
}

/**
 * The DiT's weights. `Text` is StreamParams for the toy model; SD3's last text
 * block is only a QkvParams (DitParams<QkvParams>), the builders take either.
 */
export interface DitParams<Text extends QkvParams = StreamParams> {
  cfg: DitConfig;
  patch: Conv2d;
  pos: Float32Array;
  timeFreqs: Float32Array;
  time1: Linear;
  time2: Linear;
  pooled1: Linear;
  pooled2: Linear;
  context: Linear;
  blocks: { text: Text; image: StreamParams }[];
  /** Chunks shift, scale. */
  finalMod: Linear;
  /** Output column c*p*p + a*p + b is channel c, row a, column b of the patch (DepthToSpace CRD). */
  finalOut: Linear;
}

function stream(r: Rng, cfg: DitConfig): StreamParams {
  const D = cfg.dim;
  return {
    mod: linear(r.fork('mod'), D, 6 * D, 0.5),
    q: linear(r.fork('q'), D, D),
    k: linear(r.fork('k'), D, D),
    v: linear(r.fork('v'), D, D),
    o: linear(r.fork('o'), D, D),
    mlp1: linear(r.fork('mlp1'), D, cfg.mlpHidden),
    mlp2: linear(r.fork('mlp2'), cfg.mlpHidden, D),
  };
}

export function timeFrequencies(freqDim: number): Float32Array {
  const half = freqDim / 2;
  return Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
}

export function makeDitParams(rng: Rng, cfg: DitConfig): DitParams {
  const r = rng.fork('dit');
  const D = cfg.dim;
  const p = cfg.patchSize;
  return {
    cfg,
    patch: conv2d(r.fork('patch'), cfg.latentChannels, D, p, p, 0),
    pos: uniform(r.fork('pos'), cfg.maxGrid.height * 2 * cfg.maxGrid.width * D, 0.5),
    timeFreqs: timeFrequencies(cfg.timeFreqDim),
    time1: linear(r.fork('time1'), cfg.timeFreqDim, D),
    time2: linear(r.fork('time2'), D, D),
    pooled1: linear(r.fork('pooled1'), cfg.pooledDim, D),
    pooled2: linear(r.fork('pooled2'), D, D),
    context: linear(r.fork('context'), cfg.textDim, D),
    blocks: Array.from({ length: cfg.layers }, (_, l) => ({ text: stream(r.fork(`block${l}.text`), cfg), image: stream(r.fork(`block${l}.image`), cfg) })),
    finalMod: linear(r.fork('final_mod'), D, 2 * D, 0.5),
    finalOut: linear(r.fork('final_out'), D, p * p * cfg.latentChannels),
  };
}

/**
 * Where the tokens of an image of `grid` patches (or of a reference beside it)
 * read the centred table: the crop's top-left corner in patches of the whole
 * table. Throws when the crop leaves the table or the stored window (the graph
 * cannot say why; there the position Add fails on mismatched token counts).
 */
export function centredCrop(pos: CentredPositions, grid: Grid, reference: boolean): { top: number; left: number } {
  const top = Math.floor((pos.size - grid.height) / 2);
  const left = Math.floor((pos.size - grid.width) / 2) + (reference ? grid.width : 0);
  const rows = `rows ${top}..${top + grid.height - 1}, columns ${left}..${left + grid.width - 1}`;
  const what = `${reference ? 'a reference beside ' : ''}an image of ${grid.height}x${grid.width} patches reads ${rows}`;
  if (top < 0 || left < 0 || left + grid.width > pos.size) {
    throw new Error(`${what}: outside the ${pos.size}x${pos.size} positional table${reference ? ' (references sit one image width to the right of the centred crop)' : ''}`);
  }
  const s = pos.stored;
  if (top < s.top || left < s.left || top + grid.height > s.top + s.rows || left + grid.width > s.left + s.cols) {
    throw new Error(`${what}: outside the stored window of the positional table (rows ${s.top}..${s.top + s.rows - 1}, columns ${s.left}..${s.left + s.cols - 1})`);
  }
  return { top, left };
}

/**
 * The window of a size x size centred table that every image grid up to
 * `maxGrid` and its references read: maxGrid's own crop with its reference's
 * columns. A smaller grid's crops lie inside it (floor((size + h) / 2), the
 * bottom row, and floor((size + 3w) / 2), the reference's right edge, grow
 * with h and w). Throws when maxGrid's reference does not fit the table.
 */
export function centredWindow(size: number, maxGrid: Grid): CentredPositions['stored'] {
  const whole = { size, stored: { top: 0, left: 0, rows: size, cols: size } };
  const { top, left } = centredCrop(whole, maxGrid, false);
  centredCrop(whole, maxGrid, true);
  return { top, left, rows: maxGrid.height, cols: 2 * maxGrid.width };
}

const modChunks = (s: QkvParams, D: number) => s.mod.outF / D;

function isStream(s: QkvParams): s is StreamParams {
  return 'o' in s && 'mlp1' in s && 'mlp2' in s;
}

/** Throws on a weight set the emitter would build a wrong graph from. */
function checkParams(p: DitParams<QkvParams>): void {
  const { cfg } = p;
  const D = cfg.dim;
  const dh = D / cfg.heads;
  if (p.blocks.length !== cfg.layers) throw new Error(`${p.blocks.length} blocks for ${cfg.layers} layers`);
  const cp = cfg.centredPositions;
  const posLength = cp ? cp.stored.rows * cp.stored.cols * D : cfg.maxGrid.height * 2 * cfg.maxGrid.width * D;
  if (p.pos.length !== posLength) throw new Error(`positional table of ${p.pos.length} values, expected ${posLength}`);
  const checkNorms = (where: string, s: { qNorm?: Float32Array; kNorm?: Float32Array }) => {
    for (const w of [s.qNorm, s.kNorm]) if (w && w.length !== dh) throw new Error(`${where}: q/k norm of ${w.length} values for heads of ${dh}`);
  };
  p.blocks.forEach((b, l) => {
    const last = l === p.blocks.length - 1;
    const textChunks = modChunks(b.text, D);
    if (!(textChunks === 6 || (last && textChunks === 2))) throw new Error(`block ${l} text: ${textChunks} modulation chunks (6, or 2 in the last block)`);
    if (!last && !isStream(b.text)) throw new Error(`block ${l} text: only the last block may lack the attention output and MLP`);
    if (isStream(b.text) && b.text.attn2) throw new Error(`block ${l} text: attn2 is for the image stream`);
    const imageChunks = modChunks(b.image, D);
    if (imageChunks !== (b.image.attn2 ? 9 : 6)) throw new Error(`block ${l} image: ${imageChunks} modulation chunks, expected ${b.image.attn2 ? 9 : 6}`);
    checkNorms(`block ${l} text`, b.text);
    checkNorms(`block ${l} image`, b.image);
    if (b.image.attn2) checkNorms(`block ${l} attn2`, b.image.attn2);
  });
}

/** A stream's modulation chunks, its LayerNorm'd input (before modulation), q, k, v. */
interface QkvOut {
  m: string[];
  normed: string;
  q: string;
  k: string;
  v: string;
}

/** Emits the DiT's graphs; one instance per graph. */
class DitEmitter {
  readonly g: GraphBuilder;
  readonly D: number;
  constructor(
    readonly p: DitParams<QkvParams>,
    readonly prec: PrecisionSpec,
    readonly impl: AttentionImpl,
    readonly pieces: AttentionPieces,
    name: string,
  ) {
    checkParams(p);
    this.g = new GraphBuilder(name);
    this.D = p.cfg.dim;
  }

  linear(x: string, lin: Linear, name: string): string {
    return emitLinear(this.g, x, lin, this.prec, name);
  }

  /** Timestep [X] -> [X, D]. */
  timeEmbed(t: string): string {
    const g = this.g;
    return g.scope('time_embed', () => {
      const feats = emitTimestepFeatures(g, t, this.p.timeFreqs);
      return this.linear(emitSilu(g, this.linear(feats, this.p.time1, 'linear1')), this.p.time2, 'linear2');
    });
  }

  /** Pooled [..., pooledDim] -> [..., D]. */
  pooledEmbed(pooled: string): string {
    return this.g.scope('pooled_embed', () => this.linear(emitSilu(this.g, this.linear(pooled, this.p.pooled1, 'linear1')), this.p.pooled2, 'linear2'));
  }

  /** Latents [X, C, H, W] -> patch tokens [X, N, D] with positions (image columns, or shifted one width right for references). */
  tokens(latents: string, reference: boolean): string {
    const g = this.g;
    const { D } = this;
    return g.scope(reference ? 'ref_embed' : 'image_embed', () => {
      const conv = emitConv(g, latents, this.p.patch, this.prec, 'patch');
      const seq = g.op('Transpose', [g.op('Reshape', [conv, g.i64([0, D, -1])])], { perm: attr.ints([0, 2, 1]) });
      const ps = this.p.cfg.patchSize;
      const grid = g.op('Div', [sliceAxis(g, g.op('Shape', [latents]), g.i64([2]), g.i64([4]), 0), g.i64([ps, ps])]);
      const cp = this.p.cfg.centredPositions;
      const crop = cp ? this.centredPositions(cp, grid, reference) : this.originPositions(grid, reference);
      const pos = g.op('Reshape', [crop, g.i64([1, -1, D])]);
      return g.op('Add', [seq, pos]);
    });
  }

  /** The toy's [H, 2W] table read from the origin: grid [2] int64 -> [h, w, D]. */
  originPositions(grid: string, reference: boolean): string {
    const g = this.g;
    const gw = sliceAxis(g, grid, g.i64([1]), g.i64([2]), 0);
    const starts = reference ? g.op('Concat', [g.i64([0]), gw], { axis: attr.int(0) }) : g.i64([0, 0]);
    const ends = reference ? g.op('Mul', [grid, g.i64([1, 2])]) : grid;
    const table = g.f32('pos_table', [this.p.cfg.maxGrid.height, 2 * this.p.cfg.maxGrid.width, this.D], this.p.pos);
    return g.op('Slice', [table, starts, ends, g.i64([0, 1])]);
  }

  /** SD3's centred crop (centredCrop) of the stored window: grid [2] int64 -> [h, w, D]. */
  centredPositions(cp: CentredPositions, grid: string, reference: boolean): string {
    const g = this.g;
    const { size, stored } = cp;
    let start = g.op('Sub', [g.op('Div', [g.op('Sub', [g.i64([size, size]), grid]), g.i64([2, 2])]), g.i64([stored.top, stored.left])]);
    if (reference) start = g.op('Add', [start, g.op('Concat', [g.i64([0]), sliceAxis(g, grid, g.i64([1]), g.i64([2]), 0)], { axis: attr.int(0) })]);
    const end = g.op('Add', [start, grid]);
    // Slice reads a negative start from the end: clamped, a crop outside the window comes out short instead of wrong.
    const clamped = g.op('Max', [start, g.i64([0, 0])]);
    const table = g.f32('pos_table', [stored.rows, stored.cols, this.D], this.p.pos);
    return g.op('Slice', [table, clamped, end, g.i64([0, 1])]);
  }

  /** The n chunks of a modulation [..., n*D] as [..., 1, D] each (one Unsqueeze and one Split). */
  chunks(mod: string, n: number, leadingDims: number): string[] {
    const g = this.g;
    const row = g.op('Unsqueeze', [mod, g.i64([leadingDims])]);
    return g.opN('Split', [row, g.i64(new Array<number>(n).fill(this.D))], n, { axis: attr.int(-1) });
  }

  modulate(x: string, shift: string, scale: string): string {
    return this.scaleShift(emitLayerNorm(this.g, x, this.D), shift, scale);
  }

  /** normed * (1 + scale) + shift. */
  scaleShift(normed: string, shift: string, scale: string): string {
    const g = this.g;
    return g.op('Add', [g.op('Mul', [normed, g.op('Add', [scale, g.constF32([1])])]), shift]);
  }

  gated(x: string, gate: string, y: string): string {
    return this.g.op('Add', [x, this.g.op('Mul', [gate, y])]);
  }

  mlp(x: string, s: StreamParams): string {
    return this.linear(emitGelu(this.g, this.linear(x, s.mlp1, 'mlp1')), s.mlp2, 'mlp2');
  }

  /** RMSNorm of every head of x [..., D] (SD3.5's qk_norm); x itself without a weight. */
  headNorm(x: string, weight: Float32Array | undefined, name: string): string {
    if (!weight) return x;
    const g = this.g;
    return g.scope(name, () => {
      const heads = g.op('Reshape', [x, g.i64([-1, weight.length])]);
      // GraphBuilder.f32 stores the weight once per graph, however many streams' tokens it normalizes.
      return g.op('Reshape', [emitRmsNorm(g, heads, g.f32('weight', [weight.length], weight)), g.op('Shape', [x])]);
    });
  }

  /** q, k, v of x from one fused projection, then the q/k norms. */
  projectQkv(x: string, s: QkvParams | SelfAttentionParams): { q: string; k: string; v: string } {
    const fusedOut = this.linear(x, fuseColumns([s.q, s.k, s.v], this.prec), 'qkv');
    const [q, k, v] = this.g.opN('Split', [fusedOut, this.g.i64([this.D, this.D, this.D])], 3, { axis: attr.int(-1) });
    return { q: this.headNorm(q!, s.qNorm, 'norm_q'), k: this.headNorm(k!, s.kNorm, 'norm_k'), v: v! };
  }

  /** Modulation chunks, the normed input, q, k, v of a stream's tokens. */
  qkv(x: string, s: QkvParams, condSilu: string, leadingDims: number): QkvOut {
    const m = this.chunks(this.linear(condSilu, s.mod, 'mod'), modChunks(s, this.D), leadingDims);
    const normed = emitLayerNorm(this.g, x, this.D);
    return { m, normed, ...this.projectQkv(this.scaleShift(normed, m[0]!, m[1]!), s) };
  }

  /**
   * SD3.5's attn2 output (before its gate) for a stream with dual attention,
   * null otherwise: self-attention of the block input's LayerNorm modulated by
   * shift_msa2, scale_msa2. `perReference`: x is [B, K, R, D] (full mode's
   * references), attended per reference.
   */
  dualAttention(s: StreamParams, x: QkvOut, perReference: boolean): string | null {
    const a = s.attn2;
    if (!a) return null;
    const g = this.g;
    const { D } = this;
    return g.scope('attn2', () => {
      const input = this.scaleShift(x.normed, x.m[6]!, x.m[7]!);
      const seqs = perReference ? g.op('Reshape', [input, g.op('Concat', [g.i64([-1]), dimOf(g, input, 2), g.i64([D])], { axis: attr.int(0) })]) : input;
      const { q, k, v } = this.projectQkv(seqs, a);
      const o = this.linear(emitAttention(g, q, k, v, null, this.p.cfg.heads, D, this.impl, this.pieces), a.o, 'o');
      return perReference ? g.op('Reshape', [o, g.op('Shape', [input])]) : o;
    });
  }

  /** Attention output rows for a stream -> gated residual (+ gated attn2) + gated MLP. */
  finish(x: string, attnOut: string, s: StreamParams, m: string[], attn2Out: string | null): string {
    let h = this.gated(x, m[2]!, this.linear(attnOut, s.o, 'o'));
    if (attn2Out) h = this.gated(h, m[8]!, attn2Out);
    return this.gated(h, m[5]!, this.mlp(this.modulate(h, m[3]!, m[4]!), s));
  }

  /** Block l's text stream where its attention output is read (every block but the last). */
  textStream(l: number): StreamParams {
    const s = this.p.blocks[l]!.text;
    if (!isStream(s)) throw new Error(`block ${l} text has no attention output or MLP`);
    return s;
  }

  /** Final adaLN + projection + unpatchify of image tokens [B, N, D] -> [B, C, H, W]. */
  unpatchify(img: string, condSilu: string, latents: string): string {
    const g = this.g;
    const { cfg } = this.p;
    return g.scope('final', () => {
      const [shift, scale] = this.chunks(this.linear(condSilu, this.p.finalMod, 'mod'), 2, 1);
      const out = this.linear(this.modulate(img, shift!, scale!), this.p.finalOut, 'out');
      const ps = cfg.patchSize;
      const grid = g.op('Div', [sliceAxis(g, g.op('Shape', [latents]), g.i64([2]), g.i64([4]), 0), g.i64([ps, ps])]);
      const shape = g.op('Concat', [g.i64([0, ps * ps * cfg.latentChannels]), grid], { axis: attr.int(0) });
      const planes = g.op('Reshape', [g.op('Transpose', [out], { perm: attr.ints([0, 2, 1]) }), shape]);
      return g.op('DepthToSpace', [planes], { blocksize: attr.int(ps), mode: attr.string('CRD') });
    });
  }

  concat1(xs: string[]): string {
    return this.g.op('Concat', xs, { axis: attr.int(1) });
  }
}

const fused = new WeakMap<Linear, { parts: Linear[]; lin: Linear }>();

/**
 * Linears with the same input, concatenated along the output axis. Per-column
 * int8 scales and per-column int4 blocks quantize a fused matrix exactly like
 * its parts, so the reference forward can keep them separate, and parts a
 * converter already compacted fuse from their stored forms at `prec`.
 */
export function fuseColumns(parts: Linear[], prec: LinearPrecision): Linear {
  const inF = parts[0]!.inF;
  if (parts.some((p) => p.inF !== inF)) throw new Error('fused linears need the same input size');
  const hit = fused.get(parts[0]!);
  let lin = hit && hit.parts.length === parts.length && hit.parts.every((p, i) => p === parts[i]) ? hit.lin : undefined;
  if (!lin) {
    const outF = parts.reduce((n, p) => n + p.outF, 0);
    // Parts without a bias (FLUX.2) fuse into a linear without one; a mix gets zeros for the missing.
    const b = parts.every((p) => p.b === null) ? null : new Float32Array(outF);
    let col = 0;
    for (const p of parts) {
      if (b && p.b) b.set(p.b, col);
      col += p.outF;
    }
    const fp32 = parts.some(isCompacted) ? null : fuseStored(parts, { matmul: 'fp32', blockSize: prec.blockSize });
    lin = { inF, outF, w: fp32?.kind === 'fp32' ? fp32.w : null, b };
    fused.set(parts[0]!, { parts, lin });
  }
  if (!lin.w) storeOnce(lin, prec, () => fuseStored(parts, prec));
  return lin;
}

const latentShape = (c: DitConfig) => ['batch', c.latentChannels, 'latent_height', 'latent_width'];

/** Cached-mode reference pass: ref_latents [B, C, h, w], ref_pooled [B, P] -> ref_k, ref_v [layers, B, R, D] (K after the q/k norm). */
export function buildDitReference(p: DitParams<QkvParams>, prec: PrecisionSpec, impl: AttentionImpl, pieces: AttentionPieces): IrGraph {
  const e = new DitEmitter(p, prec, impl, pieces, 'dit_reference');
  const { g, D } = e;
  const { cfg } = p;
  const latents = g.input('ref_latents', 'float32', latentShape(cfg));
  const pooled = g.input('ref_pooled', 'float32', ['batch', cfg.pooledDim]);
  const cond = emitSilu(g, g.op('Add', [e.timeEmbed(g.constF32([0])), e.pooledEmbed(pooled)]));
  let x = e.tokens(latents, true);
  const ks: string[] = [];
  const vs: string[] = [];
  p.blocks.forEach((b, l) =>
    g.scope(`block${l}`, () => {
      const s = e.qkv(x, b.image, cond, 1);
      ks.push(g.op('Unsqueeze', [s.k, g.i64([0])]));
      vs.push(g.op('Unsqueeze', [s.v, g.i64([0])]));
      if (l < p.blocks.length - 1) x = e.finish(x, emitAttention(g, s.q, s.k, s.v, null, cfg.heads, D, impl, pieces), b.image, s.m, e.dualAttention(b.image, s, false));
    }),
  );
  const kvShape = [cfg.layers, 'batch', 'ref_tokens', D];
  g.output(ks.length > 1 ? g.op('Concat', ks, { axis: attr.int(0) }) : ks[0]!, 'ref_k', 'float32', kvShape);
  g.output(vs.length > 1 ? g.op('Concat', vs, { axis: attr.int(0) }) : vs[0]!, 'ref_v', 'float32', kvShape);
  return g.build();
}

/** One step, cached or full reference mode (see the file comment). */
export function buildDitStep(p: DitParams<QkvParams>, prec: PrecisionSpec, impl: AttentionImpl, mode: 'cached' | 'full', pieces: AttentionPieces): IrGraph {
  const e = new DitEmitter(p, prec, impl, pieces, mode === 'cached' ? 'dit_step' : 'dit_step_full');
  const { g, D } = e;
  const { cfg } = p;
  const latents = g.input('latents', 'float32', latentShape(cfg));
  const timestep = g.input('timestep', 'float32', ['batch']);
  // The guidance branches share their inputs: the text comes as distinct sets (uncond, cond) and
  // the references as sets (black, real), each held once; text_set and ref_set say which set each
  // branch reads. The Gathers make a branch's copy only where it is used (the references: one
  // layer's at a time), so the fed sets, which stay on the GPU from step to step, are never
  // duplicated per branch.
  const byBranch = (sets: string, index: string) => g.op('Gather', [sets, index], { axis: attr.int(0) });
  const textSet = g.input('text_set', 'int64', ['batch']);
  const text = byBranch(g.input('text_embeddings', 'float32', ['text_sets', 'text_tokens', cfg.textDim]), textSet);
  const pooled = byBranch(g.input('pooled', 'float32', ['text_sets', cfg.pooledDim]), textSet);
  const refSet = g.input('ref_set', 'int64', ['batch']);
  let refK = '';
  let refV = '';
  let refLatents = '';
  let refPooled = '';
  if (mode === 'cached') {
    refK = g.input('ref_k', 'float32', [cfg.layers, 'ref_sets', 'ref_tokens', D]);
    refV = g.input('ref_v', 'float32', [cfg.layers, 'ref_sets', 'ref_tokens', D]);
  } else {
    refLatents = byBranch(g.input('ref_latents', 'float32', ['ref_sets', 'refs', cfg.latentChannels, 'latent_height', 'latent_width']), refSet);
    refPooled = byBranch(g.input('ref_pooled', 'float32', ['ref_sets', 'refs', cfg.pooledDim]), refSet);
  }
  const bias = g.input('attention_bias', 'float32', mode === 'cached' ? ['batch', 1, 'query_tokens', 'key_tokens'] : ['batch', 1, 'all_tokens', 'all_tokens']);
  const refLayerBias = g.input('ref_layer_bias', 'float32', [cfg.layers, 'batch', 'ref_tokens']);

  const cond = emitSilu(g, g.op('Add', [e.timeEmbed(timestep), e.pooledEmbed(pooled)]));
  let img = e.tokens(latents, false);
  let txt = e.linear(text, p.context, 'context_embed');
  const M = dimOf(g, txt, 1);
  const MN = g.op('Add', [M, dimOf(g, img, 1)]);

  // Full mode: references as live tokens [B, K, Rimg, D] with per-reference conditioning [B, K, 1, D].
  let refs = '';
  let refCond = '';
  let refShape4 = '';
  if (mode === 'full') {
    const shp = g.op('Shape', [refLatents]);
    const flat = g.op('Reshape', [refLatents, g.op('Concat', [g.i64([-1]), sliceAxis(g, shp, g.i64([2]), g.i64([5]), 0)], { axis: attr.int(0) })]);
    refShape4 = g.op('Concat', [sliceAxis(g, shp, g.i64([0]), g.i64([2]), 0), g.i64([-1, D])], { axis: attr.int(0) });
    refs = g.op('Reshape', [e.tokens(flat, true), refShape4]);
    refCond = emitSilu(g, g.op('Add', [e.timeEmbed(g.constF32([0])), e.pooledEmbed(refPooled)]));
  }
  const rowMask = mode === 'full' ? textImageRowMask(g, MN, g.op('Sub', [dimOf(g, bias, 2), MN])) : null;
  const toSeq = (x4: string) => g.op('Reshape', [x4, g.i64([0, -1, D])]);

  p.blocks.forEach((b, l) =>
    g.scope(`block${l}`, () => {
      const t = g.scope('text', () => e.qkv(txt, b.text, cond, 1));
      const i = g.scope('image', () => e.qkv(img, b.image, cond, 1));
      const r = mode === 'full' ? g.scope('ref', () => e.qkv(refs, b.image, refCond, 2)) : null;
      // This layer's [sets, R, D], then each branch's set: [B, R, D].
      const layerK = (kv: string) => byBranch(g.op('Gather', [kv, g.i64([l], [])], { axis: attr.int(0) }), refSet);
      const q = e.concat1(r ? [t.q, i.q, toSeq(r.q)] : [t.q, i.q]);
      const k = e.concat1(r ? [t.k, i.k, toSeq(r.k)] : [t.k, i.k, layerK(refK)]);
      const v = e.concat1(r ? [t.v, i.v, toSeq(r.v)] : [t.v, i.v, layerK(refV)]);
      const o = emitAttention(g, q, k, v, layerBias(g, bias, refLayerBias, l, MN, rowMask), cfg.heads, D, impl, pieces);
      const oText = sliceAxis(g, o, g.i64([0]), M, 1); // unused after the last block
      const oImage = sliceAxis(g, o, M, MN, 1);
      // After the last block only the image tokens are read (SD3's context_pre_only): skip the rest.
      const last = l === p.blocks.length - 1;
      if (!last) txt = g.scope('text', () => e.finish(txt, oText, e.textStream(l), t.m, null));
      img = g.scope('image', () => e.finish(img, oImage, b.image, i.m, e.dualAttention(b.image, i, false)));
      if (r && !last) {
        const oRef = g.op('Reshape', [sliceAxis(g, o, MN, g.i64([Number.MAX_SAFE_INTEGER]), 1), refShape4]);
        refs = g.scope('ref', () => e.finish(refs, oRef, b.image, r.m, e.dualAttention(b.image, r, true)));
      }
    }),
  );
  g.output(e.unpatchify(img, cond, latents), 'velocity', 'float32', latentShape(cfg));
  return g.build();
}
