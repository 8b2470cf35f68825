/**
 * Node-only helpers for unit tests: a fetch that serves a folder from disk
 * (with hooks to break it), and the path of the built-in test pack.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FetchLike } from '../pack/loader';

export const TEST_PACK_DIR = fileURLToPath(new URL('../../public/packs/test/', import.meta.url));
export const TEST_PACK_URL = 'http://studio.test/packs/test';

export interface DiskFetchOptions {
  /** Replaces a file's bytes (by name inside the pack); return undefined to serve a 404. */
  override?: (file: string, bytes: Uint8Array) => Uint8Array | string | undefined;
}

/** Serves `${TEST_PACK_URL}/<file>` from `dir`, like a static server would. */
export function diskFetch(dir: string = TEST_PACK_DIR, options: DiskFetchOptions = {}): FetchLike & { requested: string[] } {
  const requested: string[] = [];
  const fetchLike = async (url: string): Promise<Response> => {
    requested.push(url);
    if (!url.startsWith(`${TEST_PACK_URL}/`)) return new Response('not found', { status: 404 });
    const file = url.slice(TEST_PACK_URL.length + 1);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(join(dir, file)));
    } catch {
      return new Response('not found', { status: 404 });
    }
    const served = options.override ? options.override(file, bytes) : bytes;
    if (served === undefined) return new Response('not found', { status: 404 });
    const contentType = typeof served === 'string' ? 'text/html' : file.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    return new Response(served as BodyInit, { status: 200, headers: { 'content-type': contentType } });
  };
  return Object.assign(fetchLike, { requested });
}
