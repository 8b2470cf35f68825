import { describe, expect, it } from 'vitest';
import { actualSizeView, fitView, imageToStage, MAX_SCALE, minScale, panBy, stageToImage, zoomAt } from './viewport';

const image = { width: 4000, height: 3000 };
const stage = { width: 900, height: 700 };

describe('the view', () => {
  it('fits the whole photo, centred, inside a margin', () => {
    const v = fitView(image, stage);
    const tl = imageToStage(v, 0, 0);
    const br = imageToStage(v, image.width, image.height);
    expect(tl.x).toBeGreaterThanOrEqual(16 - 1e-9);
    expect(br.x).toBeLessThanOrEqual(stage.width - 16 + 1e-9);
    expect(tl.y + br.y).toBeCloseTo(stage.height, 9);
    expect(tl.x + br.x).toBeCloseTo(stage.width, 9);
    expect(actualSizeView(image, stage).scale).toBe(1);
  });

  it('zooms about a stage point, which keeps showing the same photo point, within limits', () => {
    const v = fitView(image, stage);
    const before = stageToImage(v, 300, 200);
    const z = zoomAt(v, 3, 300, 200, image, stage);
    expect(z.scale).toBeCloseTo(v.scale * 3, 9);
    const after = stageToImage(z, 300, 200);
    expect(after.x).toBeCloseTo(before.x, 9);
    expect(after.y).toBeCloseTo(before.y, 9);
    expect(zoomAt(v, 1e6, 0, 0, image, stage).scale).toBe(MAX_SCALE);
    expect(zoomAt(v, 1e-6, 0, 0, image, stage).scale).toBe(minScale(image, stage));
  });

  it('pans, but never loses the photo off the stage', () => {
    const v = fitView(image, stage);
    const p = panBy(v, 25, -10, image, stage);
    expect([p.tx - v.tx, p.ty - v.ty]).toEqual([25, -10]);
    const far = panBy(v, 1e6, 1e6, image, stage);
    expect(imageToStage(far, 0, 0).x).toBeLessThanOrEqual(stage.width - 48);
    expect(imageToStage(far, 0, 0).y).toBeLessThanOrEqual(stage.height - 48);
    const farBack = panBy(v, -1e6, -1e6, image, stage);
    expect(imageToStage(farBack, image.width, image.height).x).toBeGreaterThanOrEqual(48);
  });
});
