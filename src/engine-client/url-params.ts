import { BACKEND_PREFERENCES, type BackendPreference } from '../../workers/runtime/backend-types';

export const DEFAULT_PACK_URL = `${import.meta.env.BASE_URL}packs/test`;

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
