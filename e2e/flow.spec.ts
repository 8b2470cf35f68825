/**
 * The whole studio as a person uses it, through the UI only: drop two real
 * photos, name them, paint a mask with the mouse (undo, redo), write a prompt
 * with two @mentions picked from the autocomplete, generate and watch the
 * progress, cancel a run, reload and find everything, then take the PNG out
 * and back in.
 */
import { expect, test } from './fixtures';
import { startWatching, stopWatching, waitForStep } from './generate-helpers';
import { count, paint, saved, storedMask, type Seeded } from './mask/helpers';
import { dropFiles, photo } from './subjects/helpers';

test('drop, paint, prompt, generate, cancel, reload, PNG out and back in', async ({ studio, page, backend }) => {
  test.setTimeout(420_000);
  await studio.open();
  await page.waitForFunction(() => window.__subjectStudio?.stores.subjects.persist.hasHydrated() === true);

  // 1. Two real photos by drag and drop, each its own subject.
  await dropFiles(page, [photo('chelsea.png')]);
  await expect(page.getByTestId('subject.image')).toHaveCount(1);
  await page.getByTestId('subject.name').first().fill('mochi');
  await page.getByTestId('subject.class').first().fill('cat');
  await page.getByTestId('subjects.add').click();
  await dropFiles(page, [photo('coffee.png')]);
  await expect(page.getByTestId('subject.image')).toHaveCount(2);
  await page.getByTestId('subject.name').nth(1).fill('mug');
  await page.getByTestId('subject.class').nth(1).fill('cup');
  await page.getByTestId('subject.name').nth(1).press('Tab');
  const subjects = () => page.evaluate(() => window.__subjectStudio!.stores.subjects.getState().subjects.map((s) => ({ id: s.id, name: s.name, images: s.images })));
  await expect.poll(async () => (await subjects()).map((s) => s.name)).toEqual(['mochi', 'mug']);

  // 2. Paint a mask over the cat's left half with the mouse; undo and redo it.
  const mochi = (await subjects())[0]!;
  const seeded: Seeded = { subjectId: mochi.id, imageId: mochi.images[0]!.id, width: mochi.images[0]!.width, height: mochi.images[0]!.height };
  await page.getByTestId('subject.editMask').first().click();
  await expect(page.getByTestId('mask.dialog')).toHaveAttribute('data-state', 'ready');
  await page.evaluate(() => window.__maskEditor!.whenDrawn());
  await paint(page, [
    [60, 60],
    [60, 240],
    [140, 240],
    [140, 60],
  ]);
  await saved(page);
  const first = (await storedMask(page, seeded))!;
  expect(first.at(60, 150)).toBe(255); // under the stroke
  expect(first.at(420, 150)).toBe(0); // far from it
  const paintedOnce = count(first.bytes, 255);
  expect(paintedOnce).toBeGreaterThan(1000);
  await paint(page, [
    [300, 60],
    [300, 240],
  ]);
  await saved(page);
  const second = (await storedMask(page, seeded))!;
  expect(second.at(300, 150)).toBe(255);
  await page.keyboard.press('Control+z');
  await saved(page);
  const undone = (await storedMask(page, seeded))!;
  expect(undone.id).toBe(first.id);
  expect(undone.at(300, 150)).toBe(0);
  await page.keyboard.press('Control+Shift+z');
  await saved(page);
  expect((await storedMask(page, seeded))!.id).toBe(second.id);
  await page.getByTestId('mask.close').click();
  await expect(page.getByTestId('mask.dialog')).toHaveCount(0);

  // 3. A prompt with two mentions, both picked from the autocomplete (keyboard, then mouse).
  const prompt = page.getByRole('combobox', { name: 'Prompt' });
  await prompt.click();
  await prompt.pressSequentially('@mo');
  await expect(page.getByTestId('prompt.suggestions')).toBeVisible();
  await page.keyboard.press('Enter');
  await prompt.pressSequentially('sleeping next to @m');
  await page.getByTestId('prompt.suggestion').filter({ hasText: 'mug' }).click();
  await prompt.pressSequentially('on books');
  await expect(prompt).toHaveValue(/^@mochi sleeping next to @mug\s?on books$/);
  await expect(page.getByTestId('prompt.chip')).toHaveCount(2);
  await expect(page.getByTestId('prompt.unknown')).toHaveCount(0);

  // 4. Generate (3 steps) and watch the progress bar advance; the image lands in the gallery.
  await page.getByRole('spinbutton', { name: /steps/i }).fill('3');
  await page.getByRole('spinbutton', { name: /steps/i }).press('Enter');
  await startWatching(page);
  await page.getByTestId('generate.button').click();
  await expect(page.getByTestId('gallery.item')).toHaveCount(1, { timeout: 120_000 });
  await expect(page.getByTestId('generate.result')).toBeVisible();
  const watched = await stopWatching(page);
  // The bar went up step by step to 3 of 3 (each frame samples it; fast steps may share a frame).
  expect(watched.values.at(-1)).toBe(3);
  expect(watched.values.length).toBeGreaterThanOrEqual(2);
  expect([...watched.values].sort((a, b) => a - b)).toEqual(watched.values);

  // 5. A longer run, cancelled midway: the gallery does not grow and the studio is ready again.
  await page.getByRole('spinbutton', { name: /steps/i }).fill('100');
  await page.getByRole('spinbutton', { name: /steps/i }).press('Enter');
  await page.getByTestId('generate.button').click();
  await waitForStep(page, 1);
  await page.getByTestId('generate.cancel').click();
  await expect(page.getByTestId('generate.button')).toBeEnabled({ timeout: 60_000 });
  await expect(page.getByTestId('gallery.item')).toHaveCount(1);

  // 6. Reload: subjects, photos, the mask, the prompt and the gallery are all there.
  const before = await page.evaluate(() => {
    const s = window.__subjectStudio!.stores;
    return { subjects: s.subjects.getState().subjects, prompt: s.prompt.getState().prompt, gallery: s.gallery.getState().entries.map((e) => e.pngId) };
  });
  await page.reload();
  await expect(studio.packStatus).toBeVisible();
  await expect(page.getByTestId('subject.image')).toHaveCount(2);
  await expect(page.getByTestId('gallery.item')).toHaveCount(1);
  await expect(prompt).toHaveValue(before.prompt);
  const after = await page.evaluate(() => {
    const s = window.__subjectStudio!.stores;
    return { subjects: s.subjects.getState().subjects, prompt: s.prompt.getState().prompt, gallery: s.gallery.getState().entries.map((e) => e.pngId) };
  });
  expect(after).toEqual(before);
  expect((await storedMask(page, seeded))!.id).toBe(second.id);

  // 7. Download the PNG, clear the prompt, import the PNG: the request comes back.
  await page.getByTestId('gallery.item').first().getByRole('button').first().click();
  const view = page.getByTestId('gallery.view');
  const [download] = await Promise.all([page.waitForEvent('download'), view.getByTestId('gallery.download').click()]);
  const pngPath = test.info().outputPath('result.png');
  await download.saveAs(pngPath);
  await page.keyboard.press('Escape');
  await prompt.fill('');
  await expect.poll(() => page.evaluate(() => window.__subjectStudio!.stores.prompt.getState().prompt)).toBe('');
  await page.getByTestId('gallery.import').setInputFiles(pngPath);
  await expect(page.getByTestId('gallery.message')).toContainText('Restored');
  await expect(prompt).toHaveValue(before.prompt);
  console.log(`[${backend}] flow done: mask ${paintedOnce} px painted, prompt "${before.prompt}"`);
});
