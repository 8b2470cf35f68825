/**
 * Node-only ByteSource adapters: a file on disk read at positions through a FileHandle (never the
 * whole file), and a model folder on disk. The browser uses source.ts's blobSource / folderFromFiles.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { checkRange, checkReadLength, folderFromSources, type ByteSource, type FolderSource } from './source';

function diskSource(path: string, name: string, size: number): ByteSource {
  const source: ByteSource = {
    name,
    size,
    async read(start, end) {
      checkRange(source, start, end);
      const bytes = new Uint8Array(end - start);
      if (start === end) return bytes;
      const handle = await open(path, 'r');
      try {
        let done = 0;
        while (done < bytes.byteLength) {
          const { bytesRead } = await handle.read(bytes, done, bytes.byteLength - done, start + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return checkReadLength(source, bytes.subarray(0, done), start, end);
      } finally {
        await handle.close();
      }
    },
  };
  return source;
}

/** A file on disk; `name` (for messages) defaults to the path. */
export async function fileSource(path: string, name: string = path): Promise<ByteSource> {
  const info = await stat(path);
  if (!info.isFile()) throw new Error(`${path} is not a file`);
  return diskSource(path, name, info.size);
}

/**
 * A folder on disk (walked recursively, symlinks followed, entries whose name starts with '.' such as
 * .git and .cache skipped). Source names are the paths relative to `dir`.
 */
export async function folderFromDisk(dir: string): Promise<FolderSource> {
  const found: (ByteSource & { path: string })[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = join(folder, entry.name);
      const info = await stat(full); // follows symlinks (the Hugging Face cache links into blobs/)
      if (info.isDirectory()) await walk(full);
      else if (info.isFile()) {
        const path = relative(dir, full).split(sep).join('/');
        found.push(Object.assign(diskSource(full, path, info.size), { path }));
      }
    }
  };
  await walk(dir);
  return folderFromSources(found);
}
