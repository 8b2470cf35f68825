import { describe, it, expect } from 'vitest';
import { applyBackgroundFill } from './fill';
import { gaussianBlurPlane } from './blur';

/** 3 planes of a 2x2 image: channel c, pixel i has value (c - 1) * 0.5 + i * 0.1. */
function tinyRgb(): Float32Array {
  const rgb = new Float32Array(12);
  for (let c = 0; c < 3; c++) for (let i = 0; i < 4; i++) rgb[c * 4 + i] = (c - 1) * 0.5 + i * 0.1;
  return rgb;
}

describe('applyBackgroundFill', () => {
  it('black and gray replace exactly the masked-out pixels and blend soft ones', () => {
    const rgb = tinyRgb();
    const mask = new Float32Array([1, 0, 0.5, 0.25]);
    const black = applyBackgroundFill(rgb, mask, 2, 2, 'black');
    const gray = applyBackgroundFill(rgb, mask, 2, 2, 'gray');
    for (let c = 0; c < 3; c++) {
      const v = (i: number): number => rgb[c * 4 + i]!;
      expect(black[c * 4 + 0]).toBe(v(0));
      expect(black[c * 4 + 1]).toBe(-1);
      expect(black[c * 4 + 2]).toBeCloseTo(0.5 * v(2) - 0.5, 6);
      expect(black[c * 4 + 3]).toBeCloseTo(0.25 * v(3) - 0.75, 6);
      expect(gray[c * 4 + 0]).toBe(v(0));
      expect(gray[c * 4 + 1]).toBe(0);
      expect(gray[c * 4 + 2]).toBeCloseTo(0.5 * v(2), 6);
      expect(gray[c * 4 + 3]).toBeCloseTo(0.25 * v(3), 6);
    }
  });

  it('an all-ones mask returns the image for every fill; an all-zero mask returns the fill', () => {
    const rgb = tinyRgb();
    for (const fill of ['black', 'gray', 'blur'] as const) {
      expect(Array.from(applyBackgroundFill(rgb, new Float32Array(4).fill(1), 2, 2, fill))).toEqual(Array.from(rgb));
    }
    expect(Array.from(applyBackgroundFill(rgb, new Float32Array(4), 2, 2, 'black'))).toEqual(new Array(12).fill(-1));
    expect(Array.from(applyBackgroundFill(rgb, new Float32Array(4), 2, 2, 'gray'))).toEqual(new Array(12).fill(0));
  });

  it('blur fill with a zero mask is the per-channel Gaussian blur of the image', () => {
    const w = 16;
    const h = 12;
    const rgb = new Float32Array(3 * w * h);
    for (let i = 0; i < rgb.length; i++) rgb[i] = Math.sin(i * 0.37) * 0.9;
    const out = applyBackgroundFill(rgb, new Float32Array(w * h), w, h, 'blur', 2);
    for (let c = 0; c < 3; c++) {
      const plane = rgb.subarray(c * w * h, (c + 1) * w * h);
      const blurred = gaussianBlurPlane(plane, w, h, 2);
      for (let i = 0; i < w * h; i++) expect(out[c * w * h + i]).toBeCloseTo(blurred[i]!, 6);
    }
    // A blur is not the identity on this high-frequency image, and stays in [-1, 1].
    let diff = 0;
    for (let i = 0; i < out.length; i++) {
      diff = Math.max(diff, Math.abs(out[i]! - rgb[i]!));
      expect(Math.abs(out[i]!)).toBeLessThanOrEqual(0.9 + 1e-6);
    }
    expect(diff).toBeGreaterThan(0.1);
  });

  it('blur fill of a constant image is that constant, whatever the mask', () => {
    const w = 10;
    const h = 7;
    const rgb = new Float32Array(3 * w * h);
    for (let c = 0; c < 3; c++) rgb.fill([0.3, -0.6, 0.9][c]!, c * w * h, (c + 1) * w * h);
    const mask = new Float32Array(w * h).map((_, i) => (i % 3) / 2);
    const out = applyBackgroundFill(rgb, mask, w, h, 'blur', 3);
    for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(rgb[i]!, 6);
  });

  it('does not modify its input and rejects wrong sizes', () => {
    const rgb = tinyRgb();
    const copy = Array.from(rgb);
    applyBackgroundFill(rgb, new Float32Array(4), 2, 2, 'blur', 1);
    expect(Array.from(rgb)).toEqual(copy);
    expect(() => applyBackgroundFill(rgb, new Float32Array(3), 2, 2, 'black')).toThrow(/expected 4/);
    expect(() => applyBackgroundFill(new Float32Array(11), new Float32Array(4), 2, 2, 'black')).toThrow(/expected 12/);
  });
});
