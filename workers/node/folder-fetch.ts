/**
 * A fetch that serves a folder on disk under a base URL, like a static server
 * would: what loadPack needs to read a pack folder in Node.
 */
import { readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { FetchLike } from '../pack/loader';

export interface FolderFetchOptions {
  /** Replaces a file's bytes (by path inside the folder); return undefined to serve a 404. */
  override?: (file: string, bytes: Uint8Array) => Uint8Array | string | undefined;
}

/**
 * Serves `${baseUrl}/<file>` from `dir`; every other URL, and anything outside
 * the folder, is a 404. A `Range: bytes=N-` request gets the rest of the file (206).
 */
export function folderFetch(dir: string, baseUrl: string, options: FolderFetchOptions = {}): FetchLike & { requested: string[] } {
  const base = baseUrl.replace(/\/+$/, '');
  const root = resolve(dir);
  const requested: string[] = [];
  const fetchLike = async (url: string, init?: RequestInit): Promise<Response> => {
    requested.push(url);
    if (!url.startsWith(`${base}/`)) return new Response('not found', { status: 404 });
    const file = url.slice(base.length + 1);
    const path = resolve(join(root, file));
    const rel = relative(root, path);
    if (rel === '' || rel.startsWith('..') || rel.startsWith(sep)) return new Response('not found', { status: 404 });
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch {
      return new Response('not found', { status: 404 });
    }
    const served = options.override ? options.override(file, bytes) : bytes;
    if (served === undefined) return new Response('not found', { status: 404 });
    const contentType = typeof served === 'string' ? 'text/html' : file.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    const range = /^bytes=(\d+)-$/.exec(new Headers(init?.headers).get('range') ?? '');
    if (range && typeof served !== 'string') {
      const from = Number(range[1]);
      if (from >= served.length) return new Response('range not satisfiable', { status: 416, headers: { 'content-range': `bytes */${served.length}` } });
      const part = served.subarray(from);
      return new Response(part as BodyInit, {
        status: 206,
        headers: { 'content-type': contentType, 'content-range': `bytes ${from}-${served.length - 1}/${served.length}` },
      });
    }
    return new Response(served as BodyInit, { status: 200, headers: { 'content-type': contentType } });
  };
  return Object.assign(fetchLike, { requested });
}
