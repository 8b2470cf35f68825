/**
 * `tsx scripts/make-realwidth-sd3.ts [dir]`: writes the real-width SD3 / SD3.5 transformer folders
 * and their inputs (workers/convert/sd3/testing/realwidth-folder.ts) into `dir`, for
 * fixtures/make_sd3_realwidth.py to run diffusers on. Without `dir`: the test's cache in
 * node_modules/.cache (generated only when out of date). Prints the folder and every file's sha256.
 */
import { resolve } from 'node:path';
import { ensureRealwidthFolders, writeRealwidthFolders } from '../workers/convert/sd3/testing/realwidth-folder';

const arg = process.argv[2];
const t0 = performance.now();
const { dir, manifest } = arg ? { dir: resolve(arg), manifest: await writeRealwidthFolders(resolve(arg)) } : await ensureRealwidthFolders();
for (const [file, { sha256, bytes }] of Object.entries(manifest.files)) console.log(`${sha256}  ${(bytes / 1e6).toFixed(1).padStart(7)} MB  ${file}`);
console.log(`${dir} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
