/**
 * Writing generated test folders with every file's sha256 taken as it is written, so a Python
 * script that reads the same folder can check it got exactly these bytes (the real-width
 * generators: workers/convert/{sd3,flux2}/testing/realwidth-folder.ts). Large files stream through a
 * HashedWriter so they never sit in memory whole.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, readFile, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureStamped, sourcesHash } from '../../node/stamped-cache';

export interface FileRecord {
  sha256: string;
  bytes: number;
}

/** Writes through a file handle and hashes what it writes. */
export class HashedWriter {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  private constructor(private readonly handle: FileHandle) {}
  static async create(path: string): Promise<HashedWriter> {
    return new HashedWriter(await open(path, 'w'));
  }
  async write(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    let done = 0;
    while (done < chunk.byteLength) done += (await this.handle.write(chunk, done, chunk.byteLength - done)).bytesWritten;
  }
  async close(): Promise<FileRecord> {
    await this.handle.close();
    return { sha256: this.hash.digest('hex'), bytes: this.bytes };
  }
}

/** Writes a small file whole and returns its record. */
export async function writeHashed(path: string, bytes: Uint8Array): Promise<FileRecord> {
  await writeFile(path, bytes);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength };
}

/**
 * The 8-byte length and JSON header of a safetensors file whose tensors follow in `tensors`
 * order, back to back, each `bytesPer` bytes a value (no __metadata__ beyond format pt).
 */
export function safetensorsPrefix(tensors: readonly { key: string; shape: readonly number[]; count: number }[], dtype: 'F16' | 'BF16' | 'F32'): Uint8Array {
  const bytesPer = dtype === 'F32' ? 4 : 2;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    header[t.key] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytesPer * t.count] };
    offset += bytesPer * t.count;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8); // ASCII only: characters = bytes
  const prefix = new Uint8Array(8 + text.length);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(text.length), true);
  prefix.set(new TextEncoder().encode(text), 8);
  return prefix;
}

/** A generated folder's manifest.json: paths relative to the folder -> sha256 and size of the bytes written. */
export interface HashedManifest {
  files: Record<string, FileRecord>;
}

export interface GeneratedFolder {
  dir: string;
  manifest: HashedManifest;
  /** Whether this call generated the files (false: the cache was up to date). */
  built: boolean;
  ms: number;
}

/** Writes `dir`/manifest.json with the records of the files written. */
export async function writeManifest(dir: string, files: Record<string, FileRecord>): Promise<HashedManifest> {
  const manifest = { files };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * A generated folder in a cache directory: `write` fills a fresh one (ending with writeManifest)
 * when it is missing or was made from other `sources` (paths under `root` whose bytes the folder
 * depends on).
 */
export async function ensureGeneratedFolder(root: string, dir: string, sources: readonly string[], write: (tmp: string) => Promise<unknown>): Promise<GeneratedFolder> {
  const t0 = performance.now();
  const built = await ensureStamped(dir, await sourcesHash(root, [...sources, 'workers/convert/testing/hashed-files.ts']), async (tmp) => {
    await write(tmp);
  });
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as HashedManifest;
  return { dir, manifest, built, ms: performance.now() - t0 };
}
