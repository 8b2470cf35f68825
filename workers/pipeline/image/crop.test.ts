import { describe, it, expect } from 'vitest';
import { centerCropRect, fitWithin } from './crop';

describe('centerCropRect', () => {
  it('crops a landscape photo to a centred square', () => {
    expect(centerCropRect(1920, 1080, 512, 512)).toEqual({ sx: 420, sy: 0, sw: 1080, sh: 1080 });
  });

  it('crops a portrait photo to a centred square', () => {
    expect(centerCropRect(1080, 1920, 1024, 1024)).toEqual({ sx: 0, sy: 420, sw: 1080, sh: 1080 });
  });

  it('keeps the whole image when the aspect ratios already match', () => {
    expect(centerCropRect(1024, 768, 512, 384)).toEqual({ sx: 0, sy: 0, sw: 1024, sh: 768 });
    expect(centerCropRect(300, 300, 64, 64)).toEqual({ sx: 0, sy: 0, sw: 300, sh: 300 });
  });

  it('crops a square to landscape and portrait targets', () => {
    // 562.5 rounds up to 563; (1000 - 563) / 2 = 218.5 floors to 218.
    expect(centerCropRect(1000, 1000, 16, 9)).toEqual({ sx: 0, sy: 218, sw: 1000, sh: 563 });
    expect(centerCropRect(1000, 1000, 3, 4)).toEqual({ sx: 125, sy: 0, sw: 750, sh: 1000 });
  });

  it('puts an odd leftover pixel in the right / bottom margin', () => {
    // 101 - 100 = 1 leftover: sx = 0, right margin 1.
    expect(centerCropRect(101, 100, 1, 1)).toEqual({ sx: 0, sy: 0, sw: 100, sh: 100 });
    expect(centerCropRect(100, 103, 1, 1)).toEqual({ sx: 0, sy: 1, sw: 100, sh: 100 });
  });

  it('crops the 50-megapixel 8660x5773 photo to a square and to 16:9', () => {
    expect(centerCropRect(8660, 5773, 1024, 1024)).toEqual({ sx: 1443, sy: 0, sw: 5773, sh: 5773 });
    // 8660 * 9 / 16 = 4871.25 -> 4871; (5773 - 4871) / 2 = 451.
    expect(centerCropRect(8660, 5773, 1920, 1080)).toEqual({ sx: 0, sy: 451, sw: 8660, sh: 4871 });
  });

  it('always stays inside the source, is centred within a pixel, and has the target aspect to the nearest pixel', () => {
    const sizes = [1, 2, 3, 7, 64, 97, 512, 1023, 4000];
    for (const srcW of sizes) for (const srcH of sizes) for (const [dstW, dstH] of [[1, 1], [16, 9], [2, 3], [1024, 768], [5, 1]] as const) {
      const r = centerCropRect(srcW, srcH, dstW, dstH);
      expect(r.sw).toBeGreaterThanOrEqual(1);
      expect(r.sh).toBeGreaterThanOrEqual(1);
      expect(r.sx).toBeGreaterThanOrEqual(0);
      expect(r.sy).toBeGreaterThanOrEqual(0);
      expect(r.sx + r.sw).toBeLessThanOrEqual(srcW);
      expect(r.sy + r.sh).toBeLessThanOrEqual(srcH);
      // One side is taken whole.
      expect(r.sw === srcW || r.sh === srcH).toBe(true);
      // Margins differ by at most one pixel.
      expect(Math.abs(srcW - r.sw - 2 * r.sx)).toBeLessThanOrEqual(1);
      expect(Math.abs(srcH - r.sh - 2 * r.sy)).toBeLessThanOrEqual(1);
      // The derived side is the nearest integer to the exact one (unless clamped to 1 or to the source).
      if (r.sh === srcH && r.sw !== 1 && r.sw !== srcW) expect(Math.abs(r.sw - (srcH * dstW) / dstH)).toBeLessThanOrEqual(0.5);
      if (r.sw === srcW && r.sh !== 1 && r.sh !== srcH) expect(Math.abs(r.sh - (srcW * dstH) / dstW)).toBeLessThanOrEqual(0.5);
    }
  });

  it('rejects non-integer or non-positive sizes', () => {
    expect(() => centerCropRect(0, 10, 1, 1)).toThrow(/positive integers/);
    expect(() => centerCropRect(10, 10, 1.5, 1)).toThrow(/positive integers/);
  });
});

describe('fitWithin', () => {
  it('never upscales and leaves fitting images alone', () => {
    expect(fitWithin(640, 480, 1_000_000)).toEqual({ width: 640, height: 480 });
    expect(fitWithin(1000, 1000, 1_000_000)).toEqual({ width: 1000, height: 1000 });
  });

  it('downscales the 50-megapixel 8660x5773 photo within the budget, keeping 3:2', () => {
    // scale = sqrt(4194304 / 49994180) = 0.289648; 8660 * scale = 2508.35 -> 2508; 2508 * 5773 / 8660 = 1671.89 -> 1672.
    expect(fitWithin(8660, 5773, 2048 * 2048)).toEqual({ width: 2508, height: 1672 });
    // 16 MP budget: 5016.70 -> 5016; 5016 * 5773 / 8660 = 3343.78 -> 3344.
    expect(fitWithin(8660, 5773, 16_777_216)).toEqual({ width: 5016, height: 3344 });
    // Portrait orientation is the transpose.
    expect(fitWithin(5773, 8660, 2048 * 2048)).toEqual({ width: 1672, height: 2508 });
  });

  it('halves each side when the budget is a quarter', () => {
    expect(fitWithin(4000, 3000, 3_000_000)).toEqual({ width: 2000, height: 1500 });
  });

  it('never exceeds the budget and keeps the aspect ratio within a pixel', () => {
    const budgets = [1, 2, 10, 1000, 65_536, 1_048_576, 4_194_304];
    const sizes = [1, 3, 17, 640, 1001, 4032, 8660, 12_000];
    for (const w of sizes) for (const h of sizes) for (const max of budgets) {
      const r = fitWithin(w, h, max);
      expect(r.width * r.height).toBeLessThanOrEqual(Math.max(max, 1));
      expect(r.width).toBeGreaterThanOrEqual(1);
      expect(r.height).toBeGreaterThanOrEqual(1);
      expect(r.width).toBeLessThanOrEqual(w);
      expect(r.height).toBeLessThanOrEqual(h);
      if (w * h > max && r.width > 1 && r.height > 1) {
        // The short side is the rounded exact one for the long side.
        if (w >= h) expect(Math.abs(r.height - (r.width * h) / w)).toBeLessThanOrEqual(0.5);
        else expect(Math.abs(r.width - (r.height * w) / h)).toBeLessThanOrEqual(0.5);
      }
    }
  });

  it('handles extreme strips, where the short side floors at one pixel', () => {
    expect(fitWithin(100_000, 10, 1000)).toEqual({ width: 1000, height: 1 });
    expect(fitWithin(10, 100_000, 1000)).toEqual({ width: 1, height: 1000 });
  });
});
