/**
 * The subjects panel against the built app: importing real photos by drop,
 * paste and picker; validation, delete/undo and reorder; downscaling without
 * long tasks; persistence, garbage collection and clearing storage.
 */
import type { Page } from '@playwright/test';
import { NAME_PROBLEM_TEXT } from '../src/state/subjects-store';
import { expect, test } from './fixtures';
import { startCpuTrace, stopCpuTrace } from './generate-helpers';
import { blobExists, dropFiles, halfBrightness, makePhotos, pasteFiles, photo, putRawBlob, sha256Of, storedImage, subjects, textFile } from './subjects/helpers';

const chelsea = photo('chelsea.png');
const coffee = photo('coffee.png');

const card = (page: Page, name: string) => page.locator(`[data-testid="subject.card"][aria-label="Subject @${name}"]`);
const messages = (page: Page) => page.getByTestId('subjects.message');

async function namesInOrder(page: Page): Promise<string[]> {
  return (await subjects(page)).map((s) => s.name);
}

/** Adds subjects named `names` through the UI (Add subject, then type the name). */
async function addNamed(page: Page, ...names: string[]): Promise<void> {
  for (const name of names) {
    await page.getByTestId('subjects.add').click();
    const input = page.getByTestId('subject.name').last();
    await expect(input).toBeFocused();
    await input.fill(name);
    await input.press('Enter');
  }
  expect(await namesInOrder(page)).toEqual(expect.arrayContaining(names));
}

test('drops two real photos anywhere on the window into a new subject, stored unchanged', async ({ studio, page }) => {
  await studio.open();
  await expect(page.getByTestId('subjects.empty')).toBeVisible();

  await dropFiles(page, [chelsea, coffee], { hoverOnly: true });
  const overlay = page.getByTestId('subjects.drop-overlay');
  await expect(overlay).toBeVisible();
  await expect(overlay).toContainText('Drop to add photos as a new subject');
  await dropFiles(page, [chelsea, coffee]);
  await expect(overlay).toHaveCount(0);

  await expect(page.getByTestId('subject.image')).toHaveCount(2);
  const [subject] = await subjects(page);
  expect(subject!.images.map((i) => [i.fileName, i.width, i.height])).toEqual([
    ['chelsea.png', 451, 300],
    ['coffee.png', 600, 400],
  ]);
  // Photos within the pixel budget are stored byte for byte: their id is the sha256 of the file.
  expect(subject!.images.map((i) => i.id)).toEqual([sha256Of(chelsea), sha256Of(coffee)]);
  expect(await storedImage(page, subject!.images[0]!.id)).toEqual({ bytes: 240512, width: 451, height: 300, type: 'image/png' });
  expect(await storedImage(page, subject!.images[1]!.id)).toEqual({ bytes: 466706, width: 600, height: 400, type: 'image/png' });
  await expect(messages(page)).toHaveText(['Added 2 photos to @subject1.']);
  // The new subject is selected; the thumbnails show the photos.
  expect((await page.evaluate(() => window.__subjectStudio!.stores.subjects.getState().selection))?.subjectId).toBe(subject!.id);
  const thumbs = page.getByTestId('subject.image').locator('img');
  await expect(thumbs).toHaveCount(2);
  await expect(thumbs.first()).toHaveAttribute('alt', 'chelsea.png, 451×300, no mask');
  await expect.poll(() => thumbs.first().evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(192);

  // A painted mask (right half background) darkens the right half of the thumbnail and nothing else.
  const before = await halfBrightness(page, '[data-testid="subject.image"] img');
  const mask = Array.from({ length: 451 * 300 }, (_, i) => (i % 451 < 225 ? 255 : 0));
  await putRawBlob(page, 'test-mask-right-half', mask);
  await page.evaluate((imageId) => {
    const s = window.__subjectStudio!.stores.subjects.getState();
    s.actions.setMask(s.subjects[0]!.id, imageId, { id: 'test-mask-right-half', width: 451, height: 300 });
  }, subject!.images[0]!.id);
  await expect(page.getByTestId('subject.image').first()).toHaveAttribute('data-masked', 'true');
  await expect(thumbs.first()).toHaveAttribute('alt', 'chelsea.png, 451×300, masked');
  const after = await halfBrightness(page, '[data-testid="subject.image"] img');
  expect(Math.abs(after.left - before.left)).toBeLessThan(6);
  // Alpha 0.7 of a dark tint: the right half ends at about half its brightness.
  expect(after.right).toBeLessThan(before.right * 0.6);

  // "Edit mask" opens the mask editor on that photo: it selects the subject and the image.
  const selection = () => page.evaluate(() => window.__subjectStudio!.stores.subjects.getState().selection);
  await page.getByTestId('subject.editMask').nth(1).click();
  expect(await selection()).toEqual({ subjectId: subject!.id, imageId: subject!.images[1]!.id });
  // The editor is modal; Escape closes it (and clears the image from the selection).
  await page.keyboard.press('Escape');
  await expect.poll(selection).toEqual({ subjectId: subject!.id, imageId: null });

  // Dropping on a card puts the photos on that subject, even when another one is selected.
  await addNamed(page, 'mug');
  await dropFiles(page, [coffee], { selector: `[data-subject-id="${subject!.id}"]`, hoverOnly: true });
  await expect(page.getByTestId('subjects.drop-overlay')).toContainText('Drop to add photos to @subject1');
  await expect(page.locator(`[data-subject-id="${subject!.id}"]`)).toHaveClass(/is-drop-target/);
  await page.getByTestId('subject.removeImage').nth(1).click();
  expect((await subjects(page))[0]!.images).toHaveLength(1);
  await dropFiles(page, [coffee], { selector: `[data-subject-id="${subject!.id}"] [data-testid="subject.class"]` });
  await expect.poll(async () => (await subjects(page)).map((s) => s.images.length)).toEqual([2, 0]);
});

test('renames with validation, and edits the class word and strength', async ({ studio, page }) => {
  await studio.open();
  await addNamed(page, 'cat', 'mug');
  const name = card(page, 'cat').getByTestId('subject.name');
  const problem = card(page, 'cat').getByTestId('subject.name-problem');

  for (const [draft, why] of [
    ['1cat', NAME_PROBLEM_TEXT.invalid],
    ['my cat', NAME_PROBLEM_TEXT.invalid],
    ['MUG', NAME_PROBLEM_TEXT.taken],
    ['', NAME_PROBLEM_TEXT.empty],
  ] as const) {
    await name.fill(draft);
    await expect(name).toHaveAttribute('aria-invalid', 'true');
    await expect(problem).toHaveText(why);
    await expect(name).toHaveAccessibleDescription(why);
    expect(await namesInOrder(page)).toEqual(['cat', 'mug']);
  }
  // Leaving the field with an invalid draft puts the last valid name back.
  await name.fill('2x');
  await name.blur();
  await expect(name).toHaveValue('cat');
  await expect(name).not.toHaveAttribute('aria-invalid');
  await expect(problem).toHaveCount(0);

  await name.fill('chelsea');
  expect(await namesInOrder(page)).toEqual(['chelsea', 'mug']);
  const c = card(page, 'chelsea');
  await expect(c.getByTestId('subject.name')).not.toHaveAttribute('aria-invalid');
  await c.getByTestId('subject.class').fill('cat');
  await c.getByTestId('subject.strength-number').fill('1.5');
  await c.getByTestId('subject.strength-number').press('Enter');
  await expect(c.getByTestId('subject.strength')).toHaveValue('1.5');
  await c.getByTestId('subject.strength').press('ArrowRight');
  await expect(c.getByTestId('subject.strength-number')).toHaveValue('1.55');
  // Out of range typed values are clamped to 0..3 when the box is left.
  await c.getByTestId('subject.strength-number').fill('7');
  await c.getByTestId('subject.strength-number').blur();
  await expect(c.getByTestId('subject.strength-number')).toHaveValue('3.00');
  await expect(c.getByTestId('subject.strength')).toHaveAccessibleDescription(/^How strongly the photos steer the image/);
  const [s] = await subjects(page);
  expect([s!.classWord, s!.strength]).toEqual(['cat', 3]);
});

test('deletes a subject and restores it with Undo and with Ctrl+Z, not while typing', async ({ studio, page }) => {
  await studio.open();
  await dropFiles(page, [chelsea, coffee]);
  await expect(page.getByTestId('subject.image')).toHaveCount(2);
  await addNamed(page, 'mug');
  const original = (await subjects(page))[0]!;

  await card(page, 'subject1').getByTestId('subject.delete').click();
  const toast = page.getByTestId('subject.toast');
  await expect(toast).toHaveText(/^Deleted @subject1\s*—\s*Undo/);
  expect(await namesInOrder(page)).toEqual(['mug']);
  // Focus went from the vanished delete button to Undo.
  await expect(page.getByTestId('subject.undo')).toBeFocused();
  await page.getByTestId('subject.undo').click();
  await expect(toast).toHaveCount(0);
  expect(await subjects(page)).toEqual([original, expect.objectContaining({ name: 'mug' })]);
  await expect(card(page, 'subject1')).toBeFocused();

  // Ctrl+Z in a text field is the browser's text undo (its history spans fields, so names may change), never a restore.
  await card(page, 'subject1').getByTestId('subject.delete').click();
  await page.getByTestId('subject.class').focus();
  await page.keyboard.press('Control+z');
  expect(await subjects(page)).toHaveLength(1);
  await page.getByTestId('subject.name').fill('mug');
  // Anywhere else it restores the subject, photos and all.
  await card(page, 'mug').getByTestId('subject.handle').focus();
  await page.keyboard.press('Control+z');
  await expect(card(page, 'subject1')).toBeVisible();
  expect((await subjects(page))[0]).toEqual(original);
  await expect(page.getByTestId('subjects.announcement')).toHaveText('Restored @subject1.');
  for (const image of original.images) expect(await blobExists(page, image.id)).toBe(true);
  await expect(page.getByTestId('subject.image')).toHaveCount(2);
});

test('reorders with the keyboard (handle arrows and move buttons) and by dragging the handle', async ({ studio, page }) => {
  await studio.open();
  await addNamed(page, 'a', 'b', 'c');

  const handleC = card(page, 'c').getByTestId('subject.handle');
  await handleC.focus();
  await page.keyboard.press('ArrowUp');
  expect(await namesInOrder(page)).toEqual(['a', 'c', 'b']);
  await expect(handleC).toBeFocused();
  await expect(page.getByTestId('subjects.announcement')).toHaveText('Moved @c to position 2 of 3.');

  await page.keyboard.press('Shift+Tab'); // Move up, above the handle
  await expect(card(page, 'c').getByTestId('subject.moveUp')).toBeFocused();
  await page.keyboard.press('Enter');
  expect(await namesInOrder(page)).toEqual(['c', 'a', 'b']);
  // Move up is disabled at the top: focus stays on the card, on its handle.
  await expect(card(page, 'c').getByTestId('subject.moveUp')).toBeDisabled();
  await expect(handleC).toBeFocused();

  const down = card(page, 'a').getByTestId('subject.moveDown');
  await down.focus();
  await page.keyboard.press('Space');
  expect(await namesInOrder(page)).toEqual(['c', 'b', 'a']);
  await expect(card(page, 'a').getByTestId('subject.handle')).toBeFocused();
  // The list's order is the store's order.
  expect(await page.getByRole('list', { name: 'Subjects' }).getByTestId('subject.card').evaluateAll((cards) => cards.map((c) => c.getAttribute('aria-label')))).toEqual([
    'Subject @c',
    'Subject @b',
    'Subject @a',
  ]);

  // The mouse: drag a's handle onto the top half of c's card (all cards in view, so the drag never autoscrolls).
  await page.setViewportSize({ width: 1440, height: 1600 });
  await page.evaluate(() => window.scrollTo(0, 0));
  const from = (await card(page, 'a').getByTestId('subject.handle').boundingBox())!;
  const to = (await card(page, 'c').boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  // Chromium starts a drag after the pointer moves a few pixels, and drops where the last dragover was accepted.
  await page.mouse.move(from.x + from.width / 2, from.y - 10, { steps: 4 });
  await page.mouse.move(to.x + to.width / 2, to.y + 12, { steps: 8 });
  await expect(card(page, 'c')).toHaveClass(/insert-before/);
  await page.mouse.move(to.x + to.width / 2 + 2, to.y + 14, { steps: 2 });
  await page.mouse.up();
  expect(await namesInOrder(page)).toEqual(['a', 'c', 'b']);
  await expect(page.getByTestId('subjects.announcement')).toHaveText('Moved @a to position 1 of 3.');
});

test('refuses a text file and a corrupt JPEG by name, and still adds the good photo', async ({ studio, page }) => {
  await studio.open();
  await dropFiles(page, [textFile('notes.txt', 'not a photo'), photo('truncated.jpg'), chelsea]);
  await expect(page.getByTestId('subject.image')).toHaveCount(1);
  await expect(page.getByTestId('subjects.alerts').getByTestId('subjects.message')).toHaveText([
    '"notes.txt" is not an image (text/plain): add JPEG, PNG, WebP, GIF or AVIF photos.',
    '"truncated.jpg" could not be read as an image: the file is damaged or in a format this browser cannot open.',
  ]);
  await expect(page.getByTestId('subjects.status').getByTestId('subjects.message')).toHaveText(['Added 1 photo to @subject1.']);
  expect((await subjects(page))[0]!.images.map((i) => i.fileName)).toEqual(['chelsea.png']);

  // Only bad files: nothing is created, and the session goes on normally.
  await dropFiles(page, [photo('truncated.jpg')]);
  await expect(messages(page)).toHaveText([/^"truncated\.jpg" could not be read as an image/]);
  expect(await subjects(page)).toHaveLength(1);
  await dropFiles(page, [coffee]);
  await expect(page.getByTestId('subject.image')).toHaveCount(2);
});

test('downscales a 50-megapixel photo to at most 12.5 MP without long tasks on the main thread', async ({ studio, page, backend }) => {
  await studio.open();
  await makePhotos(page, [{ name: 'huge.jpg', width: 8660, height: 5773, seed: 3 }]);
  await startCpuTrace(page);
  const run = await page.evaluate(async () => {
    const longTasks: number[] = [];
    const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(Math.round(e.duration))));
    observer.observe({ type: 'longtask' });
    // Let the page settle after making the test photo, then import it.
    await new Promise((r) => setTimeout(r, 300));
    longTasks.length = 0;
    const t0 = performance.now();
    const dt = new DataTransfer();
    dt.items.add((window as unknown as { __testFiles: Record<string, File> }).__testFiles['huge.jpg']!);
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    // Until the photo is stored, added and its thumbnail shown.
    for (;;) {
      const img = document.querySelector<HTMLImageElement>('[data-testid="subject.image"] img');
      if (img?.complete && img.naturalWidth > 0) break;
      await new Promise((r) => setTimeout(r, 10));
      if (performance.now() - t0 > 60_000) throw new Error('the import did not finish in 60 s');
    }
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 200));
    observer.takeRecords().forEach((e) => longTasks.push(Math.round(e.duration)));
    observer.disconnect();
    return { ms: Math.round(ms), longTasks };
  });
  const cpu = await stopCpuTrace(page, new URL(page.url()).origin);
  console.log(
    `[${backend}] 50 MP import: ${run.ms} ms until the thumbnail showed; long tasks (PerformanceObserver, wall): ${run.longTasks.length ? run.longTasks.join(', ') + ' ms' : 'none'}; ` +
      `main-thread tasks (trace): ${cpu.tasks}, max ${cpu.maxCpuMs.toFixed(1)} ms CPU, max ${cpu.maxWallMs.toFixed(0)} ms wall`,
  );

  const [image] = (await subjects(page))[0]!.images;
  expect(image!.width * image!.height).toBeLessThanOrEqual(12_500_000);
  expect(image!.width * image!.height).toBeGreaterThan(12_400_000);
  expect(Math.abs(image!.width / image!.height - 8660 / 5773)).toBeLessThan(1e-3);
  expect(await storedImage(page, image!.id)).toMatchObject({ width: image!.width, height: image!.height, type: 'image/jpeg' });
  await expect(messages(page)).toContainText([`"huge.jpg" was downscaled from 8660×5773 (50.0 MP) to ${image!.width}×${image!.height} (12.5 MP).`]);
  // The decode and the downscale run off the main thread: no task of the page's own costs 50 ms of it.
  // Wall time alone (logged above) also counts the time the thread waited for one of this machine's 2 cores.
  expect(cpu.maxCpuMs, 'CPU time of the longest main-thread task during the import').toBeLessThan(50);
  if (process.env.E2E_STRICT_LONG_TASKS) expect(run.longTasks, 'long tasks (wall time) during the import').toEqual([]);
});

test('keeps a 12-megapixel photo byte for byte, and a transparent one stays PNG when downscaled', async ({ studio, page }) => {
  await studio.open();
  await makePhotos(page, [{ name: 'camera.jpg', width: 4000, height: 3000, seed: 5 }]);
  const fileId = await page.evaluate(async () => {
    const file = (window as unknown as { __testFiles: Record<string, File> }).__testFiles['camera.jpg']!;
    const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  });
  await dropFiles(page, [], { generated: ['camera.jpg'] });
  await expect(page.getByTestId('subject.image')).toHaveCount(1);
  const [image] = (await subjects(page))[0]!.images;
  expect([image!.id, image!.width, image!.height]).toEqual([fileId, 4000, 3000]);

  // A big PNG with transparency: downscaled, and kept as PNG so the transparency survives.
  await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(5000, 3000);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#c33';
    ctx.fillRect(1000, 500, 3000, 2000);
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    (window as unknown as { __testFiles: Record<string, File> }).__testFiles['cutout.png'] = new File([blob], 'cutout.png', { type: 'image/png' });
  });
  await dropFiles(page, [], { generated: ['cutout.png'] });
  await expect(page.getByTestId('subject.image')).toHaveCount(2);
  const cutout = (await subjects(page))[0]!.images[1]!;
  expect(cutout.width * cutout.height).toBeLessThanOrEqual(12_500_000);
  expect(await storedImage(page, cutout.id)).toMatchObject({ type: 'image/png', width: cutout.width, height: cutout.height });
});

test('keeps 4 of 5 photos with a message, and the next drop starts a new subject', async ({ studio, page }) => {
  await studio.open();
  await makePhotos(
    page,
    [1, 2, 3].map((seed) => ({ name: `photo${seed}.jpg`, width: 320, height: 240, seed })),
  );
  await dropFiles(page, [chelsea, coffee], { generated: ['photo1.jpg', 'photo2.jpg', 'photo3.jpg'] });
  await expect(page.getByTestId('subjects.alerts').getByTestId('subjects.message')).toHaveText([
    'Kept 4 of 5 photos for @subject1: a subject holds at most 4 reference photos, so 1 photo was not added.',
  ]);
  const [full] = await subjects(page);
  expect(full!.images.map((i) => i.fileName)).toEqual(['chelsea.png', 'coffee.png', 'photo1.jpg', 'photo2.jpg']);
  await expect(card(page, 'subject1').getByTestId('subject.image-count')).toHaveText('4 of 4');
  await expect(card(page, 'subject1').getByTestId('subject.addPhotos')).toHaveCount(0);

  // The selected subject is full: the next drop makes a new subject instead of refusing.
  await dropFiles(page, [], { generated: ['photo3.jpg'] });
  await expect.poll(async () => (await subjects(page)).map((s) => [s.name, s.images.length])).toEqual([
    ['subject1', 4],
    ['subject2', 1],
  ]);
  // Dropping on the full card itself is refused, with the reason.
  await dropFiles(page, [], { generated: ['photo3.jpg'], selector: `[data-subject-id="${full!.id}"]` });
  await expect(page.getByTestId('subjects.alerts').getByTestId('subjects.message')).toHaveText([
    '@subject1 already has 4 photos, the most a subject holds: remove one first.',
  ]);
});

test('pastes a photo from the clipboard, and the file picker adds to its own subject', async ({ studio, page }) => {
  await studio.open();
  await pasteFiles(page, [chelsea]);
  await expect(page.getByTestId('subject.image')).toHaveCount(1);
  const [first] = await subjects(page);
  expect(first!.images[0]!.id).toBe(sha256Of(chelsea));

  // Pasting an image while typing in a field still imports it (text fields cannot take images).
  await card(page, 'subject1').getByTestId('subject.class').focus();
  await pasteFiles(page, [coffee]);
  await expect(page.getByTestId('subject.image')).toHaveCount(2);

  await addNamed(page, 'mug');
  // Select subject1 again; the picker of "mug" still adds to mug.
  await card(page, 'subject1').click({ position: { x: 4, y: 4 } });
  expect((await page.evaluate(() => window.__subjectStudio!.stores.subjects.getState().selection))?.subjectId).toBe(first!.id);
  const chooser = page.waitForEvent('filechooser');
  await card(page, 'mug').getByTestId('subject.addPhotos').click();
  await (await chooser).setFiles([{ name: 'coffee.png', mimeType: 'image/png', buffer: Buffer.from(coffee.base64, 'base64') }]);
  await expect.poll(async () => (await subjects(page)).map((s) => s.images.length)).toEqual([2, 1]);
});

test('every control in the panel has an accessible name and is reachable with Tab', async ({ studio, page }) => {
  await studio.open();
  await dropFiles(page, [chelsea]);
  await expect(page.getByTestId('subject.image')).toHaveCount(1);
  // Two subjects, so each has one enabled move button.
  await addNamed(page, 'mug');
  const panel = page.getByRole('region', { name: 'Subjects' });
  const controls = panel.locator('button:visible, input:visible, [role=button]:visible');
  const n = await controls.count();
  expect(n).toBeGreaterThan(10);
  for (let i = 0; i < n; i++) await expect(controls.nth(i)).toHaveAccessibleName(/\S/);

  await page.getByTestId('subjects.add').focus();
  const reached = new Set<string>();
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? '');
    reached.add(id);
    if (id === 'storage.clear') break;
  }
  for (const id of ['subject.handle', 'subject.name', 'subject.moveUp', 'subject.moveDown', 'subject.delete', 'subject.class', 'subject.strength', 'subject.strength-number', 'subject.editMask', 'subject.removeImage', 'subject.addPhotos', 'storage.clear']) {
    expect(reached, `Tab reaches ${id}`).toContain(id);
  }
});

test('keeps subjects and photos across a reload; unused blobs are collected only after the stores load', async ({ studio, page }) => {
  await studio.open();
  await dropFiles(page, [chelsea, coffee]);
  await expect(page.getByTestId('subject.image')).toHaveCount(2);
  await addNamed(page, 'gone');
  const c = card(page, 'subject1');
  await c.getByTestId('subject.name').fill('chelsea');
  await card(page, 'chelsea').getByTestId('subject.class').fill('cat');
  await card(page, 'chelsea').getByTestId('subject.strength-number').fill('1.25');
  await card(page, 'chelsea').getByTestId('subject.strength-number').blur();
  await makePhotos(page, [{ name: 'gone.jpg', width: 300, height: 200, seed: 9 }]);
  await dropFiles(page, [], { generated: ['gone.jpg'], selector: '[aria-label="Subject @gone"]' });
  await expect.poll(async () => (await subjects(page))[1]?.images.length).toBe(1);
  const goneImage = (await subjects(page))[1]!.images[0]!.id;
  await card(page, 'gone').getByTestId('subject.delete').click();
  // Deleted this session: its photo stays for undo.
  expect(await blobExists(page, goneImage)).toBe(true);
  await expect(page.getByTestId('storage.section')).toHaveAttribute('data-gc', 'done');
  // A blob from an earlier session that nothing refers to.
  await putRawBlob(page, 'orphan-from-an-earlier-session', [1, 2, 3]);
  const saved = await subjects(page);

  await page.reload();
  await expect(page.getByTestId('storage.section')).toHaveAttribute('data-gc', 'done');
  expect(await subjects(page)).toEqual(saved);
  expect(saved.map((s) => [s.name, s.classWord, s.strength, s.images.length])).toEqual([['chelsea', 'cat', 1.25, 2]]);
  await expect(page.getByTestId('subject.image').locator('img')).toHaveCount(2);
  for (const image of saved[0]!.images) expect(await storedImage(page, image.id)).toMatchObject({ width: image.width, height: image.height });
  expect(await blobExists(page, 'orphan-from-an-earlier-session')).toBe(false);
  expect(await blobExists(page, goneImage)).toBe(false);
  await expect(page.getByTestId('storage.gc')).toHaveText(/^Removed 2 unused files \(/);
  await expect(page.getByTestId('storage.use')).toContainText('2 files (');
});

test('says when a save fails, and what was saved before is intact', async ({ studio, page }) => {
  await studio.open();
  await dropFiles(page, [chelsea]);
  await expect(page.getByTestId('subject.image')).toHaveCount(1);
  await card(page, 'subject1').getByTestId('subject.name').fill('chelsea');
  await page.waitForTimeout(300);
  // The disk is full from now on: every IndexedDB write fails as a full quota does.
  await page.evaluate(() => {
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
  });
  await card(page, 'chelsea').getByTestId('subject.name').fill('renamed');
  const banner = page.getByTestId('storage.error');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText("Could not save your subjects: the browser's storage quota for this site is full. Nothing saved before was lost");
  // A photo that cannot be stored is refused by name; the subject keeps what it had.
  await dropFiles(page, [coffee]);
  await expect(page.getByTestId('subjects.alerts').getByTestId('subjects.message')).toHaveText([/^"coffee\.png" could not be added: Could not save an image \(0\.5 MB\)/]);
  expect((await subjects(page))[0]!.images).toHaveLength(1);

  await page.reload();
  await expect(page.getByTestId('subject.image').locator('img')).toHaveCount(1);
  expect((await subjects(page)).map((s) => s.name)).toEqual(['chelsea']);
});

test('clears all saved data after confirmation', async ({ studio, page }) => {
  await studio.open();
  await dropFiles(page, [chelsea]);
  await expect(page.getByTestId('subject.image')).toHaveCount(1);
  const id = (await subjects(page))[0]!.images[0]!.id;
  await expect(page.getByTestId('storage.use')).toContainText('1 file (');

  await page.getByTestId('storage.clear').click();
  const dialog = page.getByRole('dialog', { name: 'Clear all saved data?' });
  await expect(dialog).toBeVisible();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  expect(await blobExists(page, id)).toBe(true);

  await page.getByTestId('storage.clear').click();
  await Promise.all([page.waitForEvent('load'), page.getByTestId('storage.clear-confirm').click()]);
  await expect(page.getByTestId('subjects.empty')).toBeVisible();
  await expect(page.getByTestId('storage.use')).toContainText('0 files (');
  expect(await subjects(page)).toEqual([]);
  expect(await blobExists(page, id)).toBe(false);
});
