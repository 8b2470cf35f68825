/**
 * Loads a model pack from a URL: manifest.json first (validated), then every
 * file it lists (size and sha256 checked). Errors are ManifestError /
 * PackFileError from ./manifest, or an Error naming the URL that failed.
 */
import {
  packFiles,
  parseManifest,
  verifyPackFiles,
  type AttentionKind,
  type GraphRole,
  type PackManifest,
  type Precision,
} from './manifest';

export type FetchLike = (url: string) => Promise<Response>;

export interface PackGraphSummary {
  role: GraphRole;
  attention: AttentionKind;
  file: string;
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
  totalBytes: number;
  fileCount: number;
  defaultResolution: { width: number; height: number };
  graphs: PackGraphSummary[];
}

export interface LoadedPack {
  url: string;
  manifest: PackManifest;
  /** File bytes by name; a graph's bytes are dropped once its session exists. */
  files: Map<string, Uint8Array>;
  summary: PackSummary;
}

/** A static server's single-page fallback answers unknown paths with index.html: that is a missing file, not data. */
function isHtmlFallback(res: Response): boolean {
  return (res.headers.get('content-type') ?? '').startsWith('text/html');
}

async function fetchOrExplain(fetchFn: FetchLike, url: string): Promise<Response> {
  try {
    return await fetchFn(url);
  } catch (e) {
    throw new Error(`could not fetch ${url}: ${(e as Error).message}`, { cause: e });
  }
}

export function summarizePack(url: string, m: PackManifest): PackSummary {
  const files = packFiles(m);
  return {
    url,
    name: m.name,
    version: m.version,
    description: m.description,
    trained: m.trained,
    totalBytes: files.reduce((n, f) => n + f.bytes, 0),
    fileCount: files.length,
    defaultResolution: { ...m.defaultResolution },
    graphs: m.graphs.map((g) => ({ role: g.role, attention: g.attention, file: g.file, bytes: g.bytes, precision: { ...g.precision } })),
  };
}

export async function loadPack(packUrl: string, fetchFn: FetchLike = (u) => fetch(u)): Promise<LoadedPack> {
  const url = packUrl.replace(/\/+$/, '');
  const manifestUrl = `${url}/manifest.json`;
  const res = await fetchOrExplain(fetchFn, manifestUrl);
  if (!res.ok || isHtmlFallback(res)) {
    const why = res.ok ? 'the server answered with an HTML page' : `HTTP ${res.status}`;
    throw new Error(`no model pack at ${url}: ${manifestUrl} could not be read (${why})`);
  }
  const manifest = parseManifest(await res.text());
  const files = await verifyPackFiles(manifest, async (file) => {
    const fileUrl = `${url}/${file}`;
    const r = await fetchOrExplain(fetchFn, fileUrl);
    if (r.status === 404 || (r.ok && isHtmlFallback(r))) return undefined;
    if (!r.ok) throw new Error(`could not fetch ${fileUrl}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  });
  return { url, manifest, files, summary: summarizePack(url, manifest) };
}
