/**
 * A pack converted in this browser has no server to fetch it from again: its
 * only copy is the pack cache. It gets a URL of its own scheme, named by the
 * pack and its manifest's digest, so converting the same folder with the same
 * options again is the same cached pack and other options make another one.
 * (Types only are imported: the page uses this module too.)
 */
import type { FetchLike } from '../../pack/download';

export const CONVERTED_PACK_SCHEME = 'converted:';

/** "converted:sd3-int4-1a2b3c4d": the pack's name and the first 8 hex digits of its manifest's sha256. */
export function convertedPackUrl(name: string, manifestSha256: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9.-]+/g, '-');
  return `${CONVERTED_PACK_SCHEME}${slug}-${manifestSha256.slice(0, 8)}`;
}

export const isConvertedPackUrl = (url: string): boolean => url.startsWith(CONVERTED_PACK_SCHEME);

/**
 * The fetch for converted packs: there is nothing to fetch, so the loader
 * takes the cached copy (it falls back to it when the manifest cannot be
 * fetched) or fails with words that say why.
 */
export const convertedPackFetch: FetchLike = () =>
  Promise.reject(new Error('the pack was converted in this browser and is not (or no longer completely) in its storage: convert the model folder again'));
