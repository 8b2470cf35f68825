/**
 * Read-only views of the loaded pack for the feature panels: its summary (the
 * app's own pack query, observed here without fetching) and what the pack
 * can do (the capabilities the worker sent with it: sizes, limits, defaults).
 */
import { isLocalPackUrl, type PackCapabilities, type PackSummary } from '../../engine-client/engine';
import { usePack } from '../../engine-client/queries';
import { useStudioStore } from '../../state/studio-store';

export { isLocalPackUrl };

/** The summary of the pack the app loaded, once it is loaded (App owns the loading query). */
export function useLoadedPack(): { url: string; summary: PackSummary | undefined } {
  const backend = useStudioStore((s) => s.backendPreference);
  const url = useStudioStore((s) => s.packUrl);
  const pack = usePack(backend, url, false);
  return { url, summary: pack.data };
}

/** The loaded pack's capabilities, or undefined until a pack is loaded. */
export function usePackCapabilities(): PackCapabilities | undefined {
  return useLoadedPack().summary?.capabilities;
}
