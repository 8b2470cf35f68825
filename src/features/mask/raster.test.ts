import { describe, expect, it } from 'vitest';
import { brushFalloff, clipRect, commitCoverage, compositeValue, stampSegment, unionRect, type Rect, type StrokePoint } from './raster';

/** The capsule by brute force over the whole plane: what stampSegment must equal. */
function naiveStamp(cov: Uint8Array, w: number, h: number, a: StrokePoint, b: StrokePoint, hardness: number): void {
  const [dx, dy] = [b.x - a.x, b.y - a.y];
  const len2 = dx * dx + dy * dy;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [px, py] = [x + 0.5 - a.x, y + 0.5 - a.y];
      const t = len2 > 0 ? Math.min(1, Math.max(0, (px * dx + py * dy) / len2)) : 0;
      const d = Math.hypot(px - t * dx, py - t * dy);
      if (d >= Math.max(a.radius, b.radius, 0.5)) continue;
      const v = Math.round(255 * brushFalloff(d, a.radius + t * (b.radius - a.radius), hardness));
      if (v > cov[y * w + x]!) cov[y * w + x] = v;
    }
}

const plane = (w: number, h: number) => new Uint8Array(w * h);

describe('brushFalloff', () => {
  it('is 1 in the core, 0 outside the radius and never increases outwards', () => {
    for (const hardness of [0, 0.3, 0.8, 1]) {
      expect(brushFalloff(0, 20, hardness)).toBe(1);
      expect(brushFalloff(20, 20, hardness)).toBe(0);
      expect(brushFalloff(25, 20, hardness)).toBe(0);
      let prev = 1;
      for (let d = 0; d <= 20; d += 0.25) {
        const v = brushFalloff(d, 20, hardness);
        expect(v).toBeLessThanOrEqual(prev + 1e-12);
        prev = v;
      }
    }
  });

  it('has a one-pixel rim at hardness 1 and a ramp over the whole radius at 0', () => {
    expect(brushFalloff(18.9, 20, 1)).toBe(1);
    expect(brushFalloff(19.5, 20, 1)).toBeCloseTo(0.5, 6);
    expect(brushFalloff(10, 20, 0)).toBeCloseTo(0.5, 6);
    expect(brushFalloff(5, 20, 0)).toBeGreaterThan(0.8);
    expect(brushFalloff(5, 20, 0)).toBeLessThan(1);
  });

  it('softer is never more opaque at the same distance', () => {
    for (let d = 0; d < 20; d += 0.5) {
      expect(brushFalloff(d, 20, 0.2)).toBeLessThanOrEqual(brushFalloff(d, 20, 0.7) + 1e-12);
    }
  });
});

describe('stampSegment', () => {
  it('stamps a dab: 255 at the centre, 0 outside, and reports its clipped dirty rect', () => {
    const w = 64;
    const cov = plane(w, w);
    const rect = stampSegment(cov, w, w, { x: 32, y: 32, radius: 10 }, { x: 32, y: 32, radius: 10 }, 1);
    expect(rect).toEqual({ x0: 22, y0: 22, x1: 42, y1: 42 });
    expect(cov[32 * w + 32]).toBe(255);
    expect(cov[32 * w + 41]).toBeLessThan(255);
    // Nothing outside the rect changed.
    for (let y = 0; y < w; y++)
      for (let x = 0; x < w; x++) if (x < 22 || x >= 42 || y < 22 || y >= 42) expect(cov[y * w + x]).toBe(0);
    // Symmetric about the centre (pixel centres at +0.5).
    expect(cov[32 * w + 26]).toBe(cov[32 * w + 37]);
  });

  it('clips at the border and returns null for a segment outside the plane', () => {
    const cov = plane(20, 10);
    expect(stampSegment(cov, 20, 10, { x: 0, y: 0, radius: 4 }, { x: 0, y: 0, radius: 4 }, 1)).toEqual({ x0: 0, y0: 0, x1: 4, y1: 4 });
    expect(stampSegment(cov, 20, 10, { x: -30, y: 5, radius: 4 }, { x: -25, y: 5, radius: 4 }, 1)).toBeNull();
  });

  it('sweeps a capsule: every pixel on the segment is covered, and coverage is the max, not a sum', () => {
    const w = 100;
    const cov = plane(w, 40);
    stampSegment(cov, w, 40, { x: 10, y: 20, radius: 6 }, { x: 90, y: 20, radius: 6 }, 0.5);
    for (let x = 10; x < 90; x++) expect(cov[20 * w + x]).toBe(255);
    const once = cov.slice();
    stampSegment(cov, w, 40, { x: 10, y: 20, radius: 6 }, { x: 90, y: 20, radius: 6 }, 0.5);
    expect(cov).toEqual(once);
    // Soft edge: strictly between 0 and 255 somewhere across the stroke.
    const column = Array.from({ length: 40 }, (_, y) => cov[y * w + 50]!);
    expect(column.some((v) => v > 0 && v < 255)).toBe(true);
  });

  it('visits only the capsule row spans, yet equals a brute-force sweep, and its bands cover every change', () => {
    let seed = 5;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const [w, h] = [90, 70];
    for (let k = 0; k < 60; k++) {
      const pt = (): StrokePoint => ({ x: rnd() * 110 - 10, y: rnd() * 90 - 10, radius: 0.3 + rnd() * 20 });
      const [a, b] = k % 7 === 0 ? (() => { const p = pt(); return [p, p]; })() : k % 5 === 0 ? (() => { const p = pt(); return [p, { ...pt(), y: p.y }]; })() : k % 3 === 0 ? (() => { const p = pt(); return [p, { ...pt(), x: p.x }]; })() : [pt(), pt()];
      const hardness = rnd();
      const fast = plane(w, h);
      const slow = plane(w, h);
      const bands: Rect[] = [];
      stampSegment(fast, w, h, a, b, hardness, (r) => bands.push(r));
      naiveStamp(slow, w, h, a, b, hardness);
      expect(fast).toEqual(slow);
      for (let i = 0; i < fast.length; i++) {
        if (fast[i] === 0) continue;
        const [x, y] = [i % w, Math.floor(i / w)];
        expect(bands.some((r) => x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1)).toBe(true);
      }
    }
  });

  it('a softer brush gives a lower total coverage for the same stroke', () => {
    const sum = (h: number) => {
      const cov = plane(60, 60);
      stampSegment(cov, 60, 60, { x: 30, y: 30, radius: 20 }, { x: 30, y: 30, radius: 20 }, h);
      return cov.reduce((a, b) => a + b, 0);
    };
    expect(sum(0)).toBeLessThan(sum(0.5));
    expect(sum(0.5)).toBeLessThan(sum(1));
  });
});

describe('compositing', () => {
  it('paints "over" and erases symmetrically, exact at 0 and 255', () => {
    expect(compositeValue(0, 255, 'paint')).toBe(255);
    expect(compositeValue(100, 0, 'paint')).toBe(100);
    expect(compositeValue(0, 128, 'paint')).toBe(128);
    expect(compositeValue(128, 128, 'paint')).toBe(192);
    expect(compositeValue(255, 255, 'erase')).toBe(0);
    expect(compositeValue(200, 0, 'erase')).toBe(200);
    expect(compositeValue(255, 128, 'erase')).toBe(127);
    for (let m = 0; m < 256; m += 17)
      for (let c = 0; c < 256; c += 15) {
        expect(compositeValue(m, c, 'paint')).toBeGreaterThanOrEqual(m);
        expect(compositeValue(m, c, 'erase')).toBeLessThanOrEqual(m);
      }
  });

  it('commits coverage in a rect, clears it, and writes before ^ after', () => {
    const w = 8;
    const mask = plane(w, 4);
    const cov = plane(w, 4);
    mask[1 * w + 2] = 10;
    cov[1 * w + 2] = 255;
    cov[2 * w + 3] = 128;
    cov[3 * w + 7] = 255; // outside the rect: untouched
    const rect = { x0: 1, y0: 1, x1: 5, y1: 3 };
    const xor = new Uint8Array(8);
    expect(commitCoverage(mask, cov, w, rect, 'paint', xor)).toBe(true);
    expect(mask[1 * w + 2]).toBe(255);
    expect(mask[2 * w + 3]).toBe(128);
    expect(cov[1 * w + 2]).toBe(0);
    expect(cov[3 * w + 7]).toBe(255);
    expect(Array.from(xor)).toEqual([0, 10 ^ 255, 0, 0, 0, 0, 128, 0]);
  });
});

describe('rects', () => {
  it('clips and unions', () => {
    expect(clipRect({ x0: -5, y0: 2, x1: 50, y1: 3 }, 10, 10)).toEqual({ x0: 0, y0: 2, x1: 10, y1: 3 });
    expect(clipRect({ x0: 10, y0: 0, x1: 12, y1: 3 }, 10, 10)).toBeNull();
    expect(unionRect(null, { x0: 1, y0: 1, x1: 2, y1: 2 })).toEqual({ x0: 1, y0: 1, x1: 2, y1: 2 });
    expect(unionRect({ x0: 0, y0: 5, x1: 2, y1: 6 }, { x0: 1, y0: 1, x1: 4, y1: 2 })).toEqual({ x0: 0, y0: 1, x1: 4, y1: 6 });
  });
});
