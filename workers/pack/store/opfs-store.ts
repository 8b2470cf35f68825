/**
 * The pack cache in the Origin Private File System, for the engine worker.
 * Partial downloads are written through synchronous access handles (worker
 * only): their writes land in place, so a reload mid-download keeps every
 * byte up to the last checkpoint (a writable stream would lose them all).
 *
 * Layout under `pack-cache/`: `blobs/<sha256>` complete files,
 * `partial/<sha256>` and `partial/<sha256>.state` interrupted downloads,
 * `packs/<hex(url)>.json` one record per cached pack.
 */
import type { BlobStore, PackRecord, PartialState, PartialWriter } from './blob-store';

// OPFS parts not in TypeScript's WebWorker lib yet.
interface SyncHandle {
  write(buffer: Uint8Array, options?: { at?: number }): number;
  read(buffer: Uint8Array, options?: { at?: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}
type FileHandle = FileSystemFileHandle & {
  createSyncAccessHandle(): Promise<SyncHandle>;
  move(dir: FileSystemDirectoryHandle, name: string): Promise<void>;
};
type DirHandle = FileSystemDirectoryHandle & { keys(): AsyncIterable<string> };

const isNotFound = (e: unknown) => e instanceof DOMException && (e.name === 'NotFoundError' || e.name === 'TypeMismatchError');

async function fileOrUndefined(dir: FileSystemDirectoryHandle, name: string): Promise<File | undefined> {
  try {
    return await (await dir.getFileHandle(name)).getFile();
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function removeIfThere(dir: FileSystemDirectoryHandle, name: string): Promise<void> {
  try {
    await dir.removeEntry(name);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

const hexOf = (s: string) => Array.from(new TextEncoder().encode(s), (b) => b.toString(16).padStart(2, '0')).join('');

/** The state file: 8 bytes little-endian byte count, then hash-wasm's saved state. */
function encodeState(s: PartialState): Uint8Array {
  const out = new Uint8Array(8 + s.hashState.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(s.bytes), true);
  out.set(s.hashState, 8);
  return out;
}

function decodeState(bytes: Uint8Array): PartialState | undefined {
  if (bytes.byteLength <= 8) return undefined;
  return { bytes: Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)), hashState: bytes.slice(8) };
}

function overwrite(h: SyncHandle, bytes: Uint8Array): void {
  h.truncate(0);
  h.write(bytes, { at: 0 });
  h.flush();
}

export class OpfsBlobStore implements BlobStore {
  readonly kind = 'opfs' as const;

  private constructor(
    private readonly blobs: DirHandle,
    private readonly partials: DirHandle,
    private readonly packs: DirHandle,
  ) {}

  /** Undefined where OPFS or its synchronous handles are missing (then the caller falls back to memory). */
  static async open(): Promise<OpfsBlobStore | undefined> {
    const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
    if (!storage?.getDirectory) return undefined;
    try {
      const root = await (await storage.getDirectory()).getDirectoryHandle('pack-cache', { create: true });
      const sub = (name: string) => root.getDirectoryHandle(name, { create: true }) as Promise<DirHandle>;
      const probe = (await (await sub('partial')).getFileHandle('.probe', { create: true })) as FileHandle;
      if (typeof probe.createSyncAccessHandle !== 'function') return undefined;
      return new OpfsBlobStore(await sub('blobs'), await sub('partial'), await sub('packs'));
    } catch {
      return undefined;
    }
  }

  get(sha256: string) {
    return fileOrUndefined(this.blobs, sha256);
  }

  delete(sha256: string) {
    return removeIfThere(this.blobs, sha256);
  }

  async list() {
    const out: string[] = [];
    for await (const name of this.blobs.keys()) out.push(name);
    return out;
  }

  async partial(sha256: string) {
    const state = await fileOrUndefined(this.partials, `${sha256}.state`);
    const data = await fileOrUndefined(this.partials, sha256);
    if (!state || !data) return undefined;
    const s = decodeState(new Uint8Array(await state.arrayBuffer()));
    // A checkpoint past the data written is not a resume point.
    return s && s.bytes <= data.size ? s : undefined;
  }

  async openPartial(sha256: string, from: number): Promise<PartialWriter> {
    const dataHandle = (await this.partials.getFileHandle(sha256, { create: true })) as FileHandle;
    const stateHandle = (await this.partials.getFileHandle(`${sha256}.state`, { create: true })) as FileHandle;
    const data = await dataHandle.createSyncAccessHandle();
    let state: SyncHandle;
    try {
      state = await stateHandle.createSyncAccessHandle();
    } catch (e) {
      data.close();
      throw e;
    }
    data.truncate(from);
    if (from === 0) state.truncate(0);
    let at = from;
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      data.flush();
      data.close();
      state.close();
    };
    return {
      write: async (chunk) => {
        at += data.write(chunk, { at });
      },
      checkpoint: async (s) => {
        data.flush();
        overwrite(state, encodeState(s));
      },
      restart: async () => {
        data.truncate(0);
        state.truncate(0);
        at = 0;
      },
      commit: async () => {
        close();
        await removeIfThere(this.blobs, sha256);
        await dataHandle.move(this.blobs, sha256);
        await removeIfThere(this.partials, `${sha256}.state`);
      },
      suspend: async () => close(),
      discard: async () => {
        close();
        await removeIfThere(this.partials, sha256);
        await removeIfThere(this.partials, `${sha256}.state`);
      },
    };
  }

  async records() {
    const out: PackRecord[] = [];
    for await (const name of this.packs.keys()) {
      const f = await fileOrUndefined(this.packs, name);
      if (!f) continue;
      try {
        out.push(JSON.parse(await f.text()) as PackRecord);
      } catch {
        // A record cut short by a crash: its blobs are still verified before use, so drop it.
        await removeIfThere(this.packs, name);
      }
    }
    return out;
  }

  async putRecord(r: PackRecord) {
    const h = (await this.packs.getFileHandle(`${hexOf(r.url)}.json`, { create: true })) as FileHandle;
    const sync = await h.createSyncAccessHandle();
    try {
      overwrite(sync, new TextEncoder().encode(JSON.stringify(r)));
    } finally {
      sync.close();
    }
  }

  deleteRecord(url: string) {
    return removeIfThere(this.packs, `${hexOf(url)}.json`);
  }
}
