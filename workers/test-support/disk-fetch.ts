/**
 * Node-only helpers for unit tests: a fetch that serves a folder from disk
 * (with hooks to break it), and the path of the built-in test pack.
 */
import { fileURLToPath } from 'node:url';
import { folderFetch, type FolderFetchOptions } from '../node/folder-fetch';
import type { FetchLike } from '../pack/loader';

export const TEST_PACK_DIR = fileURLToPath(new URL('../../public/packs/test/', import.meta.url));
export const TEST_PACK_URL = 'http://studio.test/packs/test';

export type DiskFetchOptions = FolderFetchOptions;

/** Serves `${TEST_PACK_URL}/<file>` from `dir`, like a static server would. */
export function diskFetch(dir: string = TEST_PACK_DIR, options: DiskFetchOptions = {}): FetchLike & { requested: string[] } {
  return folderFetch(dir, TEST_PACK_URL, options);
}
