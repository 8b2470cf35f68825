/** Pure TypeScript forward of the DiT graphs, one batch item at a time. */
import type { DitParams, StreamParams } from '../models/dit';
import type { PrecisionSpec } from '../nn';
import type { Linear } from '../params';
import { add, attentionRef, concatRows, conv2dRef, gatedAdd, gelu, linearRef, modulateRef, rows, silu } from './ops';

export type RefInputs =
  | { kind: 'cached'; k: Float32Array[]; v: Float32Array[] }
  | { kind: 'full'; latents: Float32Array[]; pooled: Float32Array[] };

export interface DitStepRefInputs {
  /** [C, h, w]. */
  latent: Float32Array;
  h: number;
  w: number;
  timestep: number;
  /** [M, textDim]. */
  text: Float32Array;
  pooled: Float32Array;
  refs: RefInputs;
  /** [S, L] for this batch item. */
  bias: Float32Array;
  /** Per layer, [R]. */
  layerBias: Float32Array[];
}

function mlp2(p: PrecisionSpec, x: Float32Array, a: Linear, b: Linear): Float32Array {
  return linearRef(linearRef(x, a, p).map(silu), b, p);
}

export function conditionRef(P: DitParams, prec: PrecisionSpec, timestep: number, pooled: Float32Array): Float32Array {
  const f = P.timeFreqs;
  const feats = new Float32Array(2 * f.length);
  f.forEach((fi, i) => {
    const arg = Math.fround(timestep * fi);
    feats[i] = Math.cos(arg);
    feats[f.length + i] = Math.sin(arg);
  });
  return add(mlp2(prec, feats, P.time1, P.time2), mlp2(prec, pooled, P.pooled1, P.pooled2));
}

/** Latent [C, h, w] -> tokens [N, D] with image or reference positions. */
export function tokensRef(P: DitParams, prec: PrecisionSpec, latent: Float32Array, h: number, w: number, reference: boolean): Float32Array {
  const { dim: D, maxGrid } = P.cfg;
  const { y, H: gh, W: gw } = conv2dRef(latent, h, w, P.patch, prec);
  const out = new Float32Array(gh * gw * D);
  const tableW = 2 * maxGrid.width;
  for (let yy = 0; yy < gh; yy++)
    for (let xx = 0; xx < gw; xx++) {
      const n = yy * gw + xx;
      const col = xx + (reference ? gw : 0);
      for (let d = 0; d < D; d++) out[n * D + d] = y[(d * gh + yy) * gw + xx]! + P.pos[(yy * tableW + col) * D + d]!;
    }
  return out;
}

function chunksRef(m: Float32Array, n: number, D: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => m.slice(i * D, (i + 1) * D));
}

interface StreamQkv {
  m: Float32Array[];
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

function qkvRef(prec: PrecisionSpec, x: Float32Array, s: StreamParams, condSilu: Float32Array, D: number): StreamQkv {
  const m = chunksRef(linearRef(condSilu, s.mod, prec), 6, D);
  const n = modulateRef(x, D, m[0]!, m[1]!);
  return { m, q: linearRef(n, s.q, prec), k: linearRef(n, s.k, prec), v: linearRef(n, s.v, prec) };
}

function finishRef(prec: PrecisionSpec, x: Float32Array, o: Float32Array, s: StreamParams, m: Float32Array[], D: number): Float32Array {
  const h = gatedAdd(x, linearRef(o, s.o, prec), m[2]!, D);
  const mlp = linearRef(linearRef(modulateRef(h, D, m[3]!, m[4]!), s.mlp1, prec).map(gelu), s.mlp2, prec);
  return gatedAdd(h, mlp, m[5]!, D);
}

/** Reference pass for one reference image: per layer K and V, each [R, D]. */
export function ditReferenceRef(P: DitParams, prec: PrecisionSpec, latent: Float32Array, h: number, w: number, pooled: Float32Array) {
  const D = P.cfg.dim;
  const cond = conditionRef(P, prec, 0, pooled).map(silu);
  let x = tokensRef(P, prec, latent, h, w, true);
  const k: Float32Array[] = [];
  const v: Float32Array[] = [];
  P.blocks.forEach((b, l) => {
    const s = qkvRef(prec, x, b.image, cond, D);
    k.push(s.k);
    v.push(s.v);
    if (l < P.blocks.length - 1) x = finishRef(prec, x, attentionRef(s.q, s.k, s.v, null, P.cfg.heads, D), b.image, s.m, D);
  });
  return { k, v };
}

/** One denoising step for one batch item -> velocity [C, h, w]. */
export function ditStepRef(P: DitParams, prec: PrecisionSpec, inp: DitStepRefInputs): Float32Array {
  const { dim: D, heads, patchSize: ps, latentChannels: C } = P.cfg;
  const cond = conditionRef(P, prec, inp.timestep, inp.pooled).map(silu);
  let img = tokensRef(P, prec, inp.latent, inp.h, inp.w, false);
  let txt = linearRef(inp.text, P.context, prec);
  const M = txt.length / D;
  const N = img.length / D;
  const MN = M + N;

  const full = inp.refs.kind === 'full' ? inp.refs : null;
  const refTokens = full ? full.latents.map((lat) => tokensRef(P, prec, lat, inp.h, inp.w, true)) : [];
  const refConds = full ? full.pooled.map((pl) => conditionRef(P, prec, 0, pl).map(silu)) : [];
  const S = MN + refTokens.reduce((n, t) => n + t.length / D, 0);
  const L = inp.bias.length / S;
  if (!Number.isInteger(L)) throw new Error('bias shape does not match the tokens');

  P.blocks.forEach((b, l) => {
    const t = qkvRef(prec, txt, b.text, cond, D);
    const i = qkvRef(prec, img, b.image, cond, D);
    const r = refTokens.map((x, j) => qkvRef(prec, x, b.image, refConds[j]!, D));
    const cached = inp.refs.kind === 'cached' ? inp.refs : null;
    const q = concatRows(t.q, i.q, ...r.map((s) => s.q));
    const k = concatRows(t.k, i.k, ...(cached ? [cached.k[l]!] : r.map((s) => s.k)));
    const v = concatRows(t.v, i.v, ...(cached ? [cached.v[l]!] : r.map((s) => s.v)));
    const bias = inp.bias.slice();
    const lb = inp.layerBias[l]!;
    for (let s = 0; s < MN; s++) for (let c = 0; c < lb.length; c++) bias[s * L + MN + c]! += lb[c]!;
    const o = attentionRef(q, k, v, bias, heads, D);
    txt = finishRef(prec, txt, rows(o, D, 0, M), b.text, t.m, D);
    img = finishRef(prec, img, rows(o, D, M, MN), b.image, i.m, D);
    let off = MN;
    for (let j = 0; j < refTokens.length; j++) {
      const R = refTokens[j]!.length / D;
      refTokens[j] = finishRef(prec, refTokens[j]!, rows(o, D, off, off + R), b.image, r[j]!.m, D);
      off += R;
    }
  });

  const [shift, scale] = chunksRef(linearRef(cond, P.finalMod, prec), 2, D);
  const out = linearRef(modulateRef(img, D, shift!, scale!), P.finalOut, prec);
  const gh = inp.h / ps;
  const gw = inp.w / ps;
  const vel = new Float32Array(C * inp.h * inp.w);
  const ppc = ps * ps * C;
  for (let yy = 0; yy < gh; yy++)
    for (let xx = 0; xx < gw; xx++)
      for (let c = 0; c < C; c++)
        for (let a = 0; a < ps; a++)
          for (let bb = 0; bb < ps; bb++)
            vel[(c * inp.h + yy * ps + a) * inp.w + xx * ps + bb] = out[(yy * gw + xx) * ppc + c * ps * ps + a * ps + bb]!;
  return vel;
}
