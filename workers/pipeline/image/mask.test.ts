import { describe, it, expect } from 'vitest';
import {
  DEFAULT_MASK_SETTINGS,
  canonicalMaskSettings,
  dilateDisk,
  erodeDisk,
  maskToTokenGrid,
  processMask,
  type MaskSettings,
} from './mask';

const settings = (over: Partial<MaskSettings>): MaskSettings => ({ ...DEFAULT_MASK_SETTINGS, ...over });

function count(m: Float32Array, pred: (v: number) => boolean): number {
  let n = 0;
  for (const v of m) if (pred(v)) n++;
  return n;
}

function sum(m: Float32Array): number {
  let s = 0;
  for (const v of m) s += v;
  return s;
}

/** Deterministic pseudo-random values in [0, 1) (LCG) so failures reproduce. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Brute-force disk max filter, pixels outside the image ignored. */
function bruteDilate(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const out = new Float32Array(w * h);
  const R = Math.floor(r);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let best = -Infinity;
      for (let dy = -R; dy <= R; dy++) {
        for (let dx = -R; dx <= R; dx++) {
          if (dx * dx + dy * dy > r * r) continue;
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
          best = Math.max(best, src[yy * w + xx]!);
        }
      }
      out[y * w + x] = best;
    }
  }
  return out;
}

function singlePixel(w: number, h: number, x: number, y: number): Float32Array {
  const m = new Float32Array(w * h);
  m[y * w + x] = 1;
  return m;
}

function square(w: number, h: number, x0: number, y0: number, size: number, value = 1): Float32Array {
  const m = new Float32Array(w * h);
  for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) m[y * w + x] = value;
  return m;
}

describe('defaults and validation', () => {
  it('default settings leave a valid mask unchanged', () => {
    const m = new Float32Array([0, 0.25, 0.5, 1]);
    expect(Array.from(processMask(m, 2, 2, DEFAULT_MASK_SETTINGS))).toEqual([0, 0.25, 0.5, 1]);
    expect(DEFAULT_MASK_SETTINGS).toEqual({ threshold: null, growPx: 0, featherPx: 0, invert: false, strength: 1 });
  });

  it('does not modify its input', () => {
    const m = new Float32Array([0.2, 0.8, 0.4, 0.6]);
    processMask(m, 2, 2, settings({ threshold: 0.5, invert: true }));
    expect(Array.from(m)).toEqual(Array.from(new Float32Array([0.2, 0.8, 0.4, 0.6])));
  });

  it('rejects a wrong length and bad settings', () => {
    expect(() => processMask(new Float32Array(5), 2, 2, DEFAULT_MASK_SETTINGS)).toThrow(/expected 4/);
    expect(() => processMask(new Float32Array(4), 2, 2, settings({ featherPx: -1 }))).toThrow(/featherPx/);
    expect(() => processMask(new Float32Array(4), 2, 2, settings({ growPx: NaN }))).toThrow(/growPx/);
  });

  it('clamps out-of-range input to [0, 1]', () => {
    const m = new Float32Array([-0.5, 1.5]);
    expect(Array.from(processMask(m, 2, 1, DEFAULT_MASK_SETTINGS))).toEqual([0, 1]);
  });
});

describe('threshold', () => {
  it('maps v >= t to 1 and the rest to 0 (t itself is kept)', () => {
    const m = new Float32Array([0, 0.25, 0.5, 0.75, 1, 0.4999]);
    expect(Array.from(processMask(m, 6, 1, settings({ threshold: 0.5 })))).toEqual([0, 0, 1, 1, 1, 0]);
  });
});

describe('grow / shrink by a disk', () => {
  // Lattice points with dx^2 + dy^2 <= r^2 (Gauss circle problem): r=1: 5, 2: 13, 3: 29, 5: 81.
  it.each([
    [1, 5],
    [2, 13],
    [3, 29],
    [5, 81],
    [2.5, 21],
  ])('a single pixel grown by %f covers exactly %i pixels', (r, expected) => {
    const m = processMask(singlePixel(21, 21, 10, 10), 21, 21, settings({ growPx: r }));
    expect(count(m, (v) => v === 1)).toBe(expected);
    expect(count(m, (v) => v === 0)).toBe(21 * 21 - expected);
    // The disk is centred on the pixel: these are in, the diagonals at distance > r are out.
    expect(m[10 * 21 + 10 + Math.floor(r)]).toBe(1);
    expect(m[(10 - Math.floor(r)) * 21 + 10]).toBe(1);
  });

  it('radius 2: the 13 pixels are the diamond plus the 4 diagonal neighbours', () => {
    const m = processMask(singlePixel(5, 5, 2, 2), 5, 5, settings({ growPx: 2 }));
    // prettier-ignore
    expect(Array.from(m)).toEqual([
      0, 0, 1, 0, 0,
      0, 1, 1, 1, 0,
      1, 1, 1, 1, 1,
      0, 1, 1, 1, 0,
      0, 0, 1, 0, 0,
    ]);
  });

  it('growing a 4x4 square by 1 adds one pixel on each side, no corners', () => {
    const m = processMask(square(10, 10, 3, 3, 4), 10, 10, settings({ growPx: 1 }));
    expect(count(m, (v) => v === 1)).toBe(16 + 4 * 4);
    expect(m[2 * 10 + 2]).toBe(0); // corner diagonal stays out (distance sqrt 2 > 1)
    expect(m[2 * 10 + 3]).toBe(1);
  });

  it('shrinking a 7x7 square by 1 and by 3 leaves 5x5 and the single centre', () => {
    const sq = square(11, 11, 2, 2, 7);
    const by1 = processMask(sq, 11, 11, settings({ growPx: -1 }));
    expect(count(by1, (v) => v === 1)).toBe(25);
    expect(by1[3 * 11 + 3]).toBe(1);
    expect(by1[2 * 11 + 2]).toBe(0);
    const by3 = processMask(sq, 11, 11, settings({ growPx: -3 }));
    expect(count(by3, (v) => v === 1)).toBe(1);
    expect(by3[5 * 11 + 5]).toBe(1);
  });

  it('shrinking a single pixel removes it; growing then shrinking a square restores it', () => {
    expect(count(processMask(singlePixel(9, 9, 4, 4), 9, 9, settings({ growPx: -1 })), (v) => v > 0)).toBe(0);
    const sq = square(20, 20, 6, 6, 8);
    const grown = processMask(sq, 20, 20, settings({ growPx: 3 }));
    const back = processMask(grown, 20, 20, settings({ growPx: -3 }));
    expect(Array.from(back)).toEqual(Array.from(sq)); // closing of a convex square is itself
  });

  it('pixels outside the image are ignored: a full mask does not shrink from the border', () => {
    const full = new Float32Array(8 * 6).fill(1);
    expect(count(processMask(full, 8, 6, settings({ growPx: -3 })), (v) => v === 1)).toBe(48);
    const empty = new Float32Array(8 * 6);
    expect(count(processMask(empty, 8, 6, settings({ growPx: 3 })), (v) => v === 0)).toBe(48);
  });

  it('matches a brute-force disk max/min filter on random grayscale masks', () => {
    const rand = lcg(7);
    for (const [w, h] of [
      [17, 13],
      [1, 9],
      [9, 1],
      [6, 6],
    ] as const) {
      const src = new Float32Array(w * h).map(() => rand());
      for (const r of [0.5, 1, 1.5, 2, 3, 4.2, 7, 30]) {
        expect(Array.from(dilateDisk(src, w, h, r))).toEqual(Array.from(bruteDilate(src, w, h, r)));
        const neg = src.map((v) => -v);
        const expectedMin = bruteDilate(neg, w, h, r).map((v) => -v);
        expect(Array.from(erodeDisk(src, w, h, r))).toEqual(Array.from(expectedMin));
      }
    }
  });

  it('keeps soft edges soft: a gray pixel grows with its own value', () => {
    const m = singlePixel(7, 7, 3, 3).map((v) => v * 0.5);
    const g = processMask(m, 7, 7, settings({ growPx: 1 }));
    expect(count(g, (v) => v === 0.5)).toBe(5);
  });
});

describe('feather', () => {
  it('keeps a uniform mask uniform', () => {
    const m = new Float32Array(32 * 24).fill(0.7);
    const f = processMask(m, 32, 24, settings({ featherPx: 3 }));
    for (const v of f) expect(v).toBeCloseTo(0.7, 6);
  });

  it('preserves the mean of a large region away from the border and softens its edge', () => {
    const w = 64;
    const sq = square(w, w, 16, 16, 32);
    const f = processMask(sq, w, w, settings({ featherPx: 2.5 }));
    expect(sum(f)).toBeCloseTo(32 * 32, 2);
    expect(f[32 * w + 32]).toBeCloseTo(1, 6); // deep inside
    expect(f[2 * w + 2]).toBe(0); // far outside the kernel reach (radius ceil(7.5) = 8)
    const edgeIn = f[32 * w + 16]!;
    const edgeOut = f[32 * w + 15]!;
    expect(edgeIn).toBeGreaterThan(0.5);
    expect(edgeIn).toBeLessThan(1);
    expect(edgeOut).toBeGreaterThan(0);
    expect(edgeOut).toBeLessThan(0.5);
    // The Gaussian is symmetric: the step's two sides sum to 1.
    expect(edgeIn + edgeOut).toBeCloseTo(1, 5);
  });

  it('is symmetric: a centred pixel blurs into a mirror- and transpose-symmetric spot', () => {
    const n = 15;
    const f = processMask(singlePixel(n, n, 7, 7), n, n, settings({ featherPx: 1.5 }));
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const v = f[y * n + x]!;
        expect(f[y * n + (n - 1 - x)]).toBeCloseTo(v, 7);
        expect(f[(n - 1 - y) * n + x]).toBeCloseTo(v, 7);
        expect(f[x * n + y]).toBeCloseTo(v, 7);
      }
    }
    // Peak of a unit impulse: the square of the centre tap.
    const s = 1.5;
    let z = 0;
    for (let i = -5; i <= 5; i++) z += Math.exp(-(i * i) / (2 * s * s));
    expect(f[7 * n + 7]).toBeCloseTo(1 / (z * z), 6);
  });
});

describe('invert and strength', () => {
  it('invert maps m to 1 - m', () => {
    const m = new Float32Array([0, 0.25, 1, 0.5]);
    expect(Array.from(processMask(m, 4, 1, settings({ invert: true })))).toEqual([1, 0.75, 0, 0.5]);
  });

  it('strength 0 gives all ones, 1 is unchanged, 0.5 halves the distance to 1', () => {
    const m = new Float32Array([0, 0.25, 0.5, 1]);
    expect(Array.from(processMask(m, 4, 1, settings({ strength: 0 })))).toEqual([1, 1, 1, 1]);
    expect(Array.from(processMask(m, 4, 1, settings({ strength: 1 })))).toEqual([0, 0.25, 0.5, 1]);
    expect(Array.from(processMask(m, 4, 1, settings({ strength: 0.5 })))).toEqual([0.5, 0.625, 0.75, 1]);
  });

  it('applies threshold before invert before strength', () => {
    const m = new Float32Array([0.2, 0.8]);
    // threshold 0.5 -> [0, 1]; invert -> [1, 0]; strength 0.5 -> [1, 0.5]
    expect(Array.from(processMask(m, 2, 1, settings({ threshold: 0.5, invert: true, strength: 0.5 })))).toEqual([
      1, 0.5,
    ]);
  });

  it('grows before it feathers (a grown pixel is wider when blurred)', () => {
    const base = singlePixel(31, 31, 15, 15);
    const grownThenFeathered = processMask(base, 31, 31, settings({ growPx: 3, featherPx: 1 }));
    expect(sum(grownThenFeathered)).toBeCloseTo(29, 3); // blur keeps the 29-pixel disk's mass
  });
});

describe('maskToTokenGrid', () => {
  it('an all-ones mask gives an all-ones grid for divisible and non-divisible sizes', () => {
    for (const [w, h, gw, gh] of [
      [64, 64, 8, 8],
      [100, 75, 7, 9],
      [5, 3, 8, 6],
    ] as const) {
      const g = maskToTokenGrid(new Float32Array(w * h).fill(1), w, h, gw, gh);
      expect(g.length).toBe(gw * gh);
      for (const v of g) expect(v).toBeCloseTo(1, 6);
    }
  });

  it('divisible sizes give block means', () => {
    // 4x2 -> 2x1: means of the left and right 2x2 blocks.
    const m = new Float32Array([1, 0, 0.5, 0.5, 1, 0, 0.25, 0.75]);
    expect(Array.from(maskToTokenGrid(m, 4, 2, 2, 1))).toEqual([0.5, 0.5]);
    const m2 = new Float32Array([1, 1, 0, 0, 1, 1, 0, 0]);
    expect(Array.from(maskToTokenGrid(m2, 4, 2, 2, 1))).toEqual([1, 0]);
  });

  it('a left-half mask on 10 px over 3 cells gives 1, 0.5, 0 (the middle cell straddles x = 5)', () => {
    const w = 10;
    const h = 4;
    const m = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < 5; x++) m[y * w + x] = 1;
    const g = maskToTokenGrid(m, w, h, 3, 2);
    for (let gy = 0; gy < 2; gy++) {
      expect(g[gy * 3]).toBeCloseTo(1, 6);
      expect(g[gy * 3 + 1]).toBeCloseTo(0.5, 6);
      expect(g[gy * 3 + 2]).toBeCloseTo(0, 6);
    }
  });

  it('uses exact area weights for a straddling pixel (6 px -> 4 cells of 1.5 px)', () => {
    // Cells [0,1.5) [1.5,3) [3,4.5) [4.5,6); pixel values 0..5 as a ramp.
    const m = new Float32Array([0, 0.2, 0.4, 0.6, 0.8, 1]);
    const g = maskToTokenGrid(m, 6, 1, 4, 1);
    expect(g[0]).toBeCloseTo((1 * 0 + 0.5 * 0.2) / 1.5, 6);
    expect(g[1]).toBeCloseTo((0.5 * 0.2 + 1 * 0.4) / 1.5, 6);
    expect(g[2]).toBeCloseTo((1 * 0.6 + 0.5 * 0.8) / 1.5, 6);
    expect(g[3]).toBeCloseTo((0.5 * 0.8 + 1 * 1) / 1.5, 6);
  });

  it('preserves the total mass (grid mean equals image mean) on a random mask', () => {
    const rand = lcg(3);
    const w = 37;
    const h = 23;
    const m = new Float32Array(w * h).map(() => rand());
    const g = maskToTokenGrid(m, w, h, 5, 4);
    expect(sum(g) / g.length).toBeCloseTo(sum(m) / m.length, 5);
  });

  it('4 of 9 rows set, over 2 row cells of 4.5 rows each: 4/4.5 and 0', () => {
    // Rows 0..3 are 1 (4 rows); cells [0,4.5) [4.5,9): 4/4.5 and 0.
    const w = 3;
    const h = 9;
    const m = new Float32Array(w * h);
    for (let i = 0; i < 4 * w; i++) m[i] = 1;
    const g = maskToTokenGrid(m, w, h, 1, 2);
    expect(g[0]).toBeCloseTo(4 / 4.5, 6);
    expect(g[1]).toBeCloseTo(0, 6);
  });
});

describe('canonicalMaskSettings', () => {
  it('is stable, distinguishes every field and folds -0', () => {
    const base = canonicalMaskSettings(DEFAULT_MASK_SETTINGS);
    expect(base).toBe('mask-v1;threshold=none;grow=0;feather=0;invert=0;strength=1');
    expect(canonicalMaskSettings({ ...DEFAULT_MASK_SETTINGS, growPx: -0 })).toBe(base);
    // Key order of the input object does not matter.
    expect(canonicalMaskSettings({ strength: 1, invert: false, featherPx: 0, growPx: 0, threshold: null })).toBe(base);
    const variants = [
      settings({ threshold: 0 }),
      settings({ threshold: 0.5 }),
      settings({ growPx: 3 }),
      settings({ growPx: -3 }),
      settings({ featherPx: 2 }),
      settings({ invert: true }),
      settings({ strength: 0.5 }),
    ].map(canonicalMaskSettings);
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
    expect(canonicalMaskSettings(settings({ threshold: 0.5, growPx: -2.5, featherPx: 1.25 }))).toBe(
      'mask-v1;threshold=0.5;grow=-2.5;feather=1.25;invert=0;strength=1',
    );
  });
});

describe('performance', () => {
  it('processes a 1024x1024 mask with grow 32 and feather 8 well under a second', () => {
    const w = 1024;
    const m = new Float32Array(w * w);
    const rand = lcg(11);
    // A blob plus scattered soft strokes, so nothing short-circuits.
    for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) {
      const d = Math.hypot(x - 512, y - 480);
      m[y * w + x] = d < 300 ? 1 : rand() < 0.001 ? rand() : 0;
    }
    const s = settings({ growPx: 32, featherPx: 8 });
    processMask(m, w, w, s); // warm up the JIT
    const t0 = performance.now();
    const out = processMask(m, w, w, s);
    const ms = performance.now() - t0;
    console.log(`processMask 1024x1024 grow 32 feather 8: ${ms.toFixed(1)} ms`);
    expect(out.length).toBe(w * w);
    expect(out[480 * w + 512]).toBeCloseTo(1, 6);
    expect(ms).toBeLessThan(1000);
  });
});
