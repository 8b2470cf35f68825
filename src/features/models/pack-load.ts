/**
 * Switching the studio's pack. A pack is loaded in the engine first and the
 * app switches to it only once that worked, so a bad URL or a broken manifest
 * leaves the studio on the pack it had. The app's pack query is then given
 * the new summary under the new URL, so it shows the pack without loading it
 * a second time.
 */
import type { QueryClient } from '@tanstack/react-query';
import { getEngine, isLocalPackUrl, loadPackFilesInEngine, loadPackInEngine, localPackUrl, type BackendPreference, type PackGraphSummary, type PackSummary } from '../../engine-client/engine';
import { engineKeys } from '../../engine-client/queries';
import { useStudioStore } from '../../state/studio-store';

export interface PickedFile {
  /** Path inside the picked folder, its name first ("my-pack/manifest.json"). */
  path: string;
  blob: Blob;
}

// Files of local packs loaded this session, by their local URL: there is nothing to re-fetch them from.
const localFiles = new Map<string, PickedFile[]>();
let localCount = 0;

/** Loads (or reloads) a pack into the engine; for local packs, the files picked when it was first loaded. */
function loadInEngine(url: string): Promise<PackSummary> {
  if (!isLocalPackUrl(url)) return loadPackInEngine(url);
  const files = localFiles.get(url);
  if (!files) return Promise.reject(new Error(`the files of ${url} are no longer available: pick the folder again`));
  return loadPackFilesInEngine(files);
}

function switchTo(client: QueryClient, backend: BackendPreference, url: string, summary: PackSummary): void {
  client.setQueryData(engineKeys.pack(backend, url), summary);
  useStudioStore.getState().actions.setPackUrl(url);
}

/**
 * After a failed load: the engine drops its old pack only once the new one's
 * files checked out, so a late failure (the tokenizer, the attention probe)
 * can leave it with none. Then the previous pack is loaded again.
 */
async function restoreIfLost(previousUrl: string): Promise<void> {
  const status = await getEngine().status();
  if (status.pack === null) await loadInEngine(previousUrl);
}

async function guarded(previousUrl: string, load: () => Promise<PackSummary>): Promise<PackSummary> {
  try {
    return await load();
  } catch (e) {
    await restoreIfLost(previousUrl).catch(() => undefined);
    throw e;
  }
}

/** Runs a load that ends in the engine's own pack switch (a folder conversion) and makes the app follow it to the new pack. */
export async function loadPackWith(client: QueryClient, backend: BackendPreference, load: () => Promise<PackSummary>): Promise<PackSummary> {
  const summary = await guarded(useStudioStore.getState().packUrl, load);
  switchTo(client, backend, summary.url, summary);
  return summary;
}

/** Trims a typed pack URL and drops trailing slashes ("/packs/test/" and "/packs/test" are one pack). */
export function normalizePackUrl(text: string): string {
  return text.trim().replace(/\/+$/, '');
}

export async function loadPackFromUrl(client: QueryClient, backend: BackendPreference, text: string): Promise<PackSummary> {
  const url = normalizePackUrl(text);
  if (!url) throw new Error('type the URL of a pack folder (the folder that holds manifest.json)');
  const previous = useStudioStore.getState().packUrl;
  const summary = await guarded(previous, () => loadPackInEngine(url));
  switchTo(client, backend, url, summary);
  return summary;
}

/** The picked folder's name ("my-pack" for "my-pack/manifest.json"). */
export function folderName(files: readonly PickedFile[]): string {
  return files[0]?.path.split('/')[0] || 'folder';
}

export async function loadPackFromFolder(client: QueryClient, backend: BackendPreference, files: PickedFile[]): Promise<PackSummary> {
  if (files.length === 0) throw new Error('the chosen folder is empty');
  const previous = useStudioStore.getState().packUrl;
  // One URL per pick: picking the same folder again (perhaps changed) is another pack.
  const url = `${localPackUrl(folderName(files))}#${++localCount}`;
  localFiles.set(url, files);
  try {
    const summary = await guarded(previous, () => loadPackFilesInEngine(files));
    switchTo(client, backend, url, summary);
    return summary;
  } catch (e) {
    localFiles.delete(url);
    throw e;
  }
}

/** "int8 · conv int8": the distinct weight precisions of a pack's graphs. */
export function precisionSummary(graphs: readonly PackGraphSummary[]): string {
  const uniq = (xs: string[]) => [...new Set(xs)].join(', ');
  const matmul = uniq(graphs.map((g) => g.precision.matmul + (g.precision.blockSize ? ` (block ${g.precision.blockSize})` : '')));
  return `${matmul} · conv ${uniq(graphs.map((g) => g.precision.conv))}`;
}
