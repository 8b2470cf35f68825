/** Packs kept in this browser's storage: their size, which one is in use, and Delete for the others. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { errorText, formatBytes } from '../../app/format';
import { getEngine } from '../../engine-client/engine';
import { storageKey } from '../../engine-client/queries';
import { useStudioStore } from '../../state/studio-store';
import { loadPackFromUrl } from './pack-load';

export const cachedPacksKey = ['engine', 'cached-packs'] as const;

export function CachedPacks({ loadedUrl }: { loadedUrl: string }) {
  const client = useQueryClient();
  const packs = useQuery({ queryKey: [...cachedPacksKey, loadedUrl], queryFn: () => getEngine().cachedPacks(), retry: false, refetchOnWindowFocus: false });
  const remove = useMutation({
    mutationFn: (url: string) => getEngine().deleteCachedPack(url),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: cachedPacksKey });
      void client.invalidateQueries({ queryKey: storageKey });
    },
  });
  const backend = useStudioStore((s) => s.backendPreference);
  // A cached pack loads from this browser's storage (a converted one has nowhere else to come from).
  const load = useMutation({ mutationFn: (url: string) => loadPackFromUrl(client, backend, url) });
  const list = packs.data ?? [];
  if (list.length === 0) return null;
  return (
    <div className="cached-packs" data-testid="pack.cached">
      <h3 className="pack-subtitle">Stored in this browser{list[0]!.storage === 'memory' ? ' (until reload: no persistent storage here)' : ''}</h3>
      <ul>
        {list.map((p) => (
          <li key={p.url} data-testid="pack.cached.item">
            <span className="cached-pack-name" title={p.url}>
              {p.name} <span className="muted">v{p.version}</span>
            </span>
            <span className="muted num">{formatBytes(p.bytes)}</span>
            {p.loaded ? (
              <span className="badge">in use</span>
            ) : (
              <span className="cached-pack-actions">
                <button type="button" className="link-button" data-testid="pack.cached.load" disabled={load.isPending} onClick={() => load.mutate(p.url)} title={`Switch to ${p.name}, from this browser's storage`}>
                  Load
                </button>
                <button type="button" className="link-button" data-testid="pack.cached.delete" disabled={remove.isPending || load.isPending} onClick={() => remove.mutate(p.url)} title={`Delete ${p.name} from this browser's storage`}>
                  Delete
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
      {remove.isError && (
        <p className="pack-error" role="alert">
          {errorText(remove.error)}
        </p>
      )}
      {load.isError && (
        <p className="pack-error" role="alert" data-testid="pack.cached.error">
          {errorText(load.error)}
        </p>
      )}
    </div>
  );
}
