/**
 * `tsx scripts/make-realwidth-flux2.ts [dir]`: writes the klein-4B-width FLUX.2 transformer folder
 * and its inputs (workers/convert/flux2/testing/realwidth-folder.ts) into `dir`, for
 * fixtures/make_flux2_realwidth.py to run diffusers on. Without `dir`: the test's cache in
 * node_modules/.cache (generated only when out of date). Prints the folder and every file's sha256.
 */
import { resolve } from 'node:path';
import { ensureFlux2RealwidthFolder, writeFlux2RealwidthFolder } from '../workers/convert/flux2/testing/realwidth-folder';

const arg = process.argv[2];
const t0 = performance.now();
const { dir, manifest } = arg ? { dir: resolve(arg), manifest: await writeFlux2RealwidthFolder(resolve(arg)) } : await ensureFlux2RealwidthFolder();
for (const [file, { sha256, bytes }] of Object.entries(manifest.files)) console.log(`${sha256}  ${(bytes / 1e6).toFixed(1).padStart(7)} MB  ${file}`);
console.log(`${dir} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
