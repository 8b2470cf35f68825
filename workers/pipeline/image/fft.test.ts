import { describe, it, expect } from 'vitest';
import { frequencySplit, signedFrequency, type FrequencyShape } from './fft';

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomRgb(w: number, h: number, seed: number): Float32Array {
  const rand = lcg(seed);
  return new Float32Array(3 * w * h).map(() => rand() * 2 - 1);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

function maxAbs(a: Float32Array): number {
  let d = 0;
  for (const v of a) d = Math.max(d, Math.abs(v));
  return d;
}

/** O(n^4) reference: full 2-D DFT, zero the bins outside the band, inverse, real part. */
function naiveLow(rgb: Float32Array, w: number, h: number, cutoff: number, shape: FrequencyShape): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let c = 0; c < 3; c++) {
    const off = c * w * h;
    const re = new Float64Array(w * h);
    const im = new Float64Array(w * h);
    for (let ky = 0; ky < h; ky++) {
      for (let kx = 0; kx < w; kx++) {
        let sr = 0;
        let si = 0;
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const a = -2 * Math.PI * ((ky * y) / h + (kx * x) / w);
            const v = rgb[off + y * w + x]!;
            sr += v * Math.cos(a);
            si += v * Math.sin(a);
          }
        }
        const fy = signedFrequency(ky, h);
        const fx = signedFrequency(kx, w);
        const kept =
          shape === 'square' ? Math.abs(fy) <= cutoff && Math.abs(fx) <= cutoff : fy * fy + fx * fx <= cutoff * cutoff;
        re[ky * w + kx] = kept ? sr : 0;
        im[ky * w + kx] = kept ? si : 0;
      }
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let ky = 0; ky < h; ky++) {
          for (let kx = 0; kx < w; kx++) {
            const a = 2 * Math.PI * ((ky * y) / h + (kx * x) / w);
            s += re[ky * w + kx]! * Math.cos(a) - im[ky * w + kx]! * Math.sin(a);
          }
        }
        out[off + y * w + x] = s / (w * h);
      }
    }
  }
  return out;
}

describe('signedFrequency', () => {
  it('follows numpy.fft.fftfreq ordering for even and odd lengths', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((k) => signedFrequency(k, 8))).toEqual([0, 1, 2, 3, -4, -3, -2, -1]);
    expect([0, 1, 2, 3, 4].map((k) => signedFrequency(k, 5))).toEqual([0, 1, 2, -2, -1]);
    expect(signedFrequency(0, 1)).toBe(0);
  });
});

describe('frequencySplit', () => {
  it.each([
    [7, 5, 1.5, 'square'],
    [7, 5, 2, 'disk'],
    [12, 9, 3, 'square'],
    [12, 9, 2.9, 'disk'],
    [6, 1, 2, 'square'],
    [1, 5, 1, 'disk'],
    [16, 3, 4, 'disk'],
    [3, 3, 0, 'square'],
  ] as const)('matches a naive 2-D DFT on %ix%i, cutoff %f (%s)', (w, h, cutoff, shape) => {
    const rgb = randomRgb(w, h, w * 31 + h);
    const { low } = frequencySplit(rgb, w, h, cutoff, shape);
    expect(maxAbsDiff(low, naiveLow(rgb, w, h, cutoff, shape))).toBeLessThan(1e-5);
  });

  it.each([
    [128, 128],
    [96, 80],
    [33, 17],
  ])('low + high == input on %ix%i for both shapes', (w, h) => {
    const rgb = randomRgb(w, h, w + h);
    for (const shape of ['square', 'disk'] as const) {
      for (const cutoff of [0, 3, 10.5]) {
        const { low, high } = frequencySplit(rgb, w, h, cutoff, shape);
        const sum = low.map((v, i) => v + high[i]!);
        expect(maxAbsDiff(sum, rgb)).toBeLessThan(1e-5);
        // Both bands carry real content on random noise.
        expect(maxAbs(high)).toBeGreaterThan(0.1);
      }
    }
  });

  it.each([
    [128, 128],
    [96, 80],
  ])('a constant image is all low band on %ix%i', (w, h) => {
    const rgb = new Float32Array(3 * w * h);
    for (let c = 0; c < 3; c++) rgb.fill([0.25, -0.5, 1][c]!, c * w * h, (c + 1) * w * h);
    for (const shape of ['square', 'disk'] as const) {
      const { low, high } = frequencySplit(rgb, w, h, 0, shape);
      expect(maxAbs(high)).toBeLessThan(1e-5);
      expect(maxAbsDiff(low, rgb)).toBeLessThan(1e-5);
    }
  });

  it('cutoff 0 keeps exactly each channel mean', () => {
    const w = 96;
    const h = 80;
    const rgb = randomRgb(w, h, 5);
    const { low } = frequencySplit(rgb, w, h, 0, 'disk');
    for (let c = 0; c < 3; c++) {
      let mean = 0;
      for (let i = 0; i < w * h; i++) mean += rgb[c * w * h + i]!;
      mean /= w * h;
      for (let i = 0; i < w * h; i += 97) expect(low[c * w * h + i]).toBeCloseTo(mean, 5);
    }
  });

  it.each([
    [128, 128],
    [96, 80],
  ])('a cutoff at or past the highest frequency keeps everything on %ix%i', (w, h) => {
    const rgb = randomRgb(w, h, 9);
    const square = frequencySplit(rgb, w, h, Math.max(w, h) / 2, 'square');
    expect(maxAbsDiff(square.low, rgb)).toBeLessThan(1e-5);
    expect(maxAbs(square.high)).toBeLessThan(1e-5);
    const disk = frequencySplit(rgb, w, h, Math.hypot(w, h) / 2, 'disk');
    expect(maxAbsDiff(disk.low, rgb)).toBeLessThan(1e-5);
  });

  it.each([
    [128, 128],
    [96, 80],
  ])('a checkerboard (the Nyquist frequency) is all high band on %ix%i', (w, h) => {
    const rgb = new Float32Array(3 * w * h);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb[c * w * h + y * w + x] = (x + y) % 2 === 0 ? 0.8 : -0.8;
    }
    // Its only bin is (fy, fx) = (-h/2, -w/2).
    for (const shape of ['square', 'disk'] as const) {
      const { low, high } = frequencySplit(rgb, w, h, 8, shape);
      expect(maxAbs(low)).toBeLessThan(1e-5);
      expect(maxAbsDiff(high, rgb)).toBeLessThan(1e-5);
    }
    // One bin short of max(w, h) / 2 it is still all high; at it, all low.
    expect(maxAbs(frequencySplit(rgb, w, h, Math.max(w, h) / 2 - 1, 'square').low)).toBeLessThan(1e-5);
    expect(maxAbsDiff(frequencySplit(rgb, w, h, Math.max(w, h) / 2, 'square').low, rgb)).toBeLessThan(1e-5);
  });

  it('puts a single cosine on the side of the cutoff its frequency falls', () => {
    // cos(2 pi (2x/w + 3y/h)): frequency (fy, fx) = (3, 2), radius sqrt(13) ~ 3.606.
    const w = 40;
    const h = 24;
    const rgb = new Float32Array(3 * w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = 0.5 * Math.cos(2 * Math.PI * ((2 * x) / w + (3 * y) / h));
        for (let c = 0; c < 3; c++) rgb[c * w * h + y * w + x] = v;
      }
    }
    const isLow = (cutoff: number, shape: FrequencyShape): boolean => {
      const { low, high } = frequencySplit(rgb, w, h, cutoff, shape);
      if (maxAbsDiff(low, rgb) < 1e-5 && maxAbs(high) < 1e-5) return true;
      if (maxAbs(low) < 1e-5 && maxAbsDiff(high, rgb) < 1e-5) return false;
      throw new Error('the cosine was split across bands');
    };
    expect(isLow(2, 'square')).toBe(false);
    expect(isLow(2.99, 'square')).toBe(false);
    expect(isLow(3, 'square')).toBe(true);
    expect(isLow(3.5, 'disk')).toBe(false);
    expect(isLow(3.61, 'disk')).toBe(true);
  });

  it('rejects bad sizes and cutoffs', () => {
    expect(() => frequencySplit(new Float32Array(10), 2, 2, 1, 'square')).toThrow(/expected 12/);
    expect(() => frequencySplit(new Float32Array(12), 2, 2, -1, 'square')).toThrow(/cutoff/);
    expect(() => frequencySplit(new Float32Array(12), 2, 2, NaN, 'disk')).toThrow(/cutoff/);
  });

  it('splits a 1024x1024 reference in reasonable time', () => {
    const w = 1024;
    const rgb = randomRgb(w, w, 1);
    const t0 = performance.now();
    const { low, high } = frequencySplit(rgb, w, w, 32, 'disk');
    const ms = performance.now() - t0;
    console.log(`frequencySplit 1024x1024x3: ${ms.toFixed(1)} ms`);
    expect(Math.abs(low[12345]! + high[12345]! - rgb[12345]!)).toBeLessThan(1e-5);
    expect(ms).toBeLessThan(10_000);
  });
});
