/**
 * Engine recovery: the engine worker dies in the middle of a generation. The
 * studio says what happened, starts a fresh engine on the same backend and
 * pack, keeps everything the user made, and generates again.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { addMochi, galleryItems, generateOnce, setRequest, waitForStep } from './generate-helpers';

/** What the user made, as the stores hold it. */
function userData(page: Page) {
  return page.evaluate(() => {
    const { stores } = window.__subjectStudio!;
    return {
      prompt: stores.prompt.getState().prompt,
      subjects: stores.subjects.getState().subjects.map((s) => ({ name: s.name, images: s.images.map((i) => i.id) })),
      gallery: stores.gallery.getState().entries.map((e) => e.pngId),
      steps: stores.settings.getState().settings.steps,
    };
  });
}

/**
 * Kills the engine worker the way a crash does: an uncaught error, then the
 * worker is gone and never answers again. Run inside the worker itself
 * (Playwright reaches workers directly), so the app carries no test-only code for it.
 */
async function crashEngineWorker(page: Page): Promise<void> {
  const worker = page.workers().find((w) => /engine\.worker/.test(w.url()));
  if (!worker) throw new Error(`no engine worker among ${page.workers().map((w) => w.url()).join(', ')}`);
  await worker.evaluate(() => {
    setTimeout(() => {
      setTimeout(() => self.close(), 0);
      throw new Error('crash for test: the engine worker was stopped on purpose');
    }, 0);
  });
}

test('a worker crash during a generation: the studio says so, restarts the engine, keeps subjects, prompt and gallery, and generates again', async ({ studio, backend, page }) => {
  test.setTimeout(180_000);
  await studio.open();
  await addMochi(page, { mask: false });
  await setRequest(page, '@mochi by the window, morning light', { steps: 2, seed: 5 });
  await generateOnce(page, 1);

  // A long run (WASM steps take ~20 ms here: the most steps the settings allow), crashed once it is under way.
  await page.evaluate((steps) => window.__subjectStudio!.stores.settings.getState().actions.patch({ steps }), backend === 'wasm' ? 100 : 12);
  const before = await userData(page);
  await page.getByTestId('generate.button').click();
  await waitForStep(page, 1);
  await crashEngineWorker(page);
  const crashedAt = Date.now();

  const message = page.getByTestId('recovery.message');
  await expect(message).toContainText('The engine stopped (the engine worker failed:');
  await expect(message).toContainText('crash for test');
  await expect(message).toHaveAttribute('data-phase', 'restarted');
  await expect(message).toContainText('it was restarted. Your subjects, prompt and gallery are safe.');
  console.log(`[${backend}] engine restarted ${Date.now() - crashedAt} ms after the crash`);
  // The run that was going is over, and the panel says so instead of hanging.
  await expect(page.getByTestId('generate.progress')).toHaveCount(0);
  await expect(page.getByTestId('generate.cancel')).toBeDisabled();
  await expect(page.getByTestId('generate.notice')).toContainText('The generation that was running is lost');
  await expect(page.getByTestId('generate.error')).toHaveCount(0);
  // The app's crash banner described the dead worker; once restarted it is gone.
  await expect(page.getByTestId('studio.problems')).toHaveCount(0);

  expect(await userData(page)).toEqual(before);
  await expect(galleryItems(page)).toHaveCount(1);
  // A fresh worker on the same backend with the pack loaded.
  const status = await studio.status();
  expect(status.backend).toBe(backend);
  expect(status.pack).not.toBeNull();
  await expect.poll(() => page.workers().filter((w) => /engine\.worker/.test(w.url())).length).toBe(1);
  await expect(studio.backendStatus).toHaveAttribute('data-backend', backend);

  await page.evaluate(() => window.__subjectStudio!.stores.settings.getState().actions.patch({ steps: 2 }));
  await generateOnce(page, 2);
  await expect(page.getByTestId('generate.result')).not.toHaveAttribute('data-gallery-id', '');
  await expect(page.getByTestId('generate.error')).toHaveCount(0);
});

test('the status line shows the attention choice and memory, and fits a 1024x768 window', async ({ studio, page }) => {
  await page.setViewportSize({ width: 1024, height: 768 });
  await studio.open();
  const status = await studio.status();
  const dit = status.attentionChoice?.dit_step;
  expect(dit).toMatch(/^(mha|decomposed)$/);
  await expect(page.getByTestId('status.attention')).toHaveText(dit === 'mha' ? 'fused' : 'decomposed');
  await expect(page.getByTestId('status.memory')).toContainText(/disk \d/);
  const bar = page.getByTestId('status');
  const fits = await bar.evaluate((el) => ({ bar: el.scrollWidth <= el.clientWidth, page: document.documentElement.scrollWidth <= window.innerWidth, height: el.getBoundingClientRect().height }));
  expect(fits.bar && fits.page).toBe(true);
  // Compact: at most two lines of status.
  expect(fits.height).toBeLessThan(64);
});
