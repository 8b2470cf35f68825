/**
 * `npm run pack:standin`: builds the real-width stand-in pack
 * (workers/packbuild/standin.ts) into node_modules/.cache/subject-studio/standin-sd3m/
 * (outside git), only when it is missing or out of date: a stamp file holds a
 * hash of the config and of the builder's source. Tests and the benchmark
 * call ensureStandinPack() and get the folder.
 */
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureStamped, sourcesHash, STAMP } from '../workers/node/stamped-cache';
import { buildStandinPack, STANDIN_CONFIG } from '../workers/packbuild/standin';

const ROOT = resolve(import.meta.dirname, '..');
export const STANDIN_DIR = join(ROOT, 'node_modules', '.cache', 'subject-studio', 'standin-sd3m');

/** Everything the pack's bytes depend on: the config and the builder's source (and the manifest schema). */
async function standinHash(): Promise<string> {
  const files = ['workers/pack/manifest.ts', 'package-lock.json'];
  for (const d of ['workers/packbuild', 'workers/packbuild/models']) {
    for (const f of (await readdir(join(ROOT, d))).sort()) if (f.endsWith('.ts') && !f.endsWith('.test.ts')) files.push(`${d}/${f}`);
  }
  return sourcesHash(ROOT, files, JSON.stringify(STANDIN_CONFIG));
}

export interface StandinBuildInfo {
  dir: string;
  built: boolean;
  ms: number;
  bytes: number;
  files: number;
}

/** Builds the stand-in into `dir` unless the stamp there matches; returns what it did. */
export async function buildStandin(dir = STANDIN_DIR, log: (line: string) => void = () => {}): Promise<StandinBuildInfo> {
  const t0 = performance.now();
  const built = await ensureStamped(dir, await standinHash(), async (tmp) => {
    log(`building the real-width stand-in pack into ${dir} ...`);
    const { manifest, files } = await buildStandinPack();
    await mkdir(tmp, { recursive: true });
    for (const [name, bytes] of files) await writeFile(join(tmp, name), bytes);
    await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  });
  return { dir, built, ms: performance.now() - t0, ...(await sizeOf(dir)) };
}

async function sizeOf(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const f of await readdir(dir)) {
    if (f === STAMP) continue;
    bytes += (await stat(join(dir, f))).size;
    files++;
  }
  return { bytes, files };
}

let pending: Promise<string> | null = null;

/** The stand-in's folder, built first if it is missing or out of date (once per process). */
export function ensureStandinPack(): Promise<string> {
  pending ??= buildStandin().then((i) => i.dir);
  return pending;
}

async function main(): Promise<void> {
  const force = process.argv.includes('--force');
  if (force) await rm(STANDIN_DIR, { recursive: true, force: true });
  const info = await buildStandin(STANDIN_DIR, (l) => console.log(l));
  const what = info.built ? `built in ${(info.ms / 1000).toFixed(1)} s` : 'up to date (nothing to build)';
  console.log(`stand-in pack: ${info.files} files, ${(info.bytes / 1e6).toFixed(1)} MB in ${info.dir}, ${what}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await main();
