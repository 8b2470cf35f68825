/**
 * Streams pack files into the cache: each file hashed while it streams,
 * resumed after an interruption with an HTTP Range request from the last
 * checkpoint, and verified again (by hash) whenever it is taken from the cache.
 */
import type { PackFileRef } from './manifest';
import type { BlobStore } from './store/blob-store';
import { newSha256, sha256OfBlob } from './store/hash';

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** How often a download records its resume point (bytes, or time, whichever comes first). */
const CHECKPOINT_BYTES = 8 * 1024 * 1024;
const CHECKPOINT_MS = 250;

export type PackErrorCode =
  | 'network'
  | 'not-found'
  | 'bad-hash'
  | 'bad-size'
  | 'quota'
  | 'cancelled'
  | 'too-large-for-gpu'
  | 'plan-refused'
  | 'manifest';

/** A pack load that failed, with a code the UI can act on (the message is for people). */
export class PackLoadError extends Error {
  constructor(
    readonly code: PackErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PackLoadError';
  }
}

export interface FileProgress {
  file: string;
  /** Bytes of this file now in the cache (downloaded or found). */
  bytes: number;
  /** 'verify': hashing a cached copy; 'download': bytes coming over the network. */
  phase: 'verify' | 'download';
}

/** The browser refused a write: this site's storage quota is reached (a DOMException, or Chrome's QuotaExceededError class). */
export const isQuotaError = (e: unknown): boolean => e instanceof Error && e.name === 'QuotaExceededError';

/** A static server's single-page fallback answers unknown paths with index.html: that is a missing file, not data. */
export function isHtmlFallback(res: Response): boolean {
  return (res.headers.get('content-type') ?? '').startsWith('text/html');
}

async function request(fetchFn: FetchLike, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetchFn(url, init);
  } catch (e) {
    if (init.signal?.aborted) throw new PackLoadError('cancelled', 'the download was cancelled', { cause: e });
    throw new PackLoadError('network', `could not fetch ${url}: ${(e as Error).message}`, { cause: e });
  }
}

/** A cached blob that still has the right digest, or undefined (a corrupted copy is deleted). */
export async function verifiedFromCache(store: BlobStore, ref: PackFileRef, signal?: AbortSignal, onBytes?: (n: number) => void): Promise<Blob | undefined> {
  const blob = await store.get(ref.sha256);
  if (!blob) return undefined;
  if (blob.size === ref.bytes && (await sha256OfBlob(blob, signal, onBytes)) === ref.sha256) return blob;
  await store.delete(ref.sha256);
  return undefined;
}

/**
 * Makes `ref` a verified blob in `store`, fetching `url` for what is missing.
 * `onProgress` gets the bytes of this file in the cache so far.
 */
export async function ensureCached(
  store: BlobStore,
  fetchFn: FetchLike,
  url: string,
  ref: PackFileRef,
  opts: { signal?: AbortSignal; onProgress?: (p: FileProgress) => void } = {},
): Promise<Blob> {
  const { signal, onProgress } = opts;
  let verified = 0;
  const cached = await verifiedFromCache(store, ref, signal, (n) => onProgress?.({ file: ref.file, bytes: (verified += n), phase: 'verify' }));
  if (cached) return cached;

  const hasher = await newSha256();
  const resume = await store.partial(ref.sha256);
  let at = 0;
  if (resume && resume.bytes <= ref.bytes) {
    hasher.load(resume.hashState);
    at = resume.bytes;
  }
  let writer: Awaited<ReturnType<BlobStore['openPartial']>>;
  try {
    writer = await store.openPartial(ref.sha256, at);
  } catch (e) {
    if (isQuotaError(e)) throw new PackLoadError('quota', `the browser's storage is full: ${ref.file} could not be stored`, { cause: e });
    throw e;
  }
  let finished = false;
  try {
    onProgress?.({ file: ref.file, bytes: at, phase: 'download' });
    const res = at < ref.bytes ? await request(fetchFn, url, { signal, headers: at > 0 ? { Range: `bytes=${at}-` } : {} }) : undefined;
    if (res) {
      if (res.status === 404 || (res.ok && isHtmlFallback(res))) throw new PackLoadError('not-found', `missing file "${ref.file}" (${url} does not exist)`);
      if (!res.ok) throw new PackLoadError('network', `could not fetch ${url}: HTTP ${res.status}`);
      if (at > 0 && res.status !== 206) {
        // The server ignored the Range header and sent the whole file: start over.
        await writer.restart();
        hasher.init();
        at = 0;
      }
      if (!res.body) throw new PackLoadError('network', `could not fetch ${url}: the response has no body`);
      const reader = res.body.getReader();
      let sinceCheckpoint = 0;
      let lastCheckpoint = Date.now();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (at + value.byteLength > ref.bytes) throw new PackLoadError('bad-size', `"${ref.file}" is larger than the manifest says (${ref.bytes} bytes)`);
          await writer.write(value);
          hasher.update(value);
          at += value.byteLength;
          sinceCheckpoint += value.byteLength;
          onProgress?.({ file: ref.file, bytes: at, phase: 'download' });
          if (sinceCheckpoint >= CHECKPOINT_BYTES || Date.now() - lastCheckpoint >= CHECKPOINT_MS) {
            await writer.checkpoint({ bytes: at, hashState: hasher.save() });
            sinceCheckpoint = 0;
            lastCheckpoint = Date.now();
          }
        }
      } catch (e) {
        if (signal?.aborted) throw new PackLoadError('cancelled', 'the download was cancelled', { cause: e });
        if (e instanceof PackLoadError) throw e;
        if (isQuotaError(e)) throw new PackLoadError('quota', `the browser's storage is full: ${ref.file} stopped at ${at} of ${ref.bytes} bytes`, { cause: e });
        throw new PackLoadError('network', `the download of ${url} stopped at ${at} of ${ref.bytes} bytes: ${(e as Error).message}`, { cause: e });
      } finally {
        reader.releaseLock();
      }
    }
    if (at !== ref.bytes) {
      throw new PackLoadError('network', `the download of ${url} stopped at ${at} of ${ref.bytes} bytes; loading the pack again resumes from there`);
    }
    const digest = hasher.digest('hex');
    if (digest !== ref.sha256) {
      await writer.discard();
      finished = true;
      throw new PackLoadError('bad-hash', `"${ref.file}" has sha256 ${digest}, the manifest says ${ref.sha256} (corrupt or wrong file)`);
    }
    await writer.commit();
    finished = true;
  } catch (e) {
    if (e instanceof PackLoadError && e.code === 'quota') {
      // Give the space back: a partial file nobody can finish helps no one.
      await writer.discard().catch(() => undefined);
      finished = true;
    }
    throw e;
  } finally {
    if (!finished) {
      // Keep what was checkpointed for the next attempt (a reload, a retry).
      await writer.checkpoint({ bytes: at, hashState: hasher.save() }).catch(() => undefined);
      await writer.suspend().catch(() => undefined);
    }
  }
  const blob = await store.get(ref.sha256);
  if (!blob) throw new PackLoadError('network', `"${ref.file}" vanished from the cache right after it was stored`);
  return blob;
}
