import { describe, expect, it } from 'vitest';
import { previewAlpha } from './composite';
import { compositeValue } from './raster';

/** Source-over of alpha a on alpha A. */
const over = (a: number, A: number) => a + A * (1 - a);

describe('the stroke preview', () => {
  it('over the overlay, shows exactly the tint the committed stroke will have', () => {
    for (const o of [0, 0.3, 0.5, 1])
      for (let m = 0; m < 256; m += 15)
        for (let c = 0; c < 256; c += 15) {
          const shown = over(previewAlpha(m, c, o, 'paint'), (o * m) / 255);
          expect(shown).toBeCloseTo((o * compositeValue(m, c, 'paint')) / 255, 9);
          // The eraser's preview is the photo at alpha c over the overlay: the tint left is o*m*(1 - c/255).
          const left = ((o * m) / 255) * (1 - previewAlpha(m, c, o, 'erase'));
          expect(left).toBeCloseTo((o * compositeValue(m, c, 'erase')) / 255, 2);
        }
  });
});
