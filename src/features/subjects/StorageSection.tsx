import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type RefObject } from 'react';
import { errorText, formatBytes } from '../../app/format';
import { clearAllStorage, onBlobsChanged, onStorageError, StorageQuotaError, storageUse } from '../../state/storage';
import { collectBlobGarbageOnce } from './blob-gc';
import { Icon } from './icons';

const storageKeys = { use: ['storage', 'use'] as const, gc: ['storage', 'gc'] as const };
const REFRESH_AFTER_MS = 400;

/** Shown when a save fails (a full quota): what failed, and that what was saved before is intact. */
export function StorageErrorBanner() {
  const [error, setError] = useState<Error | null>(null);
  // Kept until dismissed: a later small save succeeding does not mean the failed one was retried.
  useEffect(() => onStorageError((e) => e && setError(e)), []);
  if (!error) return null;
  // A full quota's message already says so.
  const intact = error instanceof StorageQuotaError ? '' : ' Nothing saved before was lost.';
  return (
    <div className="banner bad subjects-storage-banner" role="alert" data-testid="storage.error">
      <p>
        {error.message}
        {intact}
      </p>
      <button type="button" className="icon-button" aria-label="Dismiss storage problem" onClick={() => setError(null)}>
        <Icon name="close" size={14} />
      </button>
    </div>
  );
}

function ClearDialog({ dialog }: { dialog: RefObject<HTMLDialogElement | null> }) {
  const [state, setState] = useState<{ running: boolean; error: string | null }>({ running: false, error: null });
  const clear = async () => {
    setState({ running: true, error: null });
    try {
      await clearAllStorage();
      // Every store (and other features' in-memory copies of stored data) starts clean from the now-empty storage.
      window.location.reload();
    } catch (e) {
      setState({ running: false, error: errorText(e) });
    }
  };
  return (
    <dialog ref={dialog} className="subjects-dialog" aria-labelledby="clear-storage-title" data-testid="storage.dialog">
      <h3 id="clear-storage-title">Clear all saved data?</h3>
      <p>This deletes every subject, photo and mask, the prompt, settings, presets and the gallery saved in this browser, then reloads the studio. It cannot be undone.</p>
      {state.error && (
        <p className="subject-field-problem" role="alert">
          Could not clear: {state.error}
        </p>
      )}
      <div className="subjects-dialog-buttons">
        <button type="button" autoFocus onClick={() => dialog.current?.close()}>
          Cancel
        </button>
        <button type="button" className="danger-button" data-testid="storage.clear-confirm" disabled={state.running} onClick={() => void clear()}>
          {state.running ? 'Clearing…' : 'Clear everything'}
        </button>
      </div>
    </dialog>
  );
}

/** Storage use, the result of the startup clean-up, and "Clear all saved data". */
export function StorageSection() {
  const client = useQueryClient();
  const use = useQuery({ queryKey: storageKeys.use, queryFn: storageUse, staleTime: Infinity });
  const gc = useQuery({ queryKey: storageKeys.gc, queryFn: collectBlobGarbageOnce, staleTime: Infinity, gcTime: Infinity });
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    // Re-measured once writes pause: a burst (four photos, a gallery save) costs one refresh, outside the writes' own tasks.
    let timer = 0;
    const stop = onBlobsChanged(() => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => void client.invalidateQueries({ queryKey: storageKeys.use }), REFRESH_AFTER_MS);
    });
    return () => {
      stop();
      window.clearTimeout(timer);
    };
  }, [client]);

  const u = use.data;
  const used = u?.usedBytes != null ? `${formatBytes(u.usedBytes)} used${u.quotaBytes ? ` of ${formatBytes(u.quotaBytes)}` : ''}` : 'unknown';
  const removed = gc.data?.deleted.length ?? 0;
  return (
    <section className="subjects-storage" aria-labelledby="subjects-storage-title" data-testid="storage.section" data-gc={gc.isSuccess ? 'done' : gc.isError ? 'failed' : 'waiting'}>
      <h3 id="subjects-storage-title">Storage</h3>
      <p data-testid="storage.use">
        {use.isPending ? 'Measuring…' : use.isError ? `Unknown (${errorText(use.error)})` : `${used} · ${u!.blobs} ${u!.blobs === 1 ? 'file' : 'files'} (photos, masks, results)`}
      </p>
      {removed > 0 && (
        <p className="muted" data-testid="storage.gc">
          Removed {removed} unused {removed === 1 ? 'file' : 'files'} ({formatBytes(gc.data!.bytes)}) at startup.
        </p>
      )}
      <button type="button" className="danger-button" data-testid="storage.clear" onClick={() => dialog.current?.showModal()}>
        Clear all saved data…
      </button>
      <ClearDialog dialog={dialog} />
    </section>
  );
}
