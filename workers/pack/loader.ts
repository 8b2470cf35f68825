/**
 * Loading a model pack, plan first: read and validate manifest.json, decide
 * which graphs this engine will run (attention variant per role), refuse
 * before any weight byte moves if that choice cannot work (GPU buffer limit,
 * memory plan, free storage), then stream just those files into the cache,
 * each verified by sha256. A pack picked from a folder is read in place.
 */
import { ensureCached, isHtmlFallback, isQuotaError, PackLoadError, verifiedFromCache, type FetchLike } from './download';
import {
  graphBytes,
  graphFiles,
  ManifestError,
  PackFileError,
  packFiles,
  parseManifest,
  sha256,
  type AttentionKind,
  type GraphRole,
  type GraphSpec,
  type PackFileRef,
  type PackManifest,
  type Precision,
} from './manifest';
import { formatBytes } from './bytes';
import { packCapabilities, type PackCapabilities } from './capabilities';
import type { PackPlanSummary } from '../plan/pack-plan';
import type { BlobStore, PackRecord } from './store/blob-store';
import { MemoryBlobStore } from './store/blob-store';
import { sha256OfBlob } from './store/hash';

export { PackLoadError, type FetchLike } from './download';

export interface PackGraphSummary {
  role: GraphRole;
  attention: AttentionKind;
  file: string;
  /** The .onnx file and its external-data shards. */
  bytes: number;
  precision: Precision;
}

export interface PackSummary {
  url: string;
  name: string;
  version: string;
  description: string;
  /** False for packs with random weights, such as the built-in test pack. */
  trained: boolean;
  /** Every file the pack lists. */
  totalBytes: number;
  fileCount: number;
  /** The files this engine chose to load (one attention variant per role). */
  loadedBytes: number;
  defaultResolution: { width: number; height: number };
  graphs: PackGraphSummary[];
  /** Where the weights live: the persistent cache, memory only, or the user's folder. */
  storage: 'opfs' | 'memory' | 'folder';
  source: PackManifest['source'] | null;
  licence: string | null;
  /** What the pack can do (sizes, limits, defaults, reference modes): what the UI sets its limits by. */
  capabilities: PackCapabilities;
  /** The memory plan the engine checked before loading (null where none was made). */
  memoryPlan: PackPlanSummary | null;
  /** The words a small model knows (the toy world's), or null: any text. */
  vocabulary: string[] | null;
}

/** Where a loaded pack's file bytes come from (the cache, or the picked folder). */
export interface PackFiles {
  blob(file: string): Promise<Blob>;
}

export interface LoadedPack {
  url: string;
  manifest: PackManifest;
  /** The graphs chosen for this engine, by role. */
  graphs: Map<GraphRole, GraphSpec>;
  files: PackFiles;
  summary: PackSummary;
}

/** Progress of a pack load: bytes over every file chosen, with rate and time left while downloading. */
export type PackLoadProgress =
  | { kind: 'manifest'; url: string }
  | {
      kind: 'files';
      file: string;
      phase: 'verify' | 'download';
      doneBytes: number;
      totalBytes: number;
      /** Bytes per second over the network in this load (null until measurable). */
      rate: number | null;
      /** Seconds left at that rate (null while verifying or unknown). */
      etaSeconds: number | null;
    }
  | { kind: 'ready' };

export interface LoadOptions {
  fetch?: FetchLike;
  store?: BlobStore;
  signal?: AbortSignal;
  onProgress?: (p: PackLoadProgress) => void;
  /** The graph to run per role; default: the portable (decomposed) variant of each. */
  choose?: (m: PackManifest) => Map<GraphRole, GraphSpec> | Promise<Map<GraphRole, GraphSpec>>;
  /** Refuses the pack (throws) before any file is fetched: GPU buffer limits, the memory plan. */
  check?: (m: PackManifest, graphs: Map<GraphRole, GraphSpec>) => void | Promise<void>;
  /** The browser's storage estimate; undefined where there is none (Node). */
  storageEstimate?: () => Promise<{ quota: number; usage: number } | undefined>;
}

/** What the engine hands a loader: its graph choice, its checks, cancel and progress. */
export type PackLoadHooks = Pick<LoadOptions, 'choose' | 'check' | 'signal' | 'onProgress'>;

export function portableGraphs(m: PackManifest): Map<GraphRole, GraphSpec> {
  const out = new Map<GraphRole, GraphSpec>();
  for (const g of m.graphs) if (g.attention !== 'mha' && !out.has(g.role)) out.set(g.role, g);
  return out;
}

/** The files to fetch for a choice of graphs: the tokenizer, the licence text, and each graph with its shards. */
export function filesFor(m: PackManifest, graphs: Map<GraphRole, GraphSpec>): PackFileRef[] {
  const seen = new Set<string>();
  const refs = [m.tokenizer, ...(m.licence?.text ? [m.licence.text] : []), ...[...graphs.values()].flatMap(graphFiles)];
  return refs.filter((r) => !seen.has(r.file) && seen.add(r.file)).map(({ file, bytes, sha256 }) => ({ file, bytes, sha256 }));
}

export function summarizePack(url: string, m: PackManifest, graphs: Map<GraphRole, GraphSpec>, storage: PackSummary['storage']): PackSummary {
  const files = packFiles(m);
  return {
    url,
    name: m.name,
    version: m.version,
    description: m.description,
    trained: m.trained,
    totalBytes: files.reduce((n, f) => n + f.bytes, 0),
    fileCount: files.length,
    loadedBytes: filesFor(m, graphs).reduce((n, f) => n + f.bytes, 0),
    defaultResolution: { ...m.defaultResolution },
    graphs: m.graphs.map((g) => ({ role: g.role, attention: g.attention, file: g.file, bytes: graphBytes(g), precision: { ...g.precision } })),
    storage,
    source: m.source ?? null,
    licence: m.licence?.name ?? null,
    capabilities: packCapabilities(m),
    memoryPlan: null,
    vocabulary: m.vocabulary ?? null,
  };
}


async function readManifest(url: string, fetchFn: FetchLike, store: BlobStore, signal?: AbortSignal): Promise<{ text: string; cached: PackRecord | undefined }> {
  const manifestUrl = `${url}/manifest.json`;
  const cached = (await store.records()).find((r) => r.url === url);
  let res: Response;
  try {
    res = await fetchFn(manifestUrl, { signal, cache: 'no-cache' });
  } catch (e) {
    if (signal?.aborted) throw new PackLoadError('cancelled', 'loading the pack was cancelled', { cause: e });
    // Offline, or the server is gone: a cached copy of the pack still works.
    if (cached) return { text: cached.manifestText, cached };
    throw new PackLoadError('network', `could not fetch ${manifestUrl}: ${(e as Error).message}`, { cause: e });
  }
  if (!res.ok || isHtmlFallback(res)) {
    const why = res.ok ? 'the server answered with an HTML page' : `HTTP ${res.status}`;
    throw new PackLoadError(res.status === 404 || res.ok ? 'not-found' : 'network', `no model pack at ${url}: ${manifestUrl} could not be read (${why})`);
  }
  return { text: await res.text(), cached };
}

/** Bytes still to download for `refs` (complete blobs count fully, partial ones by their resume point). */
async function missingBytes(store: BlobStore, refs: PackFileRef[]): Promise<number> {
  const have = new Set(await store.list());
  let missing = 0;
  for (const r of refs) {
    if (have.has(r.sha256)) continue;
    missing += r.bytes - Math.min(r.bytes, (await store.partial(r.sha256))?.bytes ?? 0);
  }
  return missing;
}

/** The words for a pack that does not fit the storage: what it needs and what is free. */
const notEnoughStorage = (missing: number, free: string) =>
  `not enough storage for this pack: it needs ${formatBytes(missing)} more, and ${free}. Delete a cached pack or free disk space; nothing was changed.`;

async function checkStorage(store: BlobStore, refs: PackFileRef[], estimate: LoadOptions['storageEstimate']): Promise<number> {
  const missing = await missingBytes(store, refs);
  if (missing === 0 || !estimate) return missing;
  const e = await estimate().catch(() => undefined);
  if (!e) return missing;
  const free = Math.max(0, e.quota - e.usage);
  if (missing > free) {
    throw new PackLoadError('quota', notEnoughStorage(missing, `this site has ${formatBytes(free)} free (quota ${formatBytes(e.quota)}, ${formatBytes(e.usage)} used)`));
  }
  return missing;
}

/** Aggregates per-file progress into one stream with the rate of network bytes and time left. */
function progressTracker(totalBytes: number, onProgress: LoadOptions['onProgress']) {
  const perFile = new Map<string, number>();
  const started = Date.now();
  let networkBytes = 0;
  const update = (p: { file: string; bytes: number; phase: 'verify' | 'download' }) => {
    const before = perFile.get(p.file) ?? 0;
    // A file that fails verification starts again from 0: its bytes count once.
    const delta = p.bytes - before;
    perFile.set(p.file, p.bytes);
    if (p.phase === 'download' && delta > 0) networkBytes += delta;
    const doneBytes = [...perFile.values()].reduce((a, b) => a + b, 0);
    const seconds = (Date.now() - started) / 1000;
    const rate = p.phase === 'download' && seconds > 0.2 && networkBytes > 0 ? networkBytes / seconds : null;
    onProgress?.({
      kind: 'files',
      file: p.file,
      phase: p.phase,
      doneBytes: Math.min(doneBytes, totalBytes),
      totalBytes,
      rate,
      etaSeconds: rate ? Math.max(0, (totalBytes - doneBytes) / rate) : null,
    });
  };
  return Object.assign(update, { networkBytes: () => networkBytes });
}

async function dropUnreferenced(store: BlobStore, refs: PackFileRef[]): Promise<void> {
  const used = new Set((await store.records()).flatMap((r) => r.files.map((f) => f.sha256)));
  for (const r of refs) if (!used.has(r.sha256)) await store.delete(r.sha256);
}

/** Records (or updates) the cached pack: its manifest and the files now stored for it. */
async function recordPack(store: BlobStore, url: string, manifest: PackManifest, text: string, refs: PackFileRef[]): Promise<void> {
  const previous = (await store.records()).find((r) => r.url === url);
  const files = new Map((previous?.manifestText === text ? previous.files : []).map((f) => [f.file, f]));
  for (const r of refs) files.set(r.file, { file: r.file, sha256: r.sha256, bytes: r.bytes });
  await store.putRecord({ url, name: manifest.name, version: manifest.version, manifestText: text, files: [...files.values()], cachedAt: Date.now() });
}

/** Fetches and verifies the pack at `url` into the cache (only the chosen graphs). */
export async function loadPack(packUrl: string, opts: LoadOptions = {}): Promise<LoadedPack> {
  const url = packUrl.replace(/\/+$/, '');
  const fetchFn: FetchLike = opts.fetch ?? ((u, init) => fetch(u, init));
  const store = opts.store ?? new MemoryBlobStore();
  opts.onProgress?.({ kind: 'manifest', url });
  const { text } = await readManifest(url, fetchFn, store, opts.signal);
  const manifest = parseManifest(text);
  const graphs = await (opts.choose ?? portableGraphs)(manifest);
  await opts.check?.(manifest, graphs);
  const refs = filesFor(manifest, graphs);
  const missing = await checkStorage(store, refs, opts.storageEstimate);

  const track = progressTracker(
    refs.reduce((n, r) => n + r.bytes, 0),
    opts.onProgress,
  );
  const blobs = new Map<string, Blob>();
  try {
    for (const ref of refs) {
      opts.signal?.throwIfAborted();
      blobs.set(ref.file, await ensureCached(store, fetchFn, `${url}/${ref.file}`, ref, { signal: opts.signal, onProgress: track }));
    }
    await recordPack(store, url, manifest, text, refs);
  } catch (e) {
    if (opts.signal?.aborted) throw new PackLoadError('cancelled', 'loading the pack was cancelled; what was downloaded is kept for next time', { cause: e });
    if ((e instanceof PackLoadError && e.code === 'quota') || isQuotaError(e)) {
      // The estimate said it fits (browsers may report a quota they do not enforce): say what did fit,
      // and give back what this load stored that no cached pack uses.
      await dropUnreferenced(store, refs).catch(() => undefined);
      throw new PackLoadError('quota', notEnoughStorage(missing, `the browser refused to store more after ${formatBytes(track.networkBytes())} (this site's storage quota is reached)`), { cause: e });
    }
    throw e;
  }
  opts.onProgress?.({ kind: 'ready' });
  return { url, manifest, graphs, files: filesOf(blobs), summary: summarizePack(url, manifest, graphs, store.kind) };
}

function filesOf(blobs: Map<string, Blob>): PackFiles {
  return {
    blob: async (file) => {
      const b = blobs.get(file);
      if (!b) throw new Error(`the pack file ${file} was not loaded`);
      return b;
    },
  };
}

/**
 * Loads a pack from a folder the user picked (file name -> blob, relative to
 * the folder that holds manifest.json). The files stay where they are: each
 * chosen one is hashed as a stream and used in place.
 */
export async function loadPackFromBlobs(
  url: string,
  byName: Map<string, Blob>,
  opts: PackLoadHooks = {},
): Promise<LoadedPack> {
  const manifestBlob = byName.get('manifest.json');
  if (!manifestBlob) throw new ManifestError(['the folder has no manifest.json']);
  const manifest = parseManifest(await manifestBlob.text());
  const graphs = await (opts.choose ?? portableGraphs)(manifest);
  await opts.check?.(manifest, graphs);
  const refs = filesFor(manifest, graphs);
  const track = progressTracker(
    refs.reduce((n, r) => n + r.bytes, 0),
    opts.onProgress,
  );
  const problems: string[] = [];
  const blobs = new Map<string, Blob>();
  for (const ref of refs) {
    const blob = byName.get(ref.file);
    if (!blob) {
      problems.push(`missing file "${ref.file}"`);
      continue;
    }
    if (blob.size !== ref.bytes) {
      problems.push(`"${ref.file}" has ${blob.size} bytes, the manifest says ${ref.bytes}`);
      continue;
    }
    let done = 0;
    const digest = await sha256OfBlob(blob, opts.signal, (n) => track({ file: ref.file, bytes: (done += n), phase: 'verify' }));
    if (digest !== ref.sha256) {
      problems.push(`"${ref.file}" has sha256 ${digest}, the manifest says ${ref.sha256} (corrupt or wrong file)`);
      continue;
    }
    blobs.set(ref.file, blob);
  }
  if (problems.length) throw new PackFileError(problems);
  opts.onProgress?.({ kind: 'ready' });
  return { url, manifest, graphs, files: filesOf(blobs), summary: summarizePack(url, manifest, graphs, 'folder') };
}

/** Cached packs, for the pack panel: what each is and the bytes it holds. */
export async function listCachedPacks(store: BlobStore): Promise<{ url: string; name: string; version: string; bytes: number; cachedAt: number }[]> {
  const have = new Set(await store.list());
  return (await store.records()).map((r) => ({
    url: r.url,
    name: r.name,
    version: r.version,
    bytes: r.files.filter((f) => have.has(f.sha256)).reduce((n, f) => n + f.bytes, 0),
    cachedAt: r.cachedAt,
  }));
}

export { sha256, verifiedFromCache };
