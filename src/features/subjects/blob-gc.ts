/**
 * Startup garbage collection of the blob store: photos of deleted subjects,
 * replaced masks and images of deleted gallery entries are kept while the
 * session may still undo, and removed on the next start. Runs once per page,
 * only after every persisted store has loaded its saved state (before that
 * the stores look empty and everything would look unused).
 */
import { useGalleryStore } from '../../state/gallery-store';
import { usePromptStore } from '../../state/prompt-store';
import { useSettingsStore } from '../../state/settings-store';
import { collectStrings, collectUnreferencedBlobs, type GarbageReport } from '../../state/storage';
import { useSubjectsStore } from '../../state/subjects-store';
import { whenAllHydrated } from '../../state/hydration';

/**
 * Every persisted store. Prompt and settings hold no blob ids today; they are
 * listed so the collection waits for them too and any blob id they ever hold
 * is found (collectUnreferencedBlobs keeps any blob whose id occurs in them).
 */
const PERSISTED_STORES = [useSubjectsStore, useGalleryStore, usePromptStore, useSettingsStore] as const;

/** Every string in the stores' live state, the subjects' undo trash included. */
function liveStrings(): Set<string> {
  const out = new Set<string>();
  for (const store of PERSISTED_STORES) collectStrings(store.getState(), out);
  return out;
}

let started: Promise<GarbageReport> | null = null;

/** Starts the collection once per page; later calls return the same result. */
export function collectBlobGarbageOnce(): Promise<GarbageReport> {
  started ??= whenAllHydrated(PERSISTED_STORES).then(async () => {
    const report = await collectUnreferencedBlobs(liveStrings());
    if (report.deleted.length > 0) {
      console.info(`[storage] removed ${report.deleted.length} unused files (${(report.bytes / 1e6).toFixed(1)} MB); ${report.kept} kept`);
    }
    return report;
  });
  return started;
}
