/**
 * The whole generation on converted SD3 / SD3.5 fixture packs against the
 * diffusers StableDiffusion3Pipeline run on the same folders (committed
 * reference/latents.npy and image.npy): no subject, plain CFG 7, 4 steps,
 * the pipeline's own initial noise. Then METHOD.md section 8 on the same packs.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../node/npy';
import type { NodeEngine } from '../../node/engine';
import { maxAbs, maxAbsDiff } from '../../packbuild/testing/harness';
import { methodSuite } from '../../pipeline/testing/method-suite';
import { testRequest } from '../../pipeline/testing/nodeEngine';
import { folderFromDisk } from '../node-source';
import { fixtureEngine, SD3_FIXTURES, type FixtureModel } from './testing/fixture-packs';

describe.each<FixtureModel>(['sd3', 'sd3.5'])('%s fixture pack vs diffusers StableDiffusion3Pipeline', (model) => {
  let node: NodeEngine;
  beforeAll(async () => {
    node = await fixtureEngine(model);
  }, 60_000);
  afterAll(async () => node?.dispose());

  it('generates the pipeline image from the same noise: latents to 1e-4 relative, pixels within 2/255', async () => {
    const ref = (f: string) => readNpy(join(SD3_FIXTURES, model, 'reference', f));
    const [noise, latents, image] = await Promise.all([ref('noise.npy'), ref('latents.npy'), ref('image.npy')]);
    const result = await node.engine.generate(
      testRequest({ prompt: 'a photo of a cat', negativePrompt: '', subjects: [], width: 256, height: 256, steps: 4, textGuidance: 7, initialNoise: noise.data }),
    );
    expect(maxAbsDiff(result.latents, latents.data)).toBeLessThan(1e-4 * maxAbs(latents.data));
    // image.npy is NHWC floats in [0, 1]; the engine's image is RGBA bytes.
    let worst = 0;
    for (let p = 0; p < 256 * 256; p++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(result.rgba[p * 4 + c]! - 255 * image.data[p * 3 + c]!));
    expect(worst).toBeLessThanOrEqual(2);
  }, 60_000);
});

describe('sd3 fixture pack with the TAESD3 preview decoder', () => {
  it('previews each step through the preview decoder at the image size; the final image is the same as without it', async () => {
    const preview = await folderFromDisk(join(SD3_FIXTURES, '..', 'taesd3'));
    const withPreview = await fixtureEngine('sd3', { preview });
    const plain = await fixtureEngine('sd3');
    try {
      const req = testRequest({ prompt: 'a photo of a cat', subjects: [], width: 128, height: 128, steps: 2, previewEvery: 1 });
      const previews: { width: number; height: number }[] = [];
      const a = await withPreview.engine.generate(req, (p) => {
        if (p.kind === 'step' && p.preview) previews.push({ width: p.preview.width, height: p.preview.height });
      });
      expect(previews).toEqual([
        { width: 128, height: 128 },
        { width: 128, height: 128 },
      ]);
      const latentPreviews: number[] = [];
      const b = await plain.engine.generate(req, (p) => {
        if (p.kind === 'step' && p.preview) latentPreviews.push(p.preview.width);
      });
      expect(latentPreviews).toEqual([16, 16]);
      expect(maxAbsDiff(a.latents, b.latents)).toBe(0);
    } finally {
      await withPreview.dispose();
      await plain.dispose();
    }
  }, 60_000);
});

for (const model of ['sd3', 'sd3.5'] as const) {
  methodSuite(`${model} fixture pack`, async () => (await fixtureEngine(model)).engine, { size: 128, grid: 8 });
}
