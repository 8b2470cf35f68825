/**
 * A model folder the user dropped, converted in the engine worker into the
 * persistent pack cache: the converter reads the folder tensor by tensor
 * (File.slice), the engine's graph choice and checks run on the new
 * manifest, the storage estimate is checked (once before converting, against
 * the least the pack can take, and again with its exact size), and only then are the pack's
 * files written, the record last. The cache then holds it like a downloaded
 * pack (listed with its size, kept across reloads, deletable).
 *
 * Nothing half-done stays: the record is written last, and rollback(), which
 * the engine calls whenever the conversion or its pack switch failed, deletes
 * what this conversion wrote (a pack that was cached before is left alone).
 */
import { isQuotaError, PackLoadError } from '../../pack/download';
import { summarizePack, type LoadedPack, type PackLoadHooks, portableGraphs } from '../../pack/loader';
import { packFiles, sha256, type PackFileRef } from '../../pack/manifest';
import { formatBytes } from '../../pack/bytes';
import type { BlobStore } from '../../pack/store/blob-store';
import { type ConvertPrecision } from '../sd3/convert';
import { conversionFacts, convertModelFolder } from '../convert-folder';
import { inspectModelFolder, type ModelFolderDescription } from '../folder';
import { folderFromFiles, type FolderSource } from '../source';
import { convertedPackUrl } from './converted-pack';
import { describeFolderForConversion, type ConvertFolderInfo } from './inspect';
import { checkPlanBeforeConverting } from './plan-before-converting';
import { withRate, type ConvertFolderProgress } from './progress';

/** A file of the dropped folder: its path inside it (the top folder's name first, or not) and its bytes. */
export interface DroppedFile {
  path: string;
  file: Blob;
}

export interface ConvertFolderOptions {
  precision: ConvertPrecision;
  /** Square sizes in px the pack offers. */
  sizes: number[];
  /** int4 block size; the converter's default unless said. */
  blockSize?: number;
  /** Prompt rows (FLUX.2's max_sequence_length; ConvertFolderInfo.promptRows); the family's default unless said. */
  maxTextTokens?: number;
}

export interface ConversionDeps {
  store: BlobStore;
  /** The browser's storage estimate; undefined where there is none. */
  storageEstimate?: () => Promise<{ quota: number; usage: number } | undefined>;
  onProgress?: (p: ConvertFolderProgress) => void;
  now?: () => number;
  /** The engine's GPU memory budget: a known model that cannot fit it is refused before converting. */
  budgetBytes?: number;
}

/** Bytes written per call: small enough that a cancel or the progress is never far away. */
const WRITE_CHUNK = 16 * 2 ** 20;

/** The dropped files as a FolderSource rooted at the model folder (the top folder's name stripped). */
export function droppedFolder(files: readonly DroppedFile[]): FolderSource {
  return folderFromFiles(files.map((f) => ({ path: f.path, blob: f.file })));
}

/** Which model a dropped folder holds and what converting it offers; throws a ConvertError when it cannot be converted. */
export function inspectDroppedFolder(files: readonly DroppedFile[]): Promise<ConvertFolderInfo> {
  return describeFolderForConversion(droppedFolder(files));
}

const notEnoughStorage = (needs: string, free: number, quota: number, usage: number) =>
  `not enough storage for the converted pack: it needs ${needs}, and this site has ${formatBytes(free)} free (quota ${formatBytes(quota)}, ${formatBytes(usage)} used). Delete a cached pack or free disk space; nothing was saved.`;

/** `atLeast`: `needed` is a lower bound (before converting), said as "at least". */
async function checkStorage(needed: number, estimate: ConversionDeps['storageEstimate'], atLeast = false): Promise<void> {
  if (needed === 0 || !estimate) return;
  const e = await estimate().catch(() => undefined);
  if (!e) return;
  const free = Math.max(0, e.quota - e.usage);
  if (needed > free) throw new PackLoadError('quota', notEnoughStorage(`${atLeast ? 'at least ' : ''}${formatBytes(needed)}`, free, e.quota, e.usage));
}

/**
 * Before any weight is read: a known model whose memory plan cannot fit the budget is refused
 * (plan-before-converting.ts), and the least the pack will take (from the tensor headers) is
 * checked against the storage estimate, so that a folder that cannot be used here is refused in a
 * second, not after minutes of conversion. The exact size is checked again before writing.
 */
async function checkBeforeConverting(description: ModelFolderDescription, opts: ConvertFolderOptions, deps: ConversionDeps): Promise<void> {
  const facts = conversionFacts(description);
  checkPlanBeforeConverting(description.label, facts, opts, deps.budgetBytes);
  if (deps.storageEstimate) await checkStorage(facts.packBytesLowerBound(opts.precision, opts.blockSize ?? 32), deps.storageEstimate, true);
}

export function folderConversion(files: readonly DroppedFile[], opts: ConvertFolderOptions, deps: ConversionDeps) {
  const { store } = deps;
  const now = deps.now ?? (() => Date.now());
  const report = (p: ConvertFolderProgress) => deps.onProgress?.(p);
  /** Blobs this conversion stored, and the record it made (undefined while it made none). */
  const written: string[] = [];
  let createdRecord: string | undefined;

  /** Deletes the blobs this conversion wrote that no cached pack uses. */
  const dropWritten = async (): Promise<void> => {
    const used = new Set((await store.records()).flatMap((r) => r.files.map((f) => f.sha256)));
    for (const sha of written.splice(0)) if (!used.has(sha)) await store.delete(sha);
  };

  async function writeBlob(ref: PackFileRef, bytes: Uint8Array, signal: AbortSignal | undefined, onBytes: (n: number) => void): Promise<void> {
    const writer = await store.openPartial(ref.sha256, 0);
    try {
      for (let at = 0; at < bytes.byteLength; at += WRITE_CHUNK) {
        signal?.throwIfAborted();
        const chunk = bytes.subarray(at, Math.min(bytes.byteLength, at + WRITE_CHUNK));
        await writer.write(chunk);
        onBytes(chunk.byteLength);
      }
      signal?.throwIfAborted();
      await writer.commit();
      written.push(ref.sha256);
    } catch (e) {
      await writer.discard().catch(() => undefined);
      throw e;
    }
  }

  /** Converts, checks, stores and returns the pack: the `load` of the engine's transactional switch. */
  async function load(hooks: PackLoadHooks): Promise<LoadedPack> {
    const started = now();
    // Inspected once: the checks before converting and the converter read the same description.
    const folder = droppedFolder(files);
    const description = await inspectModelFolder(folder);
    await checkBeforeConverting(description, opts, deps);
    const { manifest, files: bytesByName } = await convertModelFolder(folder, {
      precision: opts.precision,
      sizes: opts.sizes,
      ...(opts.blockSize !== undefined ? { blockSize: opts.blockSize } : {}),
      ...(opts.maxTextTokens !== undefined ? { maxTextTokens: opts.maxTextTokens } : {}),
      onProgress: (p) => report(withRate(p, started, now())),
      ...(hooks.signal ? { signal: hooks.signal } : {}),
    }, description);
    const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
    const url = convertedPackUrl(manifest.name, await sha256(new TextEncoder().encode(manifestText)));
    const graphs = await (hooks.choose ?? portableGraphs)(manifest);
    await hooks.check?.(manifest, graphs);

    // Every file of the pack is stored (not only this backend's graphs): the bytes are here, and the pack then loads anywhere.
    const refs = packFiles(manifest);
    for (const r of refs) {
      const bytes = bytesByName.get(r.file);
      if (!bytes || bytes.byteLength !== r.bytes) throw new Error(`the converter's pack lacks ${r.file} or has it at another size than its manifest says`);
    }
    const have = new Set(await store.list());
    const missing = refs.filter((r, i) => !have.has(r.sha256) && refs.findIndex((o) => o.sha256 === r.sha256) === i);
    const totalBytes = missing.reduce((n, r) => n + r.bytes, 0);
    await checkStorage(totalBytes, deps.storageEstimate);

    const existed = (await store.records()).some((r) => r.url === url);
    let doneBytes = 0;
    try {
      for (const ref of missing) {
        report({ kind: 'store', file: ref.file, doneBytes, totalBytes });
        await writeBlob(ref, bytesByName.get(ref.file)!, hooks.signal, (n) => report({ kind: 'store', file: ref.file, doneBytes: (doneBytes += n), totalBytes }));
      }
      hooks.signal?.throwIfAborted();
      await store.putRecord({
        url,
        name: manifest.name,
        version: manifest.version,
        manifestText,
        files: refs.map(({ file, sha256, bytes }) => ({ file, sha256, bytes })),
        cachedAt: Date.now(),
      });
      if (!existed) createdRecord = url;
    } catch (e) {
      if (isQuotaError(e)) throw new PackLoadError('quota', `the browser refused to store more of the converted pack after ${formatBytes(doneBytes)} of ${formatBytes(totalBytes)} (this site's storage quota is reached); nothing was saved`, { cause: e });
      throw e;
    }

    const blobs = new Map<string, Blob>();
    for (const ref of refs) {
      const blob = await store.get(ref.sha256);
      if (!blob || blob.size !== ref.bytes) throw new Error(`${ref.file} of the converted pack is not in the cache after it was stored`);
      blobs.set(ref.file, blob);
    }
    report({ kind: 'ready' });
    return {
      url,
      manifest,
      graphs,
      files: { blob: async (file) => blobs.get(file) ?? Promise.reject(new Error(`the pack file ${file} is not part of the converted pack`)) },
      summary: summarizePack(url, manifest, graphs, store.kind),
    };
  }

  /** Undoes a failed conversion or switch: its record (when it made one) and the blobs it wrote that no other pack uses. */
  async function rollback(): Promise<void> {
    if (createdRecord !== undefined) await store.deleteRecord(createdRecord);
    createdRecord = undefined;
    await dropWritten();
  }

  return { load, rollback };
}
