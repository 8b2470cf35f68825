/**
 * The main thread's side of the photo worker. A worker that dies (a photo
 * too large for the device's memory, a failed load) rejects the calls in
 * flight instead of leaving them hanging, and the next call starts a new one.
 */
import type { Remote } from 'comlink';
import { connectWorker, type WorkerClient } from '../../app/worker-client';
import type { PreparedPhoto, ThumbnailMask } from './photo-pipeline';
import type { PhotoWorkerApi } from './photo.worker';

let current: WorkerClient<PhotoWorkerApi> | null = null;

function photoWorker(): Remote<PhotoWorkerApi> {
  if (!current) {
    const worker = new Worker(new URL('./photo.worker.ts', import.meta.url), { type: 'module', name: 'photos' });
    const client = connectWorker<PhotoWorkerApi>(
      worker,
      (message) => new Error(`the photo decoder stopped (${message || 'it could not be loaded'})`),
      () => {
        if (current === client) current = null;
        worker.terminate();
      },
    );
    current = client;
  }
  return current.remote;
}

/** See preparePhoto in photo-pipeline.ts. Rejects with a PhotoRejected-named error for unreadable files. */
export function preparePhoto(file: Blob, label: string): Promise<PreparedPhoto> {
  return photoWorker().preparePhoto(file, label);
}

export function renderThumbnail(photo: Blob, mask: ThumbnailMask | null, side: number): Promise<Blob> {
  return photoWorker().renderThumbnail(photo, mask, side);
}
