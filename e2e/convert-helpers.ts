/** What the convert specs share: picking the fixture folder, small options, slow reads, the OPFS cache. */
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { expect } from './fixtures';

const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/sd3/sd3', import.meta.url));
/** A committed FLUX.2 klein fixture folder (klein-4b, klein-base-4b, klein-9b-kv). */
export const flux2FixtureDir = (model: string) => fileURLToPath(new URL(`../fixtures/flux2/${model}`, import.meta.url));

/** Every text the conversion's progress line shows from now on (it changes faster than a test can poll). */
export async function recordProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __convertProgress: string[] }).__convertProgress = seen;
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="convert.progress.text"]')?.textContent;
      if (text && text !== seen.at(-1)) seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

export const progressSeen = (page: Page) => page.evaluate(() => (window as unknown as { __convertProgress: string[] }).__convertProgress);

/** The pack cache in OPFS: every record, complete blob and partial file. */
export function opfsCache(page: Page): Promise<Record<string, string[]>> {
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

/** Picks a fixture folder (the SD3 one unless said) in the panel and waits until the model is described. */
export async function pickFixture(page: Page, dir = FIXTURE_DIR, described: string | RegExp = 'Stable Diffusion 3'): Promise<void> {
  await page.getByTestId('convert.folder').setInputFiles(dir);
  await expect(page.getByTestId('convert.model')).toContainText(described);
}

/**
 * The default precision, int4 (in blocks of 16: the fixture's pooled width is 80), and 64 px, its
 * smallest size: SwiftShader (WebGPU on the CPU here) takes ~40 s for this VAE at 128 px, ~9 s at 64.
 */
export async function chooseSmallOptions(page: Page): Promise<void> {
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
export async function slowReads(page: Page, ms: number): Promise<void> {
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

