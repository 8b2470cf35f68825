/**
 * The persistent pack cache behind a small interface: content-addressed blobs
 * (by sha256), resumable partial downloads, and one record per cached pack.
 * OPFS in the browser (opfs-store.ts); memory in Node and as the fallback.
 */

/** A download in progress: bytes written so far and the hash state after them. */
export interface PartialState {
  bytes: number;
  /** hash-wasm's saved SHA-256 state after `bytes` bytes. */
  hashState: Uint8Array;
}

export interface PartialWriter {
  /** Writes `chunk` at the current end. */
  write(chunk: Uint8Array): Promise<void>;
  /** Durably records that the first `state.bytes` bytes are written and hashed (resume point). */
  checkpoint(state: PartialState): Promise<void>;
  /** Drops everything written (the server restarted from byte 0). */
  restart(): Promise<void>;
  /** Makes the partial file the complete blob. */
  commit(): Promise<void>;
  /** Stops writing and keeps the last checkpoint for a later resume. */
  suspend(): Promise<void>;
  /** Stops writing and deletes the partial file. */
  discard(): Promise<void>;
}

/** A cached pack: where it came from, its manifest, and the blobs it uses. */
export interface PackRecord {
  /** The pack's URL (its identity in the cache). */
  url: string;
  name: string;
  version: string;
  manifestText: string;
  /** Every file of the pack that is cached, by name. */
  files: { file: string; sha256: string; bytes: number }[];
  cachedAt: number;
}

export interface BlobStore {
  /** "opfs" or "memory": what survives a reload. */
  readonly kind: 'opfs' | 'memory';
  /** The complete blob with this digest, if stored. */
  get(sha256: string): Promise<Blob | undefined>;
  delete(sha256: string): Promise<void>;
  /** Digests of every complete blob. */
  list(): Promise<string[]>;
  /** The resume point of an interrupted download of this blob, if any. */
  partial(sha256: string): Promise<PartialState | undefined>;
  /** Opens the partial file of this blob, cut back to `from` bytes (0: a fresh start). */
  openPartial(sha256: string, from: number): Promise<PartialWriter>;
  records(): Promise<PackRecord[]>;
  putRecord(r: PackRecord): Promise<void>;
  deleteRecord(url: string): Promise<void>;
}

/** Deletes a pack's record and every blob no other record uses. Returns the bytes freed. */
export async function deleteCachedPack(store: BlobStore, url: string): Promise<number> {
  const all = await store.records();
  const gone = all.find((r) => r.url === url);
  if (!gone) return 0;
  await store.deleteRecord(url);
  const stillUsed = new Set(all.filter((r) => r.url !== url).flatMap((r) => r.files.map((f) => f.sha256)));
  let freed = 0;
  for (const f of gone.files) {
    if (stillUsed.has(f.sha256)) continue;
    stillUsed.add(f.sha256); // a pack may list one blob twice
    await store.delete(f.sha256);
    freed += f.bytes;
  }
  return freed;
}

/** In-memory store: Node tests, and browsers without OPFS (nothing survives a reload). */
export class MemoryBlobStore implements BlobStore {
  readonly kind = 'memory' as const;
  private readonly blobs = new Map<string, Blob>();
  private readonly partials = new Map<string, { chunks: Uint8Array[]; state?: PartialState }>();
  private readonly packs = new Map<string, PackRecord>();

  async get(sha256: string) {
    return this.blobs.get(sha256);
  }
  async delete(sha256: string) {
    this.blobs.delete(sha256);
  }
  async list() {
    return [...this.blobs.keys()];
  }
  async partial(sha256: string) {
    return this.partials.get(sha256)?.state;
  }
  /** Test hook: flips one byte of a stored blob (a corrupted cache). */
  async corrupt(sha256: string, at: number): Promise<void> {
    const blob = this.blobs.get(sha256);
    if (!blob) throw new Error(`no blob ${sha256}`);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    bytes[at] = bytes[at]! ^ 0xff;
    this.blobs.set(sha256, new Blob([bytes]));
  }
  async openPartial(sha256: string, from: number): Promise<PartialWriter> {
    const entry = this.partials.get(sha256) ?? { chunks: [] };
    const joined = new Uint8Array(await new Blob(entry.chunks as BlobPart[]).arrayBuffer()).slice(0, from);
    entry.chunks = from > 0 ? [joined] : [];
    this.partials.set(sha256, entry);
    return {
      write: async (chunk) => void entry.chunks.push(chunk.slice()),
      checkpoint: async (state) => void (entry.state = { bytes: state.bytes, hashState: state.hashState.slice() }),
      restart: async () => {
        entry.chunks = [];
        entry.state = undefined;
      },
      commit: async () => {
        this.blobs.set(sha256, new Blob(entry.chunks as BlobPart[]));
        this.partials.delete(sha256);
      },
      suspend: async () => {
        // Bytes after the last checkpoint are not trusted: cut back to it on the next open.
        entry.chunks = [new Uint8Array(await new Blob(entry.chunks as BlobPart[]).arrayBuffer()).slice(0, entry.state?.bytes ?? 0)];
      },
      discard: async () => void this.partials.delete(sha256),
    };
  }
  async records() {
    return [...this.packs.values()];
  }
  async putRecord(r: PackRecord) {
    this.packs.set(r.url, structuredClone(r));
  }
  async deleteRecord(url: string) {
    this.packs.delete(url);
  }
}
