/**
 * Where the converter's bytes come from. The core never touches the DOM or Node: a ByteSource is a
 * named, sized, randomly readable run of bytes (a browser File, a Node Blob, a file on disk through
 * node-source.ts), and a FolderSource is a model folder made of them.
 */
import { ConvertError, formatBytes } from './errors';

export interface ByteSource {
  /** For messages: the path inside the model folder ("transformer/diffusion_pytorch_model.safetensors"). */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /**
   * Bytes [start, end). The result belongs to the caller (it may keep or modify it) and has exactly
   * end - start bytes; 0 <= start <= end <= size.
   */
  read(start: number, end: number): Promise<Uint8Array>;
}

export interface FolderSource {
  /** Every file, as a relative path with '/' separators, sorted. */
  list(): string[];
  /** The file at a relative path, or undefined when there is none. */
  open(path: string): ByteSource | undefined;
}

/** Throws unless 0 <= start <= end <= size (all integers). */
export function checkRange(source: { name: string; size: number }, start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > source.size) {
    throw new RangeError(`${source.name}: cannot read bytes [${start}, ${end}) of a ${formatBytes(source.size)}-byte file`);
  }
}

/** Throws 'read-failed' when a read came back short. */
export function checkReadLength(source: { name: string }, bytes: Uint8Array, start: number, end: number): Uint8Array {
  if (bytes.byteLength !== end - start) {
    throw new ConvertError(
      'read-failed',
      `${source.name}: reading bytes [${formatBytes(start)}, ${formatBytes(end)}) returned ${formatBytes(bytes.byteLength)} bytes instead of ${formatBytes(end - start)} (did the file change while it was read?)`,
      { file: source.name },
    );
  }
  return bytes;
}

/** A Blob (a browser File, or Node's Blob) as a ByteSource; each read slices only the range asked for. */
export function blobSource(name: string, blob: Blob): ByteSource {
  const size = blob.size;
  const source: ByteSource = {
    name,
    size,
    async read(start, end) {
      checkRange(source, start, end);
      if (start === end) return new Uint8Array(0);
      const bytes = new Uint8Array(await blob.slice(start, end).arrayBuffer());
      return checkReadLength(source, bytes, start, end);
    },
  };
  return source;
}

/** Bytes in memory as a ByteSource (tests, small files). Reads return copies. */
export function bytesSource(name: string, bytes: Uint8Array): ByteSource {
  const source: ByteSource = {
    name,
    size: bytes.byteLength,
    read(start, end) {
      checkRange(source, start, end);
      return Promise.resolve(bytes.slice(start, end));
    },
  };
  return source;
}

/** "./a\\b//c" -> "a/b/c". */
export function normalizePath(path: string): string {
  return path
    .replace(/\\/g, '/')
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

/** A FolderSource over a map of relative paths to sources. */
export function folderFromSources(sources: Iterable<ByteSource & { path?: string }>): FolderSource {
  const byPath = new Map<string, ByteSource>();
  for (const source of sources) byPath.set(normalizePath(source.path ?? source.name), source);
  const paths = [...byPath.keys()].sort();
  return {
    list: () => [...paths],
    open: (path) => byPath.get(normalizePath(path)),
  };
}

/**
 * A dropped folder (files with their webkitRelativePath, or paths from a directory walk) as a
 * FolderSource. When every file sits inside one common top folder ("stable-diffusion-3-medium/…"),
 * that folder is stripped, so model_index.json is at the root.
 */
export function folderFromFiles(files: readonly { path: string; blob: Blob }[]): FolderSource {
  const normalized = files.map((f) => ({ parts: normalizePath(f.path).split('/'), blob: f.blob }));
  const first = normalized[0]?.parts[0];
  const strip =
    first !== undefined && normalized.every((f) => f.parts.length > 1 && f.parts[0] === first) ? 1 : 0;
  return folderFromSources(
    normalized.map((f) => {
      const path = f.parts.slice(strip).join('/');
      return blobSource(path, f.blob);
    }),
  );
}

/** Reads a whole (small) file as UTF-8 text. */
export async function readText(source: ByteSource, limit = 64 * 1024 * 1024): Promise<string> {
  if (source.size > limit) {
    throw new ConvertError('bad-json', `${source.name} is ${formatBytes(source.size)} bytes, more than the ${formatBytes(limit)} a text file of a model folder may have`, {
      file: source.name,
    });
  }
  return new TextDecoder('utf-8').decode(await source.read(0, source.size));
}

/** Reads and parses a JSON file; errors name the file. */
export async function readJson(source: ByteSource): Promise<unknown> {
  const text = await readText(source);
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new ConvertError('bad-json', `${source.name} is not valid JSON: ${(cause as Error).message}`, { file: source.name, cause });
  }
}
