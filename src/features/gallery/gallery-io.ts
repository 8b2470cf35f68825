/**
 * Into and out of the gallery: a finished image becomes a PNG (request
 * embedded) in the blob store plus an entry; an imported PNG gives its
 * request back (and joins the gallery when it is not there yet).
 */
import { useGalleryStore, type GalleryEntry, type GalleryRequest } from '../../state/gallery-store';
import { contentId, putBlob } from '../../state/storage';
import { embedJson, isPng, PNG_KEYWORD, pngSize, readTextChunk } from './png-metadata';
import { parseGalleryRequest, reuseRequest, type ReuseReport } from './request';

const newId = () => globalThis.crypto.randomUUID();

/** RGBA pixels to a PNG blob (the browser's encoder, off the main thread). */
export async function rgbaToPng(rgba: Uint8ClampedArray, width: number, height: number): Promise<Blob> {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser has no 2D canvas');
  ctx.putImageData(new ImageData(new Uint8ClampedArray(rgba) as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
  return canvas.convertToBlob({ type: 'image/png' });
}

/** Saves a generated image with the request that made it; returns the new gallery entry. */
export async function saveResult(image: { rgba: Uint8ClampedArray; width: number; height: number }, request: GalleryRequest, ms: number): Promise<GalleryEntry> {
  const png = await embedJson(await rgbaToPng(image.rgba, image.width, image.height), request);
  const pngId = await contentId(png);
  await putBlob(pngId, png);
  const entry: GalleryEntry = { id: newId(), createdAt: Date.now(), pngId, width: image.width, height: image.height, request, ms };
  useGalleryStore.getState().actions.add(entry);
  return entry;
}

/** A file name for a download: what it shows, and the seed that makes it again. */
export function downloadName(entry: GalleryEntry): string {
  const words = entry.request.prompt.replace(/@/g, '').replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return `subject-studio-${words || 'image'}-seed${entry.request.seed}.png`;
}

export type ImportOutcome =
  | { kind: 'restored'; request: GalleryRequest; report: ReuseReport; added: boolean }
  | { kind: 'no-metadata' }
  | { kind: 'invalid'; problem: string };

/**
 * Reads a PNG's embedded request and restores it (prompt, subjects,
 * settings). The image joins the gallery unless the same file is already in it.
 */
export async function importPng(file: Blob): Promise<ImportOutcome> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (!isPng(bytes)) return { kind: 'invalid', problem: 'it is not a PNG file' };
  let text: string | null;
  try {
    text = readTextChunk(bytes, PNG_KEYWORD);
  } catch (e) {
    return { kind: 'invalid', problem: `the PNG is damaged (${(e as Error).message})` };
  }
  if (text === null) return { kind: 'no-metadata' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', problem: 'its Subject Studio data is not valid JSON' };
  }
  const request = parseGalleryRequest(json);
  if (typeof request === 'string') return { kind: 'invalid', problem: request };
  const report = await reuseRequest(request);
  const png = new Blob([bytes], { type: 'image/png' });
  const pngId = await contentId(png);
  const gallery = useGalleryStore.getState();
  const added = !gallery.entries.some((e) => e.pngId === pngId);
  if (added) {
    await putBlob(pngId, png);
    const { width, height } = pngSize(bytes);
    // The generation time is not part of the request: 0 marks an imported image.
    gallery.actions.add({ id: newId(), createdAt: Date.now(), pngId, width, height, request, ms: 0 });
  }
  return { kind: 'restored', request, report, added };
}

/** What an import did, for people. */
export function importMessage(fileName: string, outcome: ImportOutcome): string {
  if (outcome.kind === 'no-metadata') return `“${fileName}” has no Subject Studio metadata: there is no request to restore.`;
  if (outcome.kind === 'invalid') return `“${fileName}” could not be imported: ${outcome.problem}.`;
  const parts = [`Restored the prompt, subjects and settings of “${fileName}” (seed ${outcome.request.seed}).`];
  if (!outcome.added) parts.push('The image was already in the gallery.');
  if (outcome.report.missingPhotos.length > 0) {
    parts.push(`Not in this browser, add them again: ${outcome.report.missingPhotos.join(', ')}.`);
  }
  return parts.join(' ');
}
