/**
 * Helpers for the subjects panel tests: real photo files handed to the page,
 * drops and pastes dispatched as the browser would, and reads of what the
 * studio stored (through window.__subjectStudio).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import type { Subject } from '../../src/state/subjects-store';

/** A file to create in the page: its bytes travel as base64. */
export interface PageFile {
  name: string;
  type: string;
  base64: string;
}

const PHOTOS = fileURLToPath(new URL('../photos/', import.meta.url));

export function photo(name: 'chelsea.png' | 'coffee.png' | 'truncated.jpg'): PageFile {
  const type = name.endsWith('.png') ? 'image/png' : 'image/jpeg';
  return { name, type, base64: readFileSync(`${PHOTOS}${name}`).toString('base64') };
}

export function textFile(name: string, text: string): PageFile {
  return { name, type: 'text/plain', base64: Buffer.from(text).toString('base64') };
}

/** sha256 hex of a test photo's bytes: the id a photo stored unchanged must have. */
export function sha256Of(file: PageFile): string {
  return createHash('sha256').update(Buffer.from(file.base64, 'base64')).digest('hex');
}

/**
 * Dispatches dragenter, dragover and drop carrying `files` on the element
 * matching `selector` (default: body), as a drag from the desktop would;
 * `hoverOnly` stops before the drop. `generated` names files made in the
 * page by makePhotos.
 */
export async function dropFiles(page: Page, files: PageFile[], options: { selector?: string; generated?: string[]; hoverOnly?: boolean } = {}): Promise<void> {
  await page.evaluate(
    ({ files, selector, generated, hoverOnly }) => {
      const dt = new DataTransfer();
      for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
      const made = (window as unknown as { __testFiles?: Record<string, File> }).__testFiles ?? {};
      for (const name of generated) dt.items.add(made[name]!);
      const target = document.querySelector(selector) ?? document.body;
      for (const type of hoverOnly ? ['dragenter', 'dragover'] : ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      }
    },
    { files, selector: options.selector ?? 'body', generated: options.generated ?? [], hoverOnly: options.hoverOnly ?? false },
  );
}

/** Dispatches a paste of `files` on the focused element (or body), like Ctrl+V with an image on the clipboard. */
export async function pasteFiles(page: Page, files: PageFile[]): Promise<void> {
  await page.evaluate((files) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    (document.activeElement ?? document.body).dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, files);
}

/**
 * Makes distinct JPEG or PNG photos in the page (gradient, disks, noise) and
 * keeps them as window.__testFiles[name] for dropFiles({ generated }).
 */
export async function makePhotos(page: Page, specs: { name: string; width: number; height: number; seed: number; type?: 'image/jpeg' | 'image/png' }[]): Promise<void> {
  await page.evaluate(async (specs) => {
    const w = window as unknown as { __testFiles?: Record<string, File> };
    w.__testFiles ??= {};
    for (const s of specs) {
      const canvas = new OffscreenCanvas(s.width, s.height);
      const ctx = canvas.getContext('2d')!;
      const grad = ctx.createLinearGradient(0, 0, s.width, s.height);
      grad.addColorStop(0, `hsl(${(s.seed * 47) % 360} 70% 60%)`);
      grad.addColorStop(1, `hsl(${(s.seed * 91) % 360} 60% 25%)`);
      ctx.fillStyle = grad;
      ctx.fillRect(0, 0, s.width, s.height);
      for (let i = 0; i < 24; i++) {
        ctx.fillStyle = `hsl(${(s.seed * 131 + i * 37) % 360} 80% 50% / 0.7)`;
        ctx.beginPath();
        ctx.arc(((i * 7919 + s.seed * 104729) % 997) / 997 * s.width, ((i * 6271 + s.seed * 7) % 991) / 991 * s.height, (s.height / 12) * (1 + (i % 4)), 0, Math.PI * 2);
        ctx.fill();
      }
      const blob = await canvas.convertToBlob(s.type === 'image/png' ? { type: 'image/png' } : { type: 'image/jpeg', quality: 0.9 });
      w.__testFiles[s.name] = new File([blob], s.name, { type: blob.type });
    }
  }, specs);
}

export function subjects(page: Page): Promise<Subject[]> {
  return page.evaluate(() => window.__subjectStudio!.stores.subjects.getState().subjects);
}

/** Decodes a stored blob in the page: its size in bytes and pixels, or null when it is not stored. */
export function storedImage(page: Page, id: string): Promise<{ bytes: number; width: number; height: number; type: string } | null> {
  return page.evaluate(async (id) => {
    const bytes = await window.__subjectStudio!.readBlob(id);
    if (!bytes) return null;
    const data = Uint8Array.from(bytes);
    const bitmap = await createImageBitmap(new Blob([data]));
    // The first bytes tell JPEG (FF D8) from PNG (89 50).
    const type = data[0] === 0xff && data[1] === 0xd8 ? 'image/jpeg' : data[0] === 0x89 && data[1] === 0x50 ? 'image/png' : 'other';
    return { bytes: data.length, width: bitmap.width, height: bitmap.height, type };
  }, id);
}

export function blobExists(page: Page, id: string): Promise<boolean> {
  return page.evaluate(async (id) => (await window.__subjectStudio!.readBlob(id)) !== null, id);
}

/** Writes a blob straight into the studio's blob store (as an older session would have left it). */
export function putRawBlob(page: Page, id: string, bytes: number[]): Promise<void> {
  return page.evaluate(
    ({ id, bytes }) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('subject-studio-blobs');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction('blobs', 'readwrite');
          tx.objectStore('blobs').put(new Blob([Uint8Array.from(bytes)]), id);
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    { id, bytes },
  );
}

/** Mean brightness (0..255) of the left and right halves of an <img>'s pixels. */
export function halfBrightness(page: Page, selector: string): Promise<{ left: number; right: number }> {
  return page.evaluate(async (selector) => {
    const img = document.querySelector<HTMLImageElement>(selector)!;
    await img.decode();
    const canvas = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const { data, width, height } = ctx.getImageData(0, 0, img.naturalWidth, img.naturalHeight);
    let left = 0;
    let right = 0;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const i = 4 * (y * width + x);
        const v = (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
        if (x < width / 2) left += v;
        else right += v;
      }
    const n = (width * height) / 2;
    return { left: left / n, right: right / n };
  }, selector);
}
