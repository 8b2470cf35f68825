/**
 * Helpers for the mask editor tests: seeding a subject with a real photo
 * (stored through window.__maskEditor.storeBlob, added with the subjects
 * store's actions), painting with the real mouse at photo coordinates, and
 * reading what was stored (window.__subjectStudio.readBlob).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, type Page } from '@playwright/test';
import type { MaskEditorState } from '../../src/features/mask/test-hook';
import type { MaskRef } from '../../src/state/subjects-store';

const PHOTOS = fileURLToPath(new URL('../photos/', import.meta.url));

export interface Seeded {
  subjectId: string;
  imageId: string;
  width: number;
  height: number;
}

async function whenSubjectsLoaded(page: Page): Promise<void> {
  // Adding before the saved subjects have loaded would be overwritten by them.
  await page.waitForFunction(() => window.__subjectStudio?.stores.subjects.persist.hasHydrated() === true);
}

/** Adds a subject named `name` holding the photo e2e/photos/<file>, stored byte for byte. */
export async function seedPhoto(page: Page, file: 'chelsea.png' | 'coffee.png', name = 'cat'): Promise<Seeded> {
  await whenSubjectsLoaded(page);
  const base64 = readFileSync(`${PHOTOS}${file}`).toString('base64');
  return page.evaluate(
    async ({ base64, file, name }) => {
      const blob = new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type: 'image/png' });
      const bitmap = await createImageBitmap(blob);
      const { width, height } = bitmap;
      bitmap.close();
      const imageId = await window.__maskEditor!.storeBlob(blob);
      const { actions } = window.__subjectStudio!.stores.subjects.getState();
      const subject = actions.addSubject({ name, classWord: 'cat' });
      actions.addImages(subject.id, [{ id: imageId, fileName: file, width, height, mask: null }]);
      return { subjectId: subject.id, imageId, width, height };
    },
    { base64, file, name },
  );
}

/** Adds a subject with a generated width x height JPEG photo (gradient and disks), made in the page. */
export async function seedLargePhoto(page: Page, width: number, height: number): Promise<Seeded> {
  await whenSubjectsLoaded(page);
  return page.evaluate(
    async ({ width, height }) => {
      const canvas = new OffscreenCanvas(width, height);
      const ctx = canvas.getContext('2d')!;
      const grad = ctx.createLinearGradient(0, 0, width, height);
      grad.addColorStop(0, '#8ab4f8');
      grad.addColorStop(1, '#3c4043');
      ctx.fillStyle = grad;
      ctx.fillRect(0, 0, width, height);
      for (let i = 0; i < 30; i++) {
        ctx.fillStyle = `hsl(${(i * 37) % 360} 70% 50% / 0.7)`;
        ctx.beginPath();
        ctx.arc(((i * 7919) % 997) / 997 * width, ((i * 6271) % 991) / 991 * height, height / (6 + (i % 5)), 0, Math.PI * 2);
        ctx.fill();
      }
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
      const imageId = await window.__maskEditor!.storeBlob(blob);
      const { actions } = window.__subjectStudio!.stores.subjects.getState();
      const subject = actions.addSubject({ name: 'big', classWord: 'scene' });
      actions.addImages(subject.id, [{ id: imageId, fileName: 'big.jpg', width, height, mask: null }]);
      return { subjectId: subject.id, imageId, width, height };
    },
    { width, height },
  );
}

/** Opens the editor on a photo through the store's selection, and waits until it is drawn. */
export async function openEditor(page: Page, seeded: Seeded): Promise<void> {
  await page.evaluate(({ subjectId, imageId }) => window.__subjectStudio!.stores.subjects.getState().actions.select(subjectId, imageId), seeded);
  await editorReady(page);
}

export async function editorReady(page: Page): Promise<void> {
  await expect(page.getByTestId('mask.dialog')).toHaveAttribute('data-state', 'ready');
  await page.evaluate(() => window.__maskEditor!.whenDrawn());
}

export function editorState(page: Page): Promise<MaskEditorState | null> {
  return page.evaluate(() => window.__maskEditor!.state());
}

/** Drags the mouse through photo pixels `points` (the first is where the button goes down). */
export async function paint(page: Page, points: [number, number][], stepsPerSegment = 8): Promise<void> {
  const at = (p: [number, number]) => page.evaluate(([x, y]) => window.__maskEditor!.imageToClient(x, y)!, p);
  const first = await at(points[0]!);
  await page.mouse.move(first.x, first.y);
  await page.mouse.down();
  for (const p of points.slice(1)) {
    const c = await at(p);
    await page.mouse.move(c.x, c.y, { steps: stepsPerSegment });
  }
  await page.mouse.up();
}

/** Waits until every change is stored. */
export async function saved(page: Page): Promise<void> {
  await expect(page.getByTestId('mask.save')).toHaveAttribute('data-state', 'saved');
  await expect.poll(async () => (await editorState(page))?.unsaved).toBe(false);
}

/** The image's stored mask reference (subjects store). */
export function maskRef(page: Page, seeded: Seeded): Promise<MaskRef | null> {
  return page.evaluate(
    ({ subjectId, imageId }) =>
      window.__subjectStudio!.stores.subjects
        .getState()
        .subjects.find((s) => s.id === subjectId)!
        .images.find((i) => i.id === imageId)!.mask,
    seeded,
  );
}

export interface StoredMask extends MaskRef {
  bytes: Uint8Array;
  at(x: number, y: number): number;
}

/** The stored mask's bytes, read back through window.__subjectStudio.readBlob; null when the image has no mask. */
export async function storedMask(page: Page, seeded: Seeded): Promise<StoredMask | null> {
  const ref = await maskRef(page, seeded);
  if (!ref) return null;
  const numbers = await page.evaluate((id) => window.__subjectStudio!.readBlob(id), ref.id);
  expect(numbers, `mask blob ${ref.id} is stored`).not.toBeNull();
  const bytes = Uint8Array.from(numbers!);
  expect(bytes.length).toBe(ref.width * ref.height);
  return { ...ref, bytes, at: (x, y) => bytes[y * ref.width + x]! };
}

/** How many bytes equal `value`. */
export function count(bytes: Uint8Array, value: number): number {
  let n = 0;
  for (const b of bytes) if (b === value) n++;
  return n;
}
