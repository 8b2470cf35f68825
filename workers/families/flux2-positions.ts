/**
 * FLUX.2's token positions and their RoPE tables (pure functions).
 *
 * Every token has 4 coordinates (t, h, w, l), as the diffusers pipelines build them: text token l
 * is (0, 0, 0, l); noisy latent token (h, w) is (0, h, w, 0), row-major; reference image i is on
 * its own time coordinate, (10 + 10 i, h, w, 0). RoPE gives axis a (of `axesDims[a]` dims) the
 * frequencies theta^(-2j / dim), j < dim / 2, and the angle coordinate x frequency; the tables
 * concatenate the axes in order (t, h, w, l). Computed in float64 and rounded to float32 once, as
 * diffusers does (Flux2PosEmbed uses float64 frequencies); the graphs take the half-width tables
 * (each diffusers value is repeated for the pair (2j, 2j + 1)).
 */

/** Positions as rows of 4 coordinates, [tokens * 4]. */
export type Positions = Int32Array;

/** The time coordinate of reference image i. */
export const referenceTime = (i: number): number => 10 + 10 * i;

export function textPositions(tokens: number): Positions {
  const ids = new Int32Array(tokens * 4);
  for (let l = 0; l < tokens; l++) ids[l * 4 + 3] = l;
  return ids;
}

/** A latent grid of h x w tokens at time coordinate t (0 for the noisy image), row-major. */
export function gridPositions(h: number, w: number, t = 0): Positions {
  const ids = new Int32Array(h * w * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const r = (y * w + x) * 4;
      ids[r] = t;
      ids[r + 1] = y;
      ids[r + 2] = x;
    }
  }
  return ids;
}

export function concatPositions(...parts: Positions[]): Positions {
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface RopeTables {
  tokens: number;
  /** [tokens, headDim / 2] each. */
  cos: Float32Array;
  sin: Float32Array;
}

export function ropeTables(ids: Positions, axesDims: readonly number[], theta: number): RopeTables {
  if (axesDims.length !== 4) throw new Error(`FLUX.2 RoPE has 4 axes, got ${axesDims.length}`);
  const tokens = ids.length / 4;
  const half = axesDims.reduce((a, d) => a + d / 2, 0);
  const freqs: { axis: number; f: number }[] = [];
  axesDims.forEach((dim, axis) => {
    for (let j = 0; j < dim / 2; j++) freqs.push({ axis, f: 1 / theta ** ((2 * j) / dim) });
  });
  const cos = new Float32Array(tokens * half);
  const sin = new Float32Array(tokens * half);
  for (let s = 0; s < tokens; s++) {
    freqs.forEach(({ axis, f }, j) => {
      const angle = ids[s * 4 + axis]! * f;
      cos[s * half + j] = Math.cos(angle);
      sin[s * half + j] = Math.sin(angle);
    });
  }
  return { tokens, cos, sin };
}
