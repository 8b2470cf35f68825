/**
 * Generate from the panel and the gallery, through the real UI on the
 * project's backend: progress and preview, no long tasks on the main thread,
 * cancel, the PNG with its embedded request (download, import, drop), view,
 * compare, reuse, delete with undo, and a gallery that survives a reload.
 */
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import extractChunks from 'png-chunks-extract';
import { decode as decodeText } from 'png-chunk-text';
import { expect, test } from './fixtures';

const CAT_PHOTO = new URL('./photos/chelsea.png', import.meta.url);

/**
 * Puts a photo and a painted mask in the blob store and makes @mochi of
 * them, as the subjects panel would (its own spec covers that UI).
 */
async function addMochi(page: Page): Promise<void> {
  const photo = [...readFileSync(CAT_PHOTO)];
  await page.evaluate(async (bytes) => {
    const put = (id: string, blob: Blob) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('subject-studio-blobs');
        open.onupgradeneeded = () => open.result.createObjectStore('blobs');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction('blobs', 'readwrite');
          tx.objectStore('blobs').put(blob, id);
          tx.oncomplete = () => (open.result.close(), resolve());
          tx.onerror = () => reject(tx.error);
        };
      });
    const mask = new Uint8Array(64 * 48).map((_, i) => (i % 64 < 40 ? 255 : 0));
    await put('e2e-photo-chelsea', new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
    await put('e2e-mask-chelsea', new Blob([mask]));
    const { actions } = window.__subjectStudio!.stores.subjects.getState();
    const s = actions.addSubject({ name: 'mochi', classWord: 'cat' });
    actions.addImages(s.id, [{ id: 'e2e-photo-chelsea', fileName: 'chelsea.png', width: 451, height: 300, mask: { id: 'e2e-mask-chelsea', width: 64, height: 48 } }]);
  }, photo);
}

async function setRequest(page: Page, prompt: string, settings: { steps: number; seed: number; width?: number; height?: number }): Promise<void> {
  await page.evaluate(
    ([p, s]) => {
      const { stores } = window.__subjectStudio!;
      stores.prompt.getState().actions.setPrompt(p);
      stores.settings.getState().actions.patch({ width: 128, height: 128, randomSeed: false, ...s });
    },
    [prompt, settings] as const,
  );
}

interface Watched {
  /** aria-valuenow of the progress bar, each change. */
  values: number[];
  /** data-step of the preview canvas, each change, with whether it had a picture (not one flat colour). */
  previews: { step: number; drawn: boolean }[];
  /** Durations of the main thread's long tasks (over 50 ms). */
  longTasks: number[];
  /** Where long animation frames spent their time, to tell what a long task was. */
  frames: string[];
}

/**
 * Records, from now on, every change of the progress bar and the preview
 * (checked each animation frame, so quick WASM steps are seen) and every long task.
 */
async function startWatching(page: Page): Promise<void> {
  await page.evaluate(() => {
    const watched: Watched = { values: [], previews: [], longTasks: [], frames: [] };
    const tasks = new PerformanceObserver((list) => list.getEntries().forEach((e) => watched.longTasks.push(e.duration)));
    tasks.observe({ type: 'longtask' });
    const frames = new PerformanceObserver((list) =>
      list.getEntries().forEach((e) => {
        const scripts = (e as unknown as { scripts: { invoker: string; sourceFunctionName: string; duration: number }[] }).scripts;
        watched.frames.push(`${e.duration.toFixed(0)} ms: ${scripts.map((s) => `${s.invoker} ${s.sourceFunctionName} ${s.duration.toFixed(0)}`).join(', ')}`);
      }),
    );
    frames.observe({ type: 'long-animation-frame' });
    let raf = 0;
    const sample = () => {
      const v = document.querySelector('[data-testid="generate.progress"]')?.getAttribute('aria-valuenow');
      if (v != null && Number(v) !== watched.values.at(-1)) watched.values.push(Number(v));
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="generate.preview"]');
      const step = Number(canvas?.dataset.step ?? 0);
      if (canvas && step > 0 && step !== watched.previews.at(-1)?.step) {
        const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        watched.previews.push({ step, drawn: px.some((x, i) => i % 4 !== 3 && x !== px[0]) });
      }
      raf = requestAnimationFrame(sample);
    };
    raf = requestAnimationFrame(sample);
    (window as unknown as { __watch: { watched: Watched; stop(): void } }).__watch = {
      watched,
      stop: () => (tasks.disconnect(), frames.disconnect(), cancelAnimationFrame(raf)),
    };
  });
}

async function stopWatching(page: Page): Promise<Watched> {
  return page.evaluate(() => {
    const w = (window as unknown as { __watch: { watched: Watched; stop(): void } }).__watch;
    w.stop();
    return w.watched;
  });
}

const galleryItems = (page: Page) => page.getByTestId('gallery.item');

/** Waits (checking every frame: WASM steps are quick) until the progress bar reaches `step`. */
async function waitForStep(page: Page, step: number): Promise<void> {
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="generate.progress"]')?.getAttribute('aria-valuenow')) >= n, step, { polling: 'raf' });
}

async function generateOnce(page: Page, expectedCount: number): Promise<void> {
  await page.getByTestId('generate.button').click();
  await expect(galleryItems(page)).toHaveCount(expectedCount);
  await expect(page.getByTestId('generate.cancel')).toBeDisabled();
}

test('generates from the button with progress and preview, no long tasks; the PNG carries its request out and back in; the gallery survives a reload', async ({ studio, backend, page }) => {
  test.setTimeout(180_000);
  await studio.open();
  await addMochi(page);
  // WebGPU here is SwiftShader (~1.4 s a step): 3 steps; WASM steps take ~20 ms: enough of them to watch.
  const steps = backend === 'wasm' ? 12 : 3;
  await setRequest(page, '@mochi asleep on a stack of books, watercolor', { steps, seed: 4242 });
  await expect(galleryItems(page)).toHaveCount(0);

  await startWatching(page);
  await page.getByTestId('generate.button').click();
  await expect(page.getByTestId('generate.progress')).toHaveAttribute('aria-valuemax', String(steps));
  await expect(galleryItems(page)).toHaveCount(1);
  const watched = await stopWatching(page);
  const maxLongTask = Math.max(0, ...watched.longTasks);
  console.log(
    `[${backend}] progress ${JSON.stringify(watched.values)}, previews at steps ${JSON.stringify(watched.previews.map((p) => p.step))}; ` +
      `long tasks during the generation: ${watched.longTasks.length}, max ${maxLongTask.toFixed(0)} ms${watched.frames.length ? `; long frames: ${watched.frames.join(' | ')}` : ''}`,
  );
  expect(watched.values.filter((v) => v > 0).length, 'the bar advanced step by step').toBeGreaterThanOrEqual(2);
  expect(watched.values).toEqual([...watched.values].sort((a, b) => a - b));
  expect(watched.values.at(-1)).toBe(steps);
  // The preview showed the picture of more than one step, each drawn.
  expect(watched.previews.length).toBeGreaterThanOrEqual(2);
  expect(watched.previews.every((p) => p.drawn)).toBe(true);
  expect(watched.longTasks, 'main-thread tasks over 50 ms during a generation').toEqual([]);

  const result = page.getByTestId('generate.result');
  await expect(result).toHaveAttribute('data-seed', '4242');
  await expect(result).not.toHaveAttribute('data-gallery-id', '');
  // The result is an image, not a blank canvas.
  const spread = await result.evaluate((c: HTMLCanvasElement) => {
    const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let lo = 255;
    let hi = 0;
    for (let i = 0; i < px.length; i += 4) (lo = Math.min(lo, px[i]!)), (hi = Math.max(hi, px[i]!));
    return [c.width, c.height, hi - lo];
  });
  expect(spread.slice(0, 2)).toEqual([128, 128]);
  expect(spread[2]).toBeGreaterThan(20);

  // Download: the PNG's tEXt chunk "subject-studio" holds the full request.
  await galleryItems(page).first().getByRole('button').click();
  const view = page.getByTestId('gallery.view');
  await expect(view).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent('download'), view.getByTestId('gallery.download').click()]);
  expect(download.suggestedFilename()).toMatch(/^subject-studio-.*seed4242\.png$/);
  const pngPath = test.info().outputPath('downloaded.png');
  await download.saveAs(pngPath);
  const chunks = extractChunks(readFileSync(pngPath));
  expect(chunks.map((c) => c.name)).toContain('IDAT');
  const text = chunks.filter((c) => c.name === 'tEXt').map((c) => decodeText(c.data)).find((t) => t.keyword === 'subject-studio');
  const embedded = JSON.parse(text!.text);
  expect(embedded).toMatchObject({ version: 1, prompt: '@mochi asleep on a stack of books, watercolor', seed: 4242, settings: { steps, width: 128, height: 128 } });
  expect(embedded.subjects).toHaveLength(1);
  expect(embedded.subjects[0]).toMatchObject({ name: 'mochi', classWord: 'cat', images: [{ id: 'e2e-photo-chelsea', mask: { id: 'e2e-mask-chelsea' } }] });
  expect(embedded.pack).toMatchObject({ name: expect.any(String), version: expect.any(String) });
  await page.keyboard.press('Escape');
  await expect(view).toBeHidden();

  // Clear the prompt and change the settings, then import the PNG: the request comes back.
  await setRequest(page, '', { steps: 9, seed: 1 });
  await page.getByTestId('gallery.import').setInputFiles(pngPath);
  await expect(page.getByTestId('gallery.message')).toContainText('Restored the prompt, subjects and settings');
  await expect(page.getByTestId('gallery.message')).toContainText('already in the gallery');
  const restored = await page.evaluate(() => {
    const { stores } = window.__subjectStudio!;
    return { prompt: stores.prompt.getState().prompt, settings: stores.settings.getState().settings, subjects: stores.subjects.getState().subjects.map((s) => s.name) };
  });
  expect(restored).toMatchObject({ prompt: '@mochi asleep on a stack of books, watercolor', settings: { steps, seed: 4242, randomSeed: false }, subjects: ['mochi'] });
  await expect(galleryItems(page)).toHaveCount(1);

  // A PNG from elsewhere, dropped on the gallery: nothing to restore, and the user is told.
  const plain = [...readFileSync(new URL('./photos/coffee.png', import.meta.url))];
  const dataTransfer = await page.evaluateHandle((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], 'coffee.png', { type: 'image/png' }));
    return dt;
  }, plain);
  await page.getByTestId('gallery').dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('gallery.message')).toHaveText(/“coffee\.png” has no Subject Studio metadata/);
  await expect(galleryItems(page)).toHaveCount(1);

  // Reload: the entry, its PNG and the restored prompt are all still there.
  const pngId = await galleryItems(page).first().getAttribute('data-png-id');
  await page.reload();
  await expect(studio.packStatus).toBeVisible();
  await expect(galleryItems(page)).toHaveCount(1);
  await expect(galleryItems(page).first().locator('img')).toHaveJSProperty('naturalWidth', 128);
  const stored = await page.evaluate((id) => window.__subjectStudio!.readBlob(id), pngId!);
  expect(Buffer.from(stored!).equals(readFileSync(pngPath))).toBe(true);
  expect(await page.evaluate(() => window.__subjectStudio!.stores.prompt.getState().prompt)).toBe('@mochi asleep on a stack of books, watercolor');
});

test('Cancel stops a long run midway: the gallery does not grow and the panel is ready again', async ({ studio, backend, page }) => {
  test.setTimeout(120_000);
  await studio.open();
  await addMochi(page);
  // WASM steps take ~20 ms here: the most steps the settings allow leave time to cancel.
  await setRequest(page, '@mochi next to a lighthouse at dusk', { steps: backend === 'wasm' ? 100 : 12, seed: 3 });
  await page.getByTestId('generate.button').click();
  await waitForStep(page, 1);
  await page.getByTestId('generate.cancel').click();
  await expect(page.getByTestId('generate.notice')).toHaveText(/^Cancelled after step \d+ of \d+\.$/);
  const notice = await page.getByTestId('generate.notice').innerText();
  const [, at, of] = /step (\d+) of (\d+)/.exec(notice)!;
  console.log(`[${backend}] ${notice}`);
  expect(Number(at)).toBeLessThan(Number(of));
  await expect(page.getByTestId('generate.progress')).toHaveCount(0);
  await expect(page.getByTestId('generate.cancel')).toBeDisabled();
  await expect(page.getByTestId('generate.button')).toBeEnabled();
  await expect(page.getByTestId('generate.error')).toHaveCount(0);
  // Nothing was saved, not even late.
  await page.waitForTimeout(500);
  await expect(galleryItems(page)).toHaveCount(0);
  await expect(page.getByTestId('generate.result')).toHaveCount(0);
});

test('says what is missing before any run: an empty prompt, a subject that does not exist', async ({ studio, page }) => {
  await studio.open();
  await setRequest(page, '   ', { steps: 2, seed: 1 });
  await page.getByTestId('generate.button').click();
  await expect(page.getByTestId('generate.error')).toHaveText(/^Write a prompt first/);
  await expect(page.getByTestId('generate.progress')).toHaveCount(0);

  await setRequest(page, '@ghost in the attic', { steps: 2, seed: 1 });
  await page.getByTestId('generate.button').click();
  await expect(page.getByTestId('generate.error')).toContainText('The prompt names @ghost, but there is no such subject');
  await expect(page.getByTestId('generate.error')).toContainText('You have no subjects yet.');
  await expect(page.getByTestId('generate.progress')).toHaveCount(0);
  await expect(galleryItems(page)).toHaveCount(0);
});

test('views, compares, reuses and deletes (with undo) gallery images', async ({ studio, page }) => {
  test.setTimeout(180_000);
  await studio.open();
  await setRequest(page, 'a red mug on a wooden table', { steps: 2, seed: 11 });
  await generateOnce(page, 1);
  await setRequest(page, 'a blue mug in the snow', { steps: 2, seed: 22 });
  await generateOnce(page, 2);

  // View: newest first; arrows move, Escape closes.
  await galleryItems(page).first().getByRole('button').click();
  const view = page.getByTestId('gallery.view');
  await expect(view).toHaveAttribute('open', '');
  await expect(view.locator('[data-index]')).toHaveAttribute('data-index', '0');
  await expect(view.getByTestId('gallery.details')).toContainText('a blue mug in the snow');
  await page.keyboard.press('ArrowRight');
  await expect(view.locator('[data-index]')).toHaveAttribute('data-index', '1');
  await expect(view.getByTestId('gallery.details')).toContainText('a red mug on a wooden table');
  await page.keyboard.press('ArrowRight');
  await expect(view.locator('[data-index]')).toHaveAttribute('data-index', '1');
  await page.keyboard.press('ArrowLeft');
  await expect(view.locator('[data-index]')).toHaveAttribute('data-index', '0');
  await page.keyboard.press('Escape');
  await expect(view).toHaveCount(0);

  // Compare: pick both, side by side, the differing fields marked.
  const compare = page.getByTestId('gallery.compare');
  await expect(compare).toBeDisabled();
  await galleryItems(page).nth(0).getByRole('checkbox').check();
  await galleryItems(page).nth(1).getByRole('checkbox').check();
  await compare.click();
  const side = page.getByTestId('gallery.compare-view');
  await expect(side.locator('img')).toHaveCount(2);
  // Prompt and seed differ (and the time each took); the settings do not.
  const differing = await side.locator('tr[data-differs="true"] th').allInnerTexts();
  expect(differing).toEqual(expect.arrayContaining(['Prompt', 'Seed']));
  expect(differing).not.toContain('Steps');
  expect(differing).not.toContain('Size');
  await page.keyboard.press('Escape');
  await expect(side).toHaveCount(0);

  // Reuse the older image: its prompt and seed come back.
  await galleryItems(page).nth(1).getByRole('button').click();
  await view.getByTestId('gallery.reuse').click();
  await expect(view).toHaveCount(0);
  await expect(page.getByTestId('gallery.message')).toContainText('Restored the prompt, subjects and settings of this image (seed 11)');
  expect(
    await page.evaluate(() => {
      const { stores } = window.__subjectStudio!;
      return [stores.prompt.getState().prompt, stores.settings.getState().settings.seed];
    }),
  ).toEqual(['a red mug on a wooden table', 11]);

  // Delete, then undo.
  await galleryItems(page).first().getByRole('button').click();
  await view.getByTestId('gallery.delete').click();
  await expect(galleryItems(page)).toHaveCount(1);
  await expect(page.getByTestId('gallery.message')).toContainText('Deleted the image.');
  await page.getByTestId('gallery.undo').click();
  await expect(galleryItems(page)).toHaveCount(2);
  expect(await page.evaluate(() => window.__subjectStudio!.stores.gallery.getState().entries.map((e) => e.request.seed))).toEqual([22, 11]);
});
