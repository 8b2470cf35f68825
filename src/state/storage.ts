/**
 * IndexedDB persistence. Two stores: small documents (the zustand stores'
 * state, structured-cloned) and content-addressed blobs (photos, masks,
 * gallery images) that documents refer to by id. A failed write (a full
 * quota) throws StorageQuotaError and leaves what was saved before intact:
 * each write is one IndexedDB transaction.
 */
import { clear, createStore, del, get, keys, set, values, type UseStore } from 'idb-keyval';
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

type BlobsListener = () => void;
const blobListeners = new Set<BlobsListener>();

/** Called after blobs were written or deleted (storage use changed). */
export function onBlobsChanged(listener: BlobsListener): () => void {
  blobListeners.add(listener);
  return () => blobListeners.delete(listener);
}

function blobsChanged(): void {
  for (const l of blobListeners) l();
}

/**
 * Blob ids written (or found already stored) by putBlob in this page's
 * lifetime. Garbage collection never takes these: a feature stores a blob
 * first and refers to it from its document a moment later, and a collection
 * running in between must not delete it. Whatever ends up unused is
 * collected on a later start.
 */
const writtenThisSession = new Set<string>();

/** Stores a blob under its id, once (blobs are content-addressed). */
export async function putBlob(id: string, blob: Blob): Promise<void> {
  writtenThisSession.add(id);
  if ((await get(id, blobStore())) !== undefined) return;
  await guarded(`an image (${(blob.size / 1e6).toFixed(1)} MB)`, () => set(id, blob, blobStore()));
  blobsChanged();
}

export async function getBlob(id: string): Promise<Blob | undefined> {
  return get<Blob>(id, blobStore());
}

export async function deleteBlob(id: string): Promise<void> {
  await del(id, blobStore());
  blobsChanged();
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
  writtenThisSession.clear();
  blobsChanged();
}

/**
 * Adds every string found anywhere in `value` (objects, arrays, Maps, Sets)
 * to `out`. Blobs, typed arrays and other binary values are skipped.
 */
export function collectStrings(value: unknown, out: Set<string>): Set<string> {
  const seen = new Set<object>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      out.add(v);
      return;
    }
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || (typeof Blob !== 'undefined' && v instanceof Blob)) return;
    seen.add(v);
    if (v instanceof Map) {
      for (const [k, x] of v) {
        walk(k);
        walk(x);
      }
    } else if (v instanceof Set || Array.isArray(v)) {
      for (const x of v) walk(x);
    } else {
      for (const x of Object.values(v)) walk(x);
    }
  };
  walk(value);
  return out;
}

export interface GarbageReport {
  /** Ids of the blobs deleted. */
  deleted: string[];
  /** Their total size in bytes. */
  bytes: number;
  /** Blobs left in the store. */
  kept: number;
}

/**
 * Deletes blobs nothing refers to. A blob is kept when its id is in
 * `referenced` (the live in-memory state of the stores), when it occurs as a
 * string anywhere in any saved document, or when this session wrote it. The
 * check is deliberately generous: a store that starts keeping blob ids in a
 * new field is covered without changes here, and a saved document that a
 * store failed to load (an unmigrated version) still protects its blobs.
 * Leaking a blob costs disk space; deleting a used one loses someone's photo.
 */
export async function collectUnreferencedBlobs(referenced: ReadonlySet<string>): Promise<GarbageReport> {
  const inDocuments = collectStrings(await values(docs()), new Set<string>());
  const ids = await blobIds();
  const doomed = ids.filter((id) => !referenced.has(id) && !inDocuments.has(id) && !writtenThisSession.has(id));
  let bytes = 0;
  const deleted: string[] = [];
  for (const id of doomed) {
    // Re-checked per blob: a putBlob may have claimed it while we were deleting others.
    if (writtenThisSession.has(id)) continue;
    bytes += (await getBlob(id))?.size ?? 0;
    await del(id, blobStore());
    deleted.push(id);
  }
  if (deleted.length > 0) blobsChanged();
  return { deleted, bytes, kept: ids.length - deleted.length };
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
