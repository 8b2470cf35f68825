/**
 * IndexedDB persistence. Two stores: small documents (the zustand stores'
 * state, structured-cloned) and content-addressed blobs (photos, masks,
 * gallery images) that documents refer to by id. A failed write (a full
 * quota) throws StorageQuotaError and leaves what was saved before intact:
 * each write is one IndexedDB transaction.
 */
import { clear, createStore, del, get, keys, set, type UseStore } from 'idb-keyval';
import type { PersistStorage, StorageValue } from 'zustand/middleware';

let documents: UseStore | null = null;
let blobs: UseStore | null = null;
const docs = () => (documents ??= createStore('subject-studio-documents', 'documents'));
const blobStore = () => (blobs ??= createStore('subject-studio-blobs', 'blobs'));

export class StorageQuotaError extends Error {
  constructor(what: string, cause: unknown) {
    super(`Could not save ${what}: the browser's storage quota for this site is full. Nothing saved before was lost; free space (Storage: Clear) or delete gallery images.`, { cause });
    this.name = 'StorageQuotaError';
  }
}

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

type StorageListener = (error: Error | null) => void;
const listeners = new Set<StorageListener>();

/** Called with the error of each failed write (and null after the next good one). */
export function onStorageError(listener: StorageListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function guarded<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    const out = await write();
    for (const l of listeners) l(null);
    return out;
  } catch (e) {
    const err = isQuotaError(e) ? new StorageQuotaError(what, e) : new Error(`Could not save ${what}: ${(e as Error).message}`, { cause: e });
    for (const l of listeners) l(err);
    throw err;
  }
}

/** Stores a blob under its id, once (blobs are content-addressed). */
export async function putBlob(id: string, blob: Blob): Promise<void> {
  if ((await get(id, blobStore())) !== undefined) return;
  await guarded(`an image (${(blob.size / 1e6).toFixed(1)} MB)`, () => set(id, blob, blobStore()));
}

export async function getBlob(id: string): Promise<Blob | undefined> {
  return get<Blob>(id, blobStore());
}

export async function deleteBlob(id: string): Promise<void> {
  await del(id, blobStore());
}

export async function blobIds(): Promise<string[]> {
  return (await keys(blobStore())).map(String);
}

/** sha256 of bytes, hex: the id of a blob. */
export async function contentId(data: Blob | Uint8Array): Promise<string> {
  const bytes = data instanceof Blob ? new Uint8Array(await data.arrayBuffer()) : data;
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A zustand persist storage on IndexedDB that keeps typed arrays and blobs as they are (structured clone). */
export function idbPersistStorage<S>(what: string): PersistStorage<S> {
  return {
    getItem: async (name) => (await get<StorageValue<S>>(name, docs())) ?? null,
    setItem: async (name, value) => {
      try {
        await guarded(what, () => set(name, value, docs()));
      } catch {
        // Reported through onStorageError; the in-memory state stays, the saved copy stays as it was.
      }
    },
    removeItem: async (name) => {
      await del(name, docs());
    },
  };
}

export interface StorageUse {
  usedBytes: number | null;
  quotaBytes: number | null;
  blobs: number;
}

export async function storageUse(): Promise<StorageUse> {
  const est = await navigator.storage?.estimate?.().catch(() => undefined);
  return { usedBytes: est?.usage ?? null, quotaBytes: est?.quota ?? null, blobs: (await blobIds()).length };
}

/** Deletes everything the studio stored (documents and blobs). */
export async function clearAllStorage(): Promise<void> {
  await clear(docs());
  await clear(blobStore());
}

/**
 * What persists where (ARCHITECTURE.md: one typed table). Documents are the
 * zustand stores' state under these keys; binary data lives in the blob store.
 */
export const PERSISTED = {
  subjects: { key: 'subjects', holds: 'subjects: names, class words, strengths, mask settings, image and mask blob ids' },
  prompt: { key: 'prompt', holds: 'prompt, negative prompt, live mode' },
  settings: { key: 'settings', holds: 'generation settings and saved presets' },
  gallery: { key: 'gallery', holds: 'gallery entries: the full request and the PNG blob id of each result' },
  blobs: { key: '(blob store)', holds: 'photos, painted masks (raw bytes), gallery PNGs, keyed by sha256' },
} as const;
