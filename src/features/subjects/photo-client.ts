/**
 * The main thread's side of the photo worker. A worker that dies (a photo
 * too large for the device's memory, a failed load) rejects the calls in
 * flight instead of leaving them hanging, and the next call starts a new one.
 */
import { wrap, type Remote } from 'comlink';
import type { PreparedPhoto, ThumbnailMask } from './photo-pipeline';
import type { PhotoWorkerApi } from './photo.worker';

let current: { worker: Worker; remote: Remote<PhotoWorkerApi>; crashed: Promise<never> } | null = null;

function photoWorker() {
  if (!current) {
    const worker = new Worker(new URL('./photo.worker.ts', import.meta.url), { type: 'module', name: 'photos' });
    const crashed = new Promise<never>((_, reject) => {
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        if (current?.worker === worker) current = null;
        worker.terminate();
        reject(new Error(`the photo decoder stopped (${event.message || 'it could not be loaded'})`));
      });
    });
    // Only rejected for calls racing against it; an unobserved rejection would be reported as a page error.
    crashed.catch(() => undefined);
    current = { worker, remote: wrap<PhotoWorkerApi>(worker), crashed };
  }
  return current;
}

function call<T>(run: (remote: Remote<PhotoWorkerApi>) => Promise<T>): Promise<T> {
  const w = photoWorker();
  return Promise.race([run(w.remote), w.crashed]);
}

/** See preparePhoto in photo-pipeline.ts. Rejects with a PhotoRejected-named error for unreadable files. */
export function preparePhoto(file: Blob, label: string): Promise<PreparedPhoto> {
  return call((r) => r.preparePhoto(file, label));
}

export function renderThumbnail(photo: Blob, mask: ThumbnailMask | null, side: number): Promise<Blob> {
  return call((r) => r.renderThumbnail(photo, mask, side));
}
