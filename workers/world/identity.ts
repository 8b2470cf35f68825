/**
 * Subject identities: a silhouette, a palette and a surface pattern drawn
 * from an open-ended space, so identities never seen in training exist. The
 * held-out identities (the eval's, the examples') are the ids from
 * HELD_OUT_FIRST on; training draws only below it.
 */
import { Draw } from './random';
import { CLASS_WORDS, type ClassWord, type Rgb } from './vocabulary';

export const HELD_OUT_FIRST = 1_000_000;
export const isHeldOut = (id: number) => id >= HELD_OUT_FIRST;

export type Pattern =
  | { kind: 'solid' }
  | { kind: 'stripes'; angle: number; period: number }
  | { kind: 'dots'; period: number; radius: number }
  | { kind: 'checker'; period: number }
  | { kind: 'halves'; angle: number }
  | { kind: 'band'; centre: number; halfWidth: number };

export interface Identity {
  id: number;
  classWord: ClassWord;
  /** Width / height of the silhouette's box. */
  aspect: number;
  /** Radial wobble of the outline: amplitude and phase per harmonic 2..5. */
  wobble: { amp: number; phase: number }[];
  /** Class-specific shape knobs in [0, 1] (vase neck, bird tail, mug handle side...). */
  knobs: [number, number, number];
  body: Rgb;
  accent: Rgb;
  pattern: Pattern;
}

/** HSV (h in degrees, s and v in [0, 1]) to 8-bit RGB. */
export function hsv(h: number, s: number, v: number): Rgb {
  const c = v * s;
  const hp = (((h % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r, g, b] = hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x] : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x];
  const m = v - c;
  const to8 = (u: number) => Math.round((u + m) * 255);
  return [to8(r), to8(g), to8(b)];
}

const BASE_ASPECT: Record<ClassWord, number> = { toy: 1, vase: 0.62, bird: 1.35, box: 1, mug: 1.05 };

export function identityFromId(id: number): Identity {
  const d = new Draw(id, 'identity');
  const classWord = d.pick(CLASS_WORDS);
  const aspect = BASE_ASPECT[classWord] * d.range(0.85, 1.15);
  const wobble = [2, 3, 4, 5].map((k) => ({ amp: d.range(0, 0.14 / Math.sqrt(k - 1)), phase: d.range(0, 2 * Math.PI) }));
  const knobs: [number, number, number] = [d.unit(), d.unit(), d.unit()];
  const hue = d.range(0, 360);
  const body = hsv(hue, d.range(0.45, 0.95), d.range(0.6, 0.95));
  const accent = d.chance(0.3) ? hsv(hue, d.range(0.3, 0.9), d.range(0.15, 0.4)) : hsv(hue + d.range(90, 270), d.range(0.5, 1), d.range(0.55, 1));
  const kind = d.pick(['solid', 'stripes', 'dots', 'checker', 'halves', 'band'] as const);
  const pattern: Pattern =
    kind === 'solid'
      ? { kind }
      : kind === 'stripes'
        ? { kind, angle: d.pick([0, 45, 90, 135]), period: d.range(0.45, 0.8) }
        : kind === 'dots'
          ? { kind, period: d.range(0.55, 0.8), radius: d.range(0.12, 0.2) }
          : kind === 'checker'
            ? { kind, period: d.range(0.55, 0.9) }
            : kind === 'halves'
              ? { kind, angle: d.pick([0, 45, 90, 135, 180, 225, 270, 315]) }
              : { kind, centre: d.range(-0.3, 0.3), halfWidth: d.range(0.15, 0.3) };
  return { id, classWord, aspect, wobble, knobs, body, accent, pattern };
}

/** Training identities: uniform over [0, HELD_OUT_FIRST). */
export function trainingIdentityId(d: Draw): number {
  return d.int(HELD_OUT_FIRST);
}

/** The k-th held-out identity. */
export const heldOutIdentityId = (k: number) => HELD_OUT_FIRST + k;
