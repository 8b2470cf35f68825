/**
 * Read-only views of the loaded pack for the feature panels: its summary (the
 * app's own pack query, observed here without fetching) and its manifest,
 * which carries what the summary lacks (the resolutions, the layer count).
 */
import { useQuery } from '@tanstack/react-query';
import { absolutePackUrl, type PackSummary } from '../../engine-client/engine';
import { usePack } from '../../engine-client/queries';
import { useStudioStore } from '../../state/studio-store';
import type { PackManifest } from '../../../workers/pack/manifest';

/** Packs loaded from a picked folder get a URL of this scheme: they cannot be fetched again. */
export const LOCAL_PACK_SCHEME = 'local-pack:';

export const isLocalPackUrl = (url: string) => url.startsWith(LOCAL_PACK_SCHEME);

export const manifestKey = (packUrl: string) => ['pack-manifest', packUrl] as const;

/** The summary of the pack the app loaded, once it is loaded (App owns the loading query). */
export function useLoadedPack(): { url: string; summary: PackSummary | undefined } {
  const backend = useStudioStore((s) => s.backendPreference);
  const url = useStudioStore((s) => s.packUrl);
  const pack = usePack(backend, url, false);
  return { url, summary: pack.data };
}

/** Parses manifest.json text; zod (under parseManifest) stays out of the first bundle until a panel needs it. */
export async function parseManifestText(text: string): Promise<PackManifest> {
  const { parseManifest } = await import('../../../workers/pack/manifest');
  return parseManifest(text);
}

/**
 * The loaded pack's manifest. A URL pack's manifest is fetched again here (the
 * browser cache answers); a local pack's is put in the cache by the folder
 * loader, since there is no URL to fetch.
 */
export function usePackManifest(): PackManifest | undefined {
  const { url, summary } = useLoadedPack();
  const q = useQuery({
    queryKey: manifestKey(url),
    queryFn: async () => {
      const res = await fetch(`${absolutePackUrl(url)}/manifest.json`);
      if (!res.ok) throw new Error(`manifest.json: HTTP ${res.status}`);
      return parseManifestText(await res.text());
    },
    enabled: summary !== undefined && !isLocalPackUrl(url),
    staleTime: Infinity,
    gcTime: Infinity,
    retry: false,
  });
  return q.data;
}
