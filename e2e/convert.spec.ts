/**
 * Converting a model folder in the studio: the committed SD3 fixture folder
 * (a real diffusers folder with random weights and toy widths) is picked in
 * the pack panel, converted in the engine worker with progress, stored in
 * OPFS and loaded; it generates with a subject; after a reload it is in the
 * cached list and loads from there, with no conversion. A cancelled
 * conversion leaves the cache exactly as it was.
 */
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { expect, test, testPackManifest } from './fixtures';
import { addMochi, setRequest } from './generate-helpers';

const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/sd3/sd3', import.meta.url));
const testPack = testPackManifest().name;
const SCREENSHOTS = process.env.CONVERT_SCREENSHOTS;

/** Every text the conversion's progress line shows from now on (it changes faster than a test can poll). */
async function recordProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __convertProgress: string[] }).__convertProgress = seen;
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="convert.progress.text"]')?.textContent;
      if (text && text !== seen.at(-1)) seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

const progressSeen = (page: Page) => page.evaluate(() => (window as unknown as { __convertProgress: string[] }).__convertProgress);

/** The pack cache in OPFS: every record, complete blob and partial file. */
function opfsCache(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(async () => {
    const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('pack-cache', { create: true });
    const out: Record<string, string[]> = {};
    for (const name of ['blobs', 'partial', 'packs']) {
      const dir = (await root.getDirectoryHandle(name, { create: true })) as FileSystemDirectoryHandle & { keys(): AsyncIterable<string> };
      const names: string[] = [];
      for await (const n of dir.keys()) if (n !== '.probe') names.push(n);
      out[name] = names.sort();
    }
    return out;
  });
}

/** Picks the fixture folder in the panel and waits until the model is described. */
async function pickFixture(page: Page): Promise<void> {
  await page.getByTestId('convert.folder').setInputFiles(FIXTURE_DIR);
  await expect(page.getByTestId('convert.model')).toContainText('Stable Diffusion 3');
}

/**
 * The default precision, int4 (in blocks of 16: the fixture's pooled width is 80), and 64 px, its
 * smallest size: SwiftShader (WebGPU on the CPU here) takes ~40 s for this VAE at 128 px, ~9 s at 64.
 */
async function chooseSmallOptions(page: Page): Promise<void> {
  // The defaults: int4 and the largest size subjects allow on this toy (176 px).
  await expect(page.getByTestId('convert.precision.int4')).toBeChecked();
  await expect(page.getByTestId('convert.panel')).toContainText('int4, blocks of 16');
  await expect(page.getByTestId('convert.size.176')).toBeChecked();
  await page.getByTestId('convert.size.176').uncheck();
  await expect(page.getByTestId('convert.start')).toBeDisabled();
  await page.getByTestId('convert.size.64').check();
}

/**
 * Delays every file read in the engine worker by `ms`: the toy folder converts in well under a
 * second, too fast to watch or cancel midway. The converter reads each tensor with its own
 * File.slice(), so this slows the reading phase only, in the test's own code.
 */
async function slowReads(page: Page, ms: number): Promise<void> {
  const engine = page.workers().find((w) => w.url().includes('engine.worker'));
  if (!engine) throw new Error(`no engine worker among ${page.workers().map((w) => w.url()).join(', ')}`);
  await engine.evaluate((delay) => {
    const read = Blob.prototype.arrayBuffer;
    Blob.prototype.arrayBuffer = async function (this: Blob) {
      await new Promise((r) => setTimeout(r, delay));
      return read.call(this);
    };
  }, ms);
}

test.describe('converting a model folder in the studio', () => {
  test('converts the SD3 fixture with progress, generates with a subject, and loads it from the cache after a reload', async ({ page, studio }) => {
    // SwiftShader on a 2-core machine: the generation alone takes a minute or more on WebGPU.
    test.setTimeout(360_000);
    await studio.open();
    await expect(studio.packStatus).toHaveAttribute('data-pack-name', testPack);
    await recordProgress(page);
    await pickFixture(page);
    await chooseSmallOptions(page);
    await slowReads(page, SCREENSHOTS ? 20 : 2);
    await page.getByTestId('convert.start').click();
    await expect(page.getByTestId('convert.progress.text')).toContainText(/ of .* tensors/);
    await expect(page.getByTestId('convert.progress.bar')).toBeVisible();
    if (SCREENSHOTS) await page.getByTestId('pack.panel').screenshot({ path: `${SCREENSHOTS}/convert-progress-${studio.backend}.png` });

    await expect(page.getByTestId('convert.done')).toContainText('Converted into sd3-int4');
    await expect(studio.packStatus).toHaveAttribute('data-pack-name', 'sd3-int4');
    const seen = await progressSeen(page);
    expect(seen.some((t) => /^Reading the (text encoders|VAE|transformer): [\d.]+ (B|KiB|MiB) of [\d.]+ MiB · \d+\/\d+ tensors/.test(t)), seen.join('\n')).toBe(true);
    expect(seen.some((t) => t.startsWith('Storing the pack in this browser: ')), seen.join('\n')).toBe(true);
    // What the pack panel says of any loaded pack.
    await expect(page.getByTestId('pack.made')).toContainText('converted from Stable Diffusion 3');
    await expect(page.getByTestId('pack.source')).toHaveText('converted in this browser');
    await expect(page.getByTestId('pack.precision')).toContainText('int4 (block 16)');
    await expect(page.getByTestId('pack.storage')).toContainText('in this browser');
    await expect(page.getByTestId('pack.memory.plan')).toContainText('64×64');
    await expect(page.getByTestId('pack.cached.item').filter({ hasText: 'sd3-int4' })).toContainText('in use');
    if (SCREENSHOTS) await page.getByTestId('pack.panel').screenshot({ path: `${SCREENSHOTS}/convert-done-${studio.backend}.png` });

    // One subject, 2 steps at 64 px.
    await addMochi(page);
    await setRequest(page, '@mochi on a table', { steps: 2, seed: 1 });
    await page.evaluate(() => window.__subjectStudio!.stores.settings.getState().actions.patch({ width: 64, height: 64 }));
    const t0 = Date.now();
    await page.getByTestId('generate.button').click();
    await expect(page.getByTestId('generate.result')).toBeVisible({ timeout: 240_000 });
    console.log(`[${studio.backend}] converted pack, one subject, 2 steps at 64 px: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // A reload starts on the test pack; the converted one is in the cached list and loads from there.
    await page.reload();
    await expect(studio.packStatus).toHaveAttribute('data-pack-name', testPack);
    const cached = page.getByTestId('pack.cached.item').filter({ hasText: 'sd3-int4' });
    await expect(cached).toHaveCount(1);
    await cached.getByTestId('pack.cached.load').click();
    await expect(studio.packStatus).toHaveAttribute('data-pack-name', 'sd3-int4');
    await expect(page.getByTestId('pack.source')).toHaveText('converted in this browser');
    await expect(page.getByTestId('convert.progress')).toHaveCount(0);
    await expect(page.getByTestId('convert.done')).toHaveCount(0);
  });

  test('a cancelled conversion leaves the cache as it was and the current pack loaded', async ({ page, studio, backend }) => {
    // Cancel stops the conversion before any graph runs: the same code on both backends, so once (on WASM: quicker pages).
    test.skip(backend === 'webgpu', 'backend-independent; runs on the wasm project');
    await studio.open();
    await expect(studio.packStatus).toHaveAttribute('data-pack-name', testPack);
    const before = await opfsCache(page);
    await pickFixture(page);
    await chooseSmallOptions(page);
    await slowReads(page, 10);
    await page.getByTestId('convert.start').click();
    await expect(page.getByTestId('convert.progress.text')).toContainText(/ of .* tensors/);
    await page.getByTestId('convert.cancel').click();
    await expect(page.getByTestId('convert.error')).toContainText('The conversion was cancelled: nothing was saved');
    await expect(page.getByTestId('convert.progress')).toHaveCount(0);
    await expect(studio.packStatus).toHaveAttribute('data-pack-name', testPack);
    expect(await opfsCache(page)).toEqual(before);
    await expect(page.getByTestId('pack.cached.item')).toHaveCount(1);
  });
});
