/**
 * The mask editor against the built app: painting real photos with the real
 * mouse and checking the STORED mask (window.__subjectStudio.readBlob), undo
 * and redo, brush keys and sliders, eraser, fill/clear/invert, saving on
 * Escape and across a reload, the mask settings and their preview, keyboard
 * access, and responsiveness on a 4000x3000 photo.
 */
import { availableParallelism, loadavg } from 'node:os';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { count, editorReady, editorState, maskRef, openEditor, paint, saved, seedLargePhoto, seedPhoto, storedMask, type Seeded } from './mask/helpers';

test.use({ viewport: { width: 1440, height: 900 } });

interface PerfLog {
  long: { start: number; duration: number }[];
  frames: number[];
  /** pointerdown, pointerup, and the committed stroke drawn (performance.now()). */
  t0: number;
  t1: number;
  t2: number;
  stop: boolean;
}

const dialog = (page: Page) => page.getByTestId('mask.dialog');

/** Every pixel within `radius` of the horizontal segment y, x0..x1 has `inside`; every pixel beyond radius + margin has 0. */
function checkBand(mask: { at(x: number, y: number): number; width: number; height: number }, y: number, x0: number, x1: number, radius: number) {
  for (let x = x0; x <= x1; x += 5) expect(mask.at(x, y), `pixel ${x},${y} under the stroke`).toBe(255);
  for (let x = x0; x <= x1; x += 5) {
    expect(mask.at(x, y - Math.floor(radius * 0.5)), 'inside the brush radius').toBe(255);
    expect(mask.at(x, Math.max(0, y - radius - 3)), 'just outside the brush').toBe(0);
    expect(mask.at(x, Math.min(mask.height - 1, y + radius + 3)), 'just outside the brush').toBe(0);
  }
}

test('paints a stroke into the stored mask; undo and redo restore the stored masks', async ({ studio, page }) => {
  await studio.open();
  const photo = await seedPhoto(page, 'chelsea.png');
  // Opened the way a person does: the photo's "Edit mask" button.
  await page.getByTestId('subject.editMask').click();
  await editorReady(page);
  await expect(dialog(page)).toHaveAttribute('aria-modal', 'true');
  await expect(page.getByRole('dialog', { name: /Mask of chelsea\.png/ })).toBeVisible();
  expect(await maskRef(page, photo)).toBeNull();

  await page.getByTestId('mask.size').fill('30');
  await page.getByTestId('mask.hardness').fill('1');
  await paint(page, [[100, 100], [300, 100]]);
  await saved(page);
  const first = (await storedMask(page, photo))!;
  expect([first.width, first.height]).toEqual([451, 300]);
  checkBand(first, 100, 100, 300, 15);
  // Far from the stroke: untouched.
  for (const [x, y] of [[10, 10], [440, 290], [200, 200], [50, 100], [350, 100]] as const) expect(first.at(x, y)).toBe(0);
  // The painted area is about the stroke's capsule: 200 x 30 plus two half discs.
  expect(count(first.bytes, 255)).toBeGreaterThan(200 * 30 * 0.9);
  // Hardness 1: the only values between 0 and 255 are a one-pixel anti-aliased rim (~500 px around).
  expect(first.bytes.length - count(first.bytes, 255) - count(first.bytes, 0)).toBeLessThan(700);

  await paint(page, [[100, 220], [300, 220]]);
  await saved(page);
  const second = (await storedMask(page, photo))!;
  checkBand(second, 220, 100, 300, 15);
  checkBand(second, 100, 100, 300, 15);
  expect(second.id).not.toBe(first.id);

  // Undo: the stored mask is the first one again, byte for byte (same content id).
  await page.keyboard.press('Control+z');
  await saved(page);
  expect((await maskRef(page, photo))!.id).toBe(first.id);
  expect((await storedMask(page, photo))!.at(200, 220)).toBe(0);
  await page.keyboard.press('Control+Shift+z');
  await saved(page);
  expect((await maskRef(page, photo))!.id).toBe(second.id);
  await page.getByTestId('mask.undo').click();
  await saved(page);
  expect((await maskRef(page, photo))!.id).toBe(first.id);
  await page.keyboard.press('Control+y');
  await saved(page);
  expect((await maskRef(page, photo))!.id).toBe(second.id);
  // Undo everything: nothing painted is stored as no mask (the whole photo is the subject).
  await page.getByTestId('mask.undo').click();
  await page.getByTestId('mask.undo').click();
  await saved(page);
  expect(await maskRef(page, photo)).toBeNull();
  await expect(page.getByTestId('mask.undo')).toHaveAttribute('aria-disabled', 'true');
  await page.getByTestId('mask.redo').click();
  await saved(page);
  expect((await maskRef(page, photo))!.id).toBe(first.id);
});

test('brush keys and sliders, eraser, fill, clear and invert', async ({ studio, page }) => {
  await studio.open();
  const photo = await seedPhoto(page, 'coffee.png', 'mug');
  await openEditor(page, photo);
  const size = page.getByTestId('mask.size');
  await size.fill('20');
  await expect(size).toHaveValue('20');
  await page.getByTestId('mask.canvas').focus();
  await page.keyboard.press(']');
  expect((await editorState(page))!.size).toBe(25);
  await expect(size).toHaveValue('25');
  await page.keyboard.press(']');
  expect((await editorState(page))!.size).toBe(31);
  await page.keyboard.press('[');
  await page.keyboard.press('[');
  expect((await editorState(page))!.size).toBe(20);
  await page.getByTestId('mask.hardness').fill('0.5');
  await page.keyboard.press('Shift+BracketRight');
  expect((await editorState(page))!.hardness).toBe(0.6);
  await page.keyboard.press('Shift+BracketLeft');
  await page.keyboard.press('Shift+BracketLeft');
  expect((await editorState(page))!.hardness).toBe(0.4);
  await expect(page.getByTestId('mask.hardness')).toHaveValue('0.4');

  // A soft brush leaves a graded edge; a hard one a crisp edge.
  await page.getByTestId('mask.hardness').fill('0');
  await page.getByTestId('mask.size').fill('40');
  await paint(page, [[100, 100], [300, 100]]);
  await saved(page);
  const soft = (await storedMask(page, photo))!;
  expect(soft.at(200, 100)).toBe(255);
  const edge = Array.from({ length: 20 }, (_, i) => soft.at(200, 100 + i));
  expect(edge.filter((v) => v > 0 && v < 255).length).toBeGreaterThan(8);
  for (let i = 1; i < edge.length; i++) expect(edge[i]!).toBeLessThanOrEqual(edge[i - 1]!);

  // Fill all: every stored pixel is 255.
  await page.getByTestId('mask.fill').click();
  await saved(page);
  const filled = (await storedMask(page, photo))!;
  expect(count(filled.bytes, 255)).toBe(600 * 400);

  // The eraser takes a hard stroke out of it.
  await page.getByTestId('mask.eraser').click();
  await expect(page.getByTestId('mask.eraser')).toHaveAttribute('aria-pressed', 'true');
  await page.getByTestId('mask.hardness').fill('1');
  await page.getByTestId('mask.size').fill('30');
  await paint(page, [[150, 300], [450, 300]]);
  await saved(page);
  const erased = (await storedMask(page, photo))!;
  for (let x = 150; x <= 450; x += 10) expect(erased.at(x, 300)).toBe(0);
  expect(erased.at(300, 250)).toBe(255);
  expect(erased.at(20, 20)).toBe(255);

  // Invert (keyboard): the erased stroke is now the only painted part.
  await page.getByTestId('mask.canvas').focus();
  await page.keyboard.press('Control+i');
  await saved(page);
  const inverted = (await storedMask(page, photo))!;
  for (let i = 0; i < inverted.bytes.length; i++) if (inverted.bytes[i] !== 255 - erased.bytes[i]!) throw new Error(`pixel ${i} not inverted`);

  // Clear: nothing painted is stored as no mask; B switches back to the brush.
  await page.getByTestId('mask.clear').click();
  await saved(page);
  expect(await maskRef(page, photo)).toBeNull();
  await page.keyboard.press('b');
  expect((await editorState(page))!.tool).toBe('brush');
  // Every step above is one undo step: five of them (stroke, fill, erase, invert, clear).
  expect((await editorState(page))!.undoSteps).toBe(5);
  await page.keyboard.press('Control+z');
  await saved(page);
  expect((await maskRef(page, photo))!.id).toBe(inverted.id);
});

test('a keyboard-only modal: names, shortcut hints, focus trap; Escape commits the stroke in progress and saves', async ({ studio, page }) => {
  await studio.open();
  const photo = await seedPhoto(page, 'chelsea.png');
  await openEditor(page, photo);
  await expect(page.getByTestId('mask.canvas')).toBeFocused();

  const controls = dialog(page).locator('button:visible, input:visible, [tabindex="0"]:visible');
  const n = await controls.count();
  expect(n).toBeGreaterThan(25);
  for (let i = 0; i < n; i++) await expect(controls.nth(i)).toHaveAccessibleName(/\S/);
  for (const id of ['mask.brush', 'mask.eraser', 'mask.undo', 'mask.redo', 'mask.fill', 'mask.clear', 'mask.invert', 'mask.close']) {
    await expect(page.getByTestId(id)).toHaveAttribute('aria-keyshortcuts', /\S/);
    await expect(page.getByTestId(id)).toHaveAttribute('title', /\(.+\): /);
  }
  for (const id of ['mask.setting.threshold-on', 'mask.setting.grow', 'mask.setting.feather', 'mask.setting.invert', 'mask.setting.strength', 'mask.setting.fill']) {
    await expect(page.getByTestId(id).locator('xpath=ancestor-or-self::*[@title][1]')).toHaveAttribute('title', /\w.+\./);
  }

  // Tab reaches every control and wraps inside the dialog, both ways.
  const reached = new Set<string>();
  for (let i = 0; i < n + 5; i++) {
    await page.keyboard.press('Tab');
    const where = await page.evaluate(() => ({ inside: !!document.activeElement?.closest('[data-testid="mask.dialog"]'), id: document.activeElement?.getAttribute('data-testid') ?? '' }));
    expect(where.inside, 'focus stays in the dialog').toBe(true);
    reached.add(where.id);
  }
  for (const id of ['mask.close', 'mask.brush', 'mask.size', 'mask.hardness', 'mask.undo', 'mask.fill', 'mask.invert', 'mask.overlay-color', 'mask.zoomIn', 'mask.canvas', 'mask.setting.grow', 'mask.setting.strength', 'mask.setting.reset']) {
    expect(reached, `Tab reaches ${id}`).toContain(id);
  }
  await page.getByTestId('mask.close').focus();
  await page.keyboard.press('Shift+Tab');
  expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('mask.setting.reset');

  // Zoom keys change the view; 0 fits again.
  await page.getByTestId('mask.canvas').focus();
  const fitted = (await editorState(page))!.view.scale;
  await page.keyboard.press('+');
  expect((await editorState(page))!.view.scale).toBeCloseTo(fitted * 1.25, 5);
  await page.keyboard.press('0');
  expect((await editorState(page))!.view.scale).toBeCloseTo(fitted, 5);

  // Escape in the middle of a stroke: the stroke is committed, saved, and the dialog closes.
  const a = await page.evaluate(() => window.__maskEditor!.imageToClient(100, 150)!);
  const b = await page.evaluate(() => window.__maskEditor!.imageToClient(250, 150)!);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps: 6 });
  await page.keyboard.press('Escape');
  await expect(dialog(page)).toHaveCount(0);
  await page.mouse.up();
  await expect.poll(() => maskRef(page, photo)).not.toBeNull();
  const stored = (await storedMask(page, photo))!;
  for (let x = 100; x <= 250; x += 10) expect(stored.at(x, 150)).toBe(255);
  expect(await page.evaluate(() => window.__subjectStudio!.stores.subjects.getState().selection?.imageId)).toBeNull();
});

test('the mask survives a reload, and leaving before it is saved asks first', async ({ studio, page }) => {
  await studio.open();
  const photo = await seedPhoto(page, 'chelsea.png');
  await openEditor(page, photo);
  await page.getByTestId('mask.size').fill('24');
  await paint(page, [[60, 60], [390, 240]]);
  // Straight after the stroke, the save is still due: the page asks before unloading.
  const guarded = await page.evaluate(() => {
    const e = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(e);
    return e.defaultPrevented;
  });
  expect(guarded).toBe(true);
  await saved(page);
  const before = (await storedMask(page, photo))!;
  const live = await page.evaluate(() => window.__maskEditor!.pixels([[225, 150], [60, 60], [390, 240], [400, 40]]));
  expect(live).toEqual([255, 255, 255, 0]);

  await page.reload();
  await expect(studio.packStatus).toBeVisible();
  await expect(page.getByTestId('subject.image')).toHaveCount(1);
  const after = (await storedMask(page, photo))!;
  expect(after.id).toBe(before.id);
  await page.getByTestId('subject.editMask').click();
  await editorReady(page);
  expect(await page.evaluate(() => window.__maskEditor!.pixels([[225, 150], [60, 60], [390, 240], [400, 40]]))).toEqual([255, 255, 255, 0]);
  // Once saved, leaving is not held up.
  const free = await page.evaluate(() => {
    const e = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(e);
    return e.defaultPrevented;
  });
  expect(free).toBe(false);
});

test("mask settings change the subject's settings and the live preview", async ({ studio, page }) => {
  await studio.open();
  const photo = await seedPhoto(page, 'coffee.png', 'mug');
  await openEditor(page, photo);
  const preview = page.getByTestId('mask.preview');
  await expect(preview).toHaveAttribute('data-unmasked', 'true');
  await page.getByTestId('mask.size').fill('80');
  await paint(page, [[200, 200], [400, 200]]);
  await expect(preview).not.toHaveAttribute('data-unmasked', 'true');
  const coverage = async () => Number(await preview.getAttribute('data-coverage'));
  const settings = () => page.evaluate((id) => window.__subjectStudio!.stores.subjects.getState().subjects.find((s) => s.id === id)!, photo.subjectId);
  await expect.poll(coverage).toBeGreaterThan(0.05);
  const painted = await coverage();

  const grow = page.getByTestId('mask.setting.grow');
  await grow.focus();
  for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight');
  await expect.poll(async () => (await settings()).maskSettings.growPx).toBe(6);
  await expect.poll(coverage).toBeGreaterThan(painted + 0.02);
  await grow.fill('0');
  await expect.poll(coverage).toBeCloseTo(painted, 3);

  await page.getByTestId('mask.setting.invert').check();
  await expect.poll(async () => (await settings()).maskSettings.invert).toBe(true);
  await expect.poll(coverage).toBeCloseTo(1 - painted, 2);
  await page.getByTestId('mask.setting.strength').fill('0');
  await expect.poll(coverage).toBeCloseTo(1, 3);
  await page.getByTestId('mask.setting.feather').fill('4');
  await page.getByTestId('mask.setting.threshold-on').check();
  await expect(page.getByTestId('mask.setting.threshold')).toHaveValue('0.5');
  await page.getByTestId('mask.setting.fill.blur').check();
  expect(await settings()).toMatchObject({ fill: 'blur', maskSettings: { threshold: 0.5, growPx: 0, featherPx: 4, invert: true, strength: 0 } });
  // The preview stays cheap: computed on a copy of at most 512 px.
  expect(Number(await preview.getAttribute('data-ms'))).toBeLessThan(50);
  await page.getByTestId('mask.setting.reset').click();
  expect(await settings()).toMatchObject({ fill: 'black', maskSettings: { threshold: null, growPx: 0, featherPx: 0, invert: false, strength: 1 } });
  await expect.poll(coverage).toBeCloseTo(painted, 3);
});

/** The view canvas's RGB at a photo pixel, as shown on screen. */
function shownAt(page: Page, x: number, y: number): Promise<number[]> {
  return page.evaluate(({ x, y }) => {
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="mask.canvas"]')!;
    const c = window.__maskEditor!.imageToClient(x, y)!;
    const r = canvas.getBoundingClientRect();
    const k = canvas.width / r.width;
    return Array.from(canvas.getContext('2d')!.getImageData(Math.floor((c.x - r.left) * k), Math.floor((c.y - r.top) * k), 1, 1).data.slice(0, 3));
  }, { x, y });
}

test('the view: overlay colour and opacity, wheel zoom about the pointer, space and middle-button pan, pen pressure', async ({ studio, page }) => {
  await studio.open();
  const photo = await seedPhoto(page, 'chelsea.png');
  await openEditor(page, photo);
  const before = await shownAt(page, 200, 150);
  await page.getByTestId('mask.overlay-color').fill('#00ff00');
  await page.getByTestId('mask.overlay-opacity').fill('1');
  await page.getByTestId('mask.hardness').fill('1');
  await page.getByTestId('mask.size').fill('30');
  await paint(page, [[100, 150], [300, 150]]);
  await page.evaluate(() => window.__maskEditor!.whenDrawn());
  await expect.poll(() => shownAt(page, 200, 150)).toEqual([0, 255, 0]);
  expect(await shownAt(page, 200, 250)).not.toEqual([0, 255, 0]);
  // Opacity is display only: at 0 the photo shows as it was, and the mask is unchanged.
  const version = (await editorState(page))!.version;
  await page.getByTestId('mask.overlay-opacity').fill('0');
  await expect.poll(async () => (await shownAt(page, 200, 150)).every((v, i) => Math.abs(v - before[i]!) <= 2)).toBe(true);
  expect((await editorState(page))!.version).toBe(version);

  // Wheel zoom keeps the photo point under the pointer where it was.
  const anchor = await page.evaluate(() => window.__maskEditor!.imageToClient(120, 80)!);
  await page.mouse.move(anchor.x, anchor.y);
  const fitted = (await editorState(page))!.view.scale;
  await page.mouse.wheel(0, -400);
  await expect.poll(async () => (await editorState(page))!.view.scale).toBeGreaterThan(fitted * 1.5);
  const moved = await page.evaluate(() => window.__maskEditor!.imageToClient(120, 80)!);
  expect(Math.abs(moved.x - anchor.x)).toBeLessThan(1);
  expect(Math.abs(moved.y - anchor.y)).toBeLessThan(1);

  // Space + drag pans and paints nothing; so does a middle-button drag.
  const pan = async (how: 'space' | 'middle') => {
    const v0 = (await editorState(page))!.view;
    if (how === 'space') await page.keyboard.down(' ');
    await page.mouse.down({ button: how === 'space' ? 'left' : 'middle' });
    await page.mouse.move(anchor.x + 60, anchor.y + 30, { steps: 4 });
    await page.mouse.up({ button: how === 'space' ? 'left' : 'middle' });
    if (how === 'space') await page.keyboard.up(' ');
    await page.mouse.move(anchor.x, anchor.y);
    const v1 = (await editorState(page))!.view;
    expect(v1.tx - v0.tx).toBeCloseTo(60, 3);
    expect(v1.ty - v0.ty).toBeCloseTo(30, 3);
  };
  await page.getByTestId('mask.canvas').focus();
  await pan('space');
  await pan('middle');
  expect((await editorState(page))!.version).toBe(version);
  await page.keyboard.press('0');
  expect((await editorState(page))!.view.scale).toBeCloseTo(fitted, 5);

  // A pen: the brush is as wide as its pressure says (a mouse always paints at full size).
  const cdp = await page.context().newCDPSession(page);
  const penStroke = async (y: number, force: number) => {
    const pts = await page.evaluate((y) => [window.__maskEditor!.imageToClient(60, y)!, window.__maskEditor!.imageToClient(160, y)!], y);
    const send = (type: 'mousePressed' | 'mouseMoved' | 'mouseReleased', p: { x: number; y: number }) =>
      cdp.send('Input.dispatchMouseEvent', { type, x: p.x, y: p.y, button: 'left', buttons: type === 'mouseReleased' ? 0 : 1, clickCount: 1, pointerType: 'pen', force });
    await send('mousePressed', pts[0]!);
    for (let i = 1; i <= 8; i++) await send('mouseMoved', { x: pts[0]!.x + ((pts[1]!.x - pts[0]!.x) * i) / 8, y: pts[0]!.y });
    await send('mouseReleased', pts[1]!);
  };
  await page.getByTestId('mask.size').fill('40');
  await penStroke(40, 1);
  await penStroke(260, 0.25);
  await cdp.detach();
  await saved(page);
  const mask = (await storedMask(page, photo))!;
  const thickness = (y: number) => Array.from({ length: 60 }, (_, i) => mask.at(110, y - 30 + i)).filter((v) => v === 255).length;
  expect(thickness(40)).toBeGreaterThanOrEqual(36);
  expect(thickness(260)).toBeGreaterThanOrEqual(7);
  expect(thickness(260)).toBeLessThanOrEqual(11);
});

/** Paints one stroke through the DevTools protocol and measures frames and long tasks from button down to the committed stroke on screen. */
async function measuredStroke(page: Page, path: [number, number][]) {
  await page.evaluate(() => {
    const perf: PerfLog = { long: [], frames: [], t0: 0, t1: 0, t2: 0, stop: false };
    (window as unknown as { __perf: PerfLog }).__perf = perf;
    new PerformanceObserver((list) => list.getEntries().forEach((e) => perf.long.push({ start: e.startTime, duration: e.duration }))).observe({ type: 'longtask' });
    window.addEventListener('pointerdown', () => (perf.t0 = performance.now()), { capture: true, once: true });
    window.addEventListener('pointerup', () => (perf.t1 = performance.now()), { capture: true, once: true });
    const tick = (t: number) => {
      perf.frames.push(t);
      if (!perf.stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const at = await page.evaluate((pts) => pts.map(([x, y]) => window.__maskEditor!.imageToClient(x, y)!), path);
  // Through the DevTools protocol: Playwright's trace recorder snapshots the whole DOM around each of its own
  // mouse actions (50-450 ms tasks in the page), which would measure the recorder, not the editor.
  const cdp = await page.context().newCDPSession(page);
  const mouse = (type: 'mouseMoved' | 'mousePressed' | 'mouseReleased', p: { x: number; y: number }, buttons: number) =>
    cdp.send('Input.dispatchMouseEvent', { type, x: p.x, y: p.y, button: 'left', buttons, clickCount: type === 'mouseMoved' ? 0 : 1 });
  await mouse('mouseMoved', at[0]!, 0);
  await mouse('mousePressed', at[0]!, 1);
  // About 60 moves a second, as a mouse reports them: the stroke lasts about a second.
  const began = Date.now();
  for (let i = 1; i < at.length; i++) {
    await mouse('mouseMoved', at[i]!, 1);
    await new Promise((r) => setTimeout(r, Math.max(0, began + i * 16.7 - Date.now())));
  }
  await mouse('mouseReleased', at.at(-1)!, 0);
  await cdp.send('Runtime.evaluate', { expression: 'window.__maskEditor.whenDrawn().then(() => { window.__perf.t2 = performance.now(); })', awaitPromise: true });
  await cdp.detach();
  return page.evaluate(() => {
    const p = (window as unknown as { __perf: PerfLog }).__perf;
    p.stop = true;
    const f = p.frames.filter((t) => t >= p.t0 && t <= p.t2);
    const gaps = f.slice(1).map((t, i) => t - f[i]!).sort((a, b) => a - b);
    return {
      strokeMs: p.t1 - p.t0,
      commitMs: p.t2 - p.t1,
      long: p.long.filter((e) => e.start + e.duration >= p.t0 && e.start <= p.t2).map((e) => e.duration),
      frames: f.length,
      p50: gaps[Math.floor(gaps.length / 2)] ?? 0,
      p95: gaps[Math.floor(gaps.length * 0.95)] ?? 0,
      max: gaps.at(-1) ?? 0,
    };
  });
}

test('painting a 4000x3000 photo stays responsive: no long task during a one-second stroke', async ({ studio, page }, info) => {
  test.setTimeout(240_000);
  await studio.open();
  const big: Seeded = await seedLargePhoto(page, 4000, 3000);
  await openEditor(page, big);
  expect(await editorState(page)).toMatchObject({ width: 4000, height: 3000 });
  await page.getByTestId('mask.size').fill('160');
  // Let the opening settle (first frames, the preview), then watch strokes only.
  await page.waitForTimeout(500);

  // Up to five strokes: on a loaded machine other processes can stall any frame (long tasks are wall-clock time and
  // the test machines are small and shared), but a regression (a photo-sized canvas on screen, a stroke committed
  // in one task) stalls every stroke; measured that way, every stroke had 50-450 ms tasks.
  const paths: [number, number][][] = [];
  const reports: string[] = [];
  let clean = false;
  for (let attempt = 0; attempt < 5 && !clean; attempt++) {
    const path = Array.from({ length: 61 }, (_, i) => [200 + i * 60, 400 + attempt * 550 + Math.round(220 * Math.sin(i / 6))] as [number, number]);
    paths.push(path);
    const perf = await measuredStroke(page, path);
    const report =
      `stroke ${Math.round(perf.strokeMs)} ms + ${Math.round(perf.commitMs)} ms to the committed frame; ${perf.frames} frames; ` +
      `frame gap p50 ${perf.p50.toFixed(1)} ms, p95 ${perf.p95.toFixed(1)} ms, max ${perf.max.toFixed(1)} ms; ` +
      `long tasks: ${perf.long.length ? perf.long.map((d) => d.toFixed(0)).join(', ') + ' ms' : 'none'}; machine load ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
    reports.push(report);
    info.annotations.push({ type: 'perf', description: report });
    console.log(`[mask perf, ${info.project.name}, stroke ${attempt + 1}] ${report}`);
    expect(perf.strokeMs).toBeGreaterThan(900);
    clean = perf.long.every((d) => d <= 50);
  }
  expect(clean, `a stroke without long tasks over 50 ms:\n${reports.join('\n')}`).toBe(true);

  // And it was painted and stored: pixels on every path, read straight from the stored blob.
  await saved(page);
  const ref = (await maskRef(page, big))!;
  const points = [...paths.flat(), [3900, 100], [100, 2950]] as [number, number][];
  const samples = (await page.evaluate(({ id, pts }) => window.__maskEditor!.storedPixels(id, 4000, pts), { id: ref.id, pts: points }))!;
  expect(samples.slice(0, -2).every((v) => v === 255)).toBe(true);
  expect(samples.slice(-2)).toEqual([0, 0]);
  // Undo history holds the strokes as diffs far smaller than the 12 MB mask.
  expect((await editorState(page))!.historyBytes).toBeLessThan(4000 * 3000 * 0.1);
});
