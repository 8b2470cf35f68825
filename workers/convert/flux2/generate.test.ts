/**
 * The studio's whole generation on converted FLUX.2 klein fixture packs (convertModelFolder, the
 * engine in Node on WASM) against diffusers' Flux2KleinPipeline run on the same folders and noise
 * (reference/pipe.*): text through the pack's tokenizer, chat template and Qwen3 graph, the klein
 * schedule, the sampler's branches (distilled: text guidance 1, so the combine is the prompt's
 * velocity alone; base: CFG 4 with the "" negative), the VAE decoder. Then METHOD.md section 8 on
 * the same packs.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../node/npy';
import type { NodeEngine } from '../../node/engine';
import { maxAbs, maxAbsDiff } from '../../packbuild/testing/harness';
import { methodSuite } from '../../pipeline/testing/method-suite';
import { testRequest } from '../../pipeline/testing/nodeEngine';
import { convertedEngine } from '../testing/converted-pack';

const FIXTURES = new URL('../../../fixtures/flux2/', import.meta.url).pathname;
/** The fixture pipelines' image (64 x 96 px) and max_sequence_length. */
const WIDTH = 96;
const HEIGHT = 64;
const PACK = { sizes: [64], extraResolutions: [{ width: WIDTH, height: HEIGHT }], maxTextTokens: 64 };

for (const [variant, steps, cfg] of [
  ['klein-4b', 4, 1],
  ['klein-base-4b', 3, 4],
] as const) {
  describe(`${variant} fixture pack vs diffusers Flux2KleinPipeline`, () => {
    let node: NodeEngine;
    beforeAll(async () => {
      node = await convertedEngine(join(FIXTURES, variant), PACK);
    }, 60_000);
    afterAll(async () => node?.dispose());

    it(`generates the pipeline image from the same noise (${steps} steps, ${cfg === 1 ? 'no CFG' : `CFG ${cfg}`}): latents to 1e-4 of max |ref|, pixels within 2/255`, async () => {
      const ref = (f: string) => readNpy(join(FIXTURES, variant, 'reference', f));
      const [noise, stepLatents, image] = await Promise.all([ref('pipe.noise.npy'), ref('pipe.step_latents.npy'), ref('pipe.image.npy')]);
      const result = await node.engine.generate(
        testRequest({ prompt: 'a photo of a cat', negativePrompt: '', subjects: [], width: WIDTH, height: HEIGHT, steps, textGuidance: cfg, initialNoise: noise.data }),
      );
      // The engine's latents are the [C, h, w] grid; the pipeline's last step is row-major tokens [h w, C].
      const C = noise.shape[1]!;
      const n = (HEIGHT / 16) * (WIDTH / 16);
      const last = stepLatents.data.subarray((steps - 1) * n * C, steps * n * C);
      const tokens = Float32Array.from({ length: n * C }, (_, i) => result.latents[(i % C) * n + Math.floor(i / C)]!);
      expect(maxAbsDiff(tokens, last) / maxAbs(last)).toBeLessThan(1e-4);
      let worst = 0;
      for (let p = 0; p < WIDTH * HEIGHT; p++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(result.rgba[p * 4 + c]! - 255 * image.data[p * 3 + c]!));
      console.info(`${variant}: max pixel difference ${worst.toFixed(2)} / 255`);
      expect(worst).toBeLessThanOrEqual(2);
    }, 60_000);
  });
}

for (const variant of ['klein-4b', 'klein-9b-kv'] as const) {
  methodSuite(`${variant} fixture pack`, async () => (await convertedEngine(join(FIXTURES, variant), PACK)).engine, { size: 64, grid: 4, fullModeRefsAtStepTimestep: true });
}
