import { BACKEND_PREFERENCES, type BackendPreference } from '../../workers/runtime/backend-types';

/**
 * The pack the studio opens with: the toy-world model this project trains (public/packs/toy). The
 * end-to-end build (`vite build --mode test`, .env.test) opens on the 2 MB random test pack
 * instead, which runs every code path in seconds; the toy-world specs ask for ?pack=packs/toy.
 */
export const DEFAULT_PACK_URL = `${import.meta.env.BASE_URL}packs/${import.meta.env.VITE_DEFAULT_PACK || 'toy'}`;

export interface StudioParams {
  backend: BackendPreference;
  packUrl: string;
  /** Parameters that were present but not understood. */
  problems: string[];
}

/** Reads `?backend=webgpu|wasm|auto` and `?pack=<url>` from a query string. */
export function parseStudioParams(search: string, defaultPackUrl: string = DEFAULT_PACK_URL): StudioParams {
  const params = new URLSearchParams(search);
  const problems: string[] = [];
  let backend: BackendPreference = 'auto';
  const asked = params.get('backend');
  if (asked !== null) {
    if ((BACKEND_PREFERENCES as readonly string[]).includes(asked)) backend = asked as BackendPreference;
    else problems.push(`unknown backend "${asked}" in the URL; use ${BACKEND_PREFERENCES.join(', ')}`);
  }
  const pack = params.get('pack');
  return { backend, packUrl: pack?.trim() ? pack.trim() : defaultPackUrl, problems };
}
