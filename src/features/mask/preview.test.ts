import { describe, expect, it } from 'vitest';
import { DEFAULT_MASK_SETTINGS } from '../../../workers/generation-types';
import { computePreview, MaskThumb, thumbSize } from './preview';

/** An ImageData stand-in: computePreview reads width, height and data only. */
const photo = (w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(4 * w * h).fill(200), colorSpace: 'srgb' }) as ImageData;

describe('MaskThumb', () => {
  it('keeps a downscaled copy current by updating only the cells a change touched', () => {
    const [w, h] = [1500, 1000];
    const mask = new Uint8Array(w * h);
    const thumb = new MaskThumb(w, h);
    expect([thumb.width, thumb.height]).toEqual([512, 341]);
    thumb.update(mask);
    expect(thumb.empty).toBe(true);
    const rect = { x0: 300, y0: 200, x1: 420, y1: 333 };
    for (let y = rect.y0; y < rect.y1; y++) mask.fill(255, y * w + rect.x0, y * w + rect.x1);
    thumb.update(mask, rect);
    const fresh = new MaskThumb(w, h);
    fresh.update(mask);
    expect(thumb.data).toEqual(fresh.data);
    expect(thumb.empty).toBe(false);
    expect(thumbSize(300, 200)).toEqual({ width: 300, height: 200 });
  });
});

describe('computePreview', () => {
  const [w, h] = [800, 600];
  const mask = new Uint8Array(w * h);
  for (let y = 250; y < 350; y++) mask.fill(255, y * w + 350, y * w + 450);
  const thumb = new MaskThumb(w, h);
  thumb.update(mask);
  const input = { thumb, photo: photo(thumb.width, thumb.height), genWidth: 128, genHeight: 128, settings: { ...DEFAULT_MASK_SETTINGS }, fill: 'black' as const };

  it('works at the generation size, centre-cropped like the engine', () => {
    const r = computePreview(input);
    expect([r.width, r.height]).toEqual([128, 128]);
    // 100 px of the 600 px crop on each side: about 1/36 of the area.
    expect(r.coverage).toBeCloseTo(1 / 36, 2);
    // Outside the mask, the black fill; inside, the photo.
    expect(Array.from(r.rgba.slice(0, 3))).toEqual([0, 0, 0]);
    const centre = 4 * (64 * 128 + 64);
    expect(r.rgba[centre]).toBeCloseTo(200, -1);
  });

  it('follows the settings: grow widens, invert complements, strength 0 ignores the mask', () => {
    const base = computePreview(input).coverage;
    expect(computePreview({ ...input, settings: { ...DEFAULT_MASK_SETTINGS, growPx: 4 } }).coverage).toBeGreaterThan(base * 1.3);
    expect(computePreview({ ...input, settings: { ...DEFAULT_MASK_SETTINGS, invert: true } }).coverage).toBeCloseTo(1 - base, 5);
    expect(computePreview({ ...input, settings: { ...DEFAULT_MASK_SETTINGS, strength: 0 } }).coverage).toBe(1);
  });

  it('shows the whole photo when nothing is painted, as the engine uses it', () => {
    const empty = new MaskThumb(w, h);
    const r = computePreview({ ...input, thumb: empty });
    expect(r.mask).toBeNull();
    expect(r.coverage).toBe(1);
  });
});
