/**
 * FLUX.2 klein in the studio: a committed fixture folder (a real diffusers
 * folder of Flux2KleinPipeline / Flux2KleinKVPipeline with random weights and
 * toy widths, made by fixtures/make_flux2_fixtures.py) is picked in the pack
 * panel, converted in the engine worker and loaded; then it generates with
 * two subjects on this project's backend, in the reference mode the model
 * was trained in. What the graphs compute is checked against diffusers in
 * Node (workers/convert/flux2/*.test.ts); here: the browser path, and for
 * 9B-kv that each reference's K/V is computed once (the graph runs counted).
 */
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { flux2FixtureDir, pickFixture } from './convert-helpers';
import type { TestGenerateRequest, TestGenerateResult } from '../src/engine-client/test-hook';

const run = (page: Page, req: TestGenerateRequest): Promise<TestGenerateResult> => page.evaluate((r) => window.__subjectStudio!.generate(r), req);

/** Three photos in all: @mochi has two (one masked on its left half), @teddy one. */
const twoSubjects: TestGenerateRequest['subjects'] = [
  { name: 'mochi', classWord: 'cat', imageSeeds: [1, 2], maskHalf: true },
  { name: 'teddy', classWord: 'bear', strength: 1.5, imageSeeds: [3] },
];
const PROMPT = '@mochi and @teddy on a stack of books, watercolor';

/**
 * Converts a klein fixture folder at int4, 64 px (the toy's smallest size) and 64 prompt rows
 * (SwiftShader takes ~50 s a step with the pipelines' 512), and waits until it is loaded.
 */
async function convertKlein(page: Page, model: string, packName: string, blockSize: number): Promise<void> {
  await pickFixture(page, flux2FixtureDir(model), /^FLUX\.2 klein/);
  await expect(page.getByTestId('convert.precision.int4')).toBeChecked();
  await expect(page.getByTestId('convert.panel')).toContainText(blockSize === 32 ? 'int4 (smallest)' : `int4, blocks of ${blockSize}`);
  // FLUX.2 sizes: multiples of 16 px, the usual ones up to 1536; 512 and 1024 picked by default.
  await expect(page.getByTestId('convert.size.512')).toBeChecked();
  await expect(page.getByTestId('convert.size.1024')).toBeChecked();
  await expect(page.getByTestId('convert.size.1536')).not.toBeChecked();
  await page.getByTestId('convert.size.512').uncheck();
  await page.getByTestId('convert.size.1024').uncheck();
  await page.getByTestId('convert.size.64').check();
  await expect(page.getByTestId('convert.prompt-rows')).toHaveValue('512');
  await page.getByTestId('convert.prompt-rows').selectOption('64');
  await page.getByTestId('convert.start').click();
  await expect(page.getByTestId('convert.done')).toContainText(`Converted into ${packName}`, { timeout: 120_000 });
  await expect(page.getByTestId('status.pack')).toHaveAttribute('data-pack-name', packName);
  await expect(page.getByTestId('pack.made')).toContainText('converted from FLUX.2 klein');
  await expect(page.getByTestId('pack.source')).toHaveText('converted in this browser');
  await expect(page.getByTestId('pack.limits')).toContainText('64 tokens');
}

function stepsOf(r: TestGenerateResult): number[] {
  return r.events.filter((e) => e.kind === 'step').map((e) => e.step as number);
}

test.describe('FLUX.2 klein converted in the studio', () => {
  test('klein 4B: converts, follows its 4-step defaults and full reference mode, and generates with two subjects', async ({ page, studio, backend }) => {
    test.setTimeout(300_000);
    await studio.open();
    await expect(page.getByTestId('prompt.negative-unused')).toHaveCount(0);
    await convertKlein(page, 'klein-4b', 'flux2-klein-int4', 32);
    // The settings follow the pack: its size, klein's 4 steps without CFG, and full mode, as klein 4B was trained.
    await expect(page.getByTestId('settings.follow-note')).toContainText('Settings follow flux2-klein-int4: 64\u00a0×\u00a064, 4 steps, text guidance 1');
    await expect(page.getByTestId('settings.follow-note')).toContainText('full references (as the model was trained)');
    // Without text guidance the negative prompt is not used, and the prompt panel says so.
    await expect(page.getByTestId('prompt.negative-unused')).toContainText('Not used at text guidance 1');

    const t0 = Date.now();
    const r = await run(page, { prompt: PROMPT, subjects: twoSubjects, steps: 2, seed: 7 });
    expect(r.error).toBeNull();
    expect(r.refMode).toBe('full');
    expect([r.width, r.height]).toEqual([64, 64]);
    expect(stepsOf(r)).toEqual([1, 2]);
    expect(r.events.filter((e) => e.kind === 'encoding' && e.what === 'references').at(-1)).toMatchObject({ done: 3, total: 3 });
    // Full mode: the references are live tokens of each step; no reference pass runs.
    // Text guidance 1 (no CFG): the prompt alone is encoded, and each step runs two branches, not three.
    expect(r.graphRuns).toMatchObject({ text_encoder: 1, dit_step_full: 2, vae_encoder: 4, vae_decoder: 1 });
    expect(r.graphRuns.dit_reference).toBeUndefined();
    expect(r.std).toBeGreaterThan(0); // random weights: not a picture, but not a flat field either
    console.log(`[${backend}] klein 4B fixture, two subjects, 2 steps at 64 px: ${((Date.now() - t0) / 1000).toFixed(1)} s, runs ${JSON.stringify(r.graphRuns)}`);

    // Same seed, same image (on WASM only: a SwiftShader generation takes ~20 s and CI stays under 15 minutes).
    if (backend === 'wasm') {
      const again = await run(page, { prompt: PROMPT, subjects: twoSubjects, steps: 2, seed: 7 });
      expect(again.error).toBeNull();
      expect([again.mean, again.std]).toEqual([r.mean, r.std]);
    }
  });

  test('klein 9B-kv: runs in cached mode, each reference\'s K/V computed once and reused across prompt edits', async ({ page, studio, backend }) => {
    test.setTimeout(300_000);
    await studio.open();
    await convertKlein(page, 'klein-9b-kv', 'flux2-klein-kv-int4', 16);

    const first = await run(page, { prompt: PROMPT, subjects: twoSubjects, steps: 2, seed: 3 });
    expect(first.error).toBeNull();
    expect(first.refMode).toBe('cached');
    expect(stepsOf(first)).toEqual([1, 2]);
    // Three photos: three reference passes, and three for the black (dropped) reference, one at each
    // reference's place (FLUX.2 gives every reference its own time coordinate, baked into its keys).
    // The black image is VAE-encoded once.
    expect(first.graphRuns).toMatchObject({ text_encoder: 1, dit_reference: 6, vae_encoder: 4, dit_step: 2, vae_decoder: 1 });
    expect(first.graphRuns.dit_step_full).toBeUndefined();

    // A prompt edit: 9B-kv's reference pass reads no text, so nothing of the references runs again.
    // What runs does not depend on the step count: the later generations take one step on SwiftShader.
    const later = backend === 'webgpu' ? 1 : 2;
    const edited = await run(page, { prompt: '@mochi and @teddy in the snow', subjects: twoSubjects, steps: later, seed: 3 });
    expect(edited.error).toBeNull();
    expect(edited.graphRuns).toMatchObject({ dit_step: later, text_encoder: 1 });
    expect(edited.graphRuns.dit_reference).toBeUndefined();
    expect(edited.graphRuns.vae_encoder).toBeUndefined();

    // A new photo for @teddy: one reference pass, for it alone (its black stand-in at that place is cached).
    const newPhoto = await run(page, { prompt: PROMPT, subjects: [twoSubjects[0]!, { ...twoSubjects[1]!, imageSeeds: [4] }], steps: later, seed: 3 });
    expect(newPhoto.error).toBeNull();
    expect(newPhoto.graphRuns).toMatchObject({ dit_reference: 1, vae_encoder: 1 });
    console.log(`[${backend}] first run events: ${first.events.map((e) => `${e.kind}${e.what ? `:${e.what}` : ""}@${e.atMs}`).join(" ")}`);
    console.log(`[${backend}] klein 9B-kv fixture, cached mode, runs: first ${JSON.stringify(first.graphRuns)}, prompt edit ${JSON.stringify(edited.graphRuns)}, new photo ${JSON.stringify(newPhoto.graphRuns)}`);
  });
});
