import { describe, expect, it } from 'vitest';
import { DEFAULT_FREQUENCY, DEFAULT_MASK_SETTINGS } from '../generation-types';
import { prepareReferences, type ReferenceOptions } from './references';

const W = 16;
const H = 16;
const rgb = Float32Array.from({ length: 3 * W * H }, (_, i) => Math.sin(i * 0.37));
const opts = (over: Partial<ReferenceOptions> = {}): ReferenceOptions => ({
  maskSettings: { ...DEFAULT_MASK_SETTINGS },
  fill: 'black',
  frequency: { ...DEFAULT_FREQUENCY },
  gridW: 4,
  gridH: 4,
  ...over,
});

describe('prepareReferences', () => {
  it('without a mask: the image as is, no token mask', () => {
    const [r, ...rest] = prepareReferences({ imageKey: 'img', maskKey: null, rgb, mask: null, width: W, height: H }, opts());
    expect(rest).toEqual([]);
    expect(r!.rgb).toBe(rgb);
    expect(r!.tokenMask).toBeNull();
    expect(r!.gammaScale).toBe(1);
  });

  it('a left-half mask fills the right half black and halves the token grid', () => {
    const mask = Float32Array.from({ length: W * H }, (_, i) => (i % W < W / 2 ? 1 : 0));
    const [r] = prepareReferences({ imageKey: 'img', maskKey: 'm1', rgb, mask, width: W, height: H }, opts());
    expect(r!.rgb[0]).toBeCloseTo(rgb[0]!, 6); // inside
    expect(r!.rgb[W - 1]).toBe(-1); // outside: black
    expect(Array.from(r!.tokenMask!.slice(0, 4))).toEqual([1, 1, 0, 0]);
    expect(r!.key).toContain('mask:m1');
  });

  it('keys change with the mask settings and the fill, so caches never mix them', () => {
    const mask = new Float32Array(W * H).fill(1);
    const key = (o: ReferenceOptions) => prepareReferences({ imageKey: 'img', maskKey: 'm', rgb, mask, width: W, height: H }, o)[0]!.key;
    const base = key(opts());
    expect(key(opts({ fill: 'gray' }))).not.toBe(base);
    expect(key(opts({ maskSettings: { ...DEFAULT_MASK_SETTINGS, featherPx: 2 } }))).not.toBe(base);
    expect(key(opts())).toBe(base);
  });

  it('frequency split: original, low and high sets with their weights; zero-weight sets are skipped', () => {
    const f = { ...DEFAULT_FREQUENCY, enabled: true, cutoff: 2, gammaOrig: 1, gammaLow: 0.5, gammaHigh: 0.25 };
    const sets = prepareReferences({ imageKey: 'img', maskKey: null, rgb, mask: null, width: W, height: H }, opts({ frequency: f }));
    expect(sets.map((s) => s.gammaScale)).toEqual([1, 0.5, 0.25]);
    expect(sets[1]!.key).toMatch(/#band:square:2:low$/);
    // low + high is the image
    for (let i = 0; i < rgb.length; i += 37) expect(sets[1]!.rgb[i]! + sets[2]!.rgb[i]!).toBeCloseTo(rgb[i]!, 5);
    const onlyLow = prepareReferences({ imageKey: 'img', maskKey: null, rgb, mask: null, width: W, height: H }, opts({ frequency: { ...f, gammaOrig: 0, gammaHigh: 0 } }));
    expect(onlyLow.map((s) => s.gammaScale)).toEqual([0.5]);
  });
});
