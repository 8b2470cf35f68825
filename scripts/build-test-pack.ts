/**
 * Writes the built-in test pack to public/packs/test/ from its fixed seed.
 * The output is byte-identical on every run (checked by
 * workers/packbuild/testPack.test.ts against the committed files).
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPack } from '../workers/packbuild/pack';
import { TEST_PACK_CONFIG } from '../workers/packbuild/testPack';

export const TEST_PACK_DIR = join(import.meta.dirname, '..', 'public', 'packs', 'test');

async function main(): Promise<void> {
  const { manifest, files } = await buildPack(TEST_PACK_CONFIG);
  await mkdir(TEST_PACK_DIR, { recursive: true });
  for (const stale of await readdir(TEST_PACK_DIR)) await rm(join(TEST_PACK_DIR, stale), { recursive: true });
  let total = 0;
  for (const [name, bytes] of files) {
    await writeFile(join(TEST_PACK_DIR, name), bytes);
    total += bytes.byteLength;
  }
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFile(join(TEST_PACK_DIR, 'manifest.json'), manifestText);
  total += manifestText.length;
  console.log(`test pack: ${files.size + 1} files, ${(total / 1e6).toFixed(2)} MB in ${TEST_PACK_DIR}`);
  for (const g of manifest.graphs) console.log(`  ${g.file.padEnd(24)} ${String(g.bytes).padStart(8)} B  ${g.sha256.slice(0, 12)}`);
}

await main();
