/**
 * A folder built on demand and reused while what it was built from is
 * unchanged (the stand-in pack, the real-width SD3 folders): a `.stamp` file
 * holds a hash of its sources. The folder is written aside and renamed into
 * place, so a half-written one is never taken for the real one.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const STAMP = '.stamp';

/** sha256 of `prefix`, then each file (relative to `root`) by name and content, in the order given. */
export async function sourcesHash(root: string, files: readonly string[], prefix = ''): Promise<string> {
  const h = createHash('sha256');
  h.update(prefix);
  for (const f of files) h.update(`\0${f}\0`).update(await readFile(join(root, f)));
  return h.digest('hex');
}

export async function readStamp(dir: string): Promise<string | null> {
  return readFile(join(dir, STAMP), 'utf8').then((s) => s.trim(), () => null);
}

/**
 * Makes `dir` hold what `write` writes for `hash`, unless its stamp already
 * says so. Returns whether it wrote.
 */
export async function ensureStamped(dir: string, hash: string, write: (tmp: string) => Promise<void>): Promise<boolean> {
  if ((await readStamp(dir)) === hash) return false;
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await write(tmp);
  await writeFile(join(tmp, STAMP), `${hash}\n`);
  await rm(dir, { recursive: true, force: true });
  try {
    await rename(tmp, dir);
  } catch (e) {
    // Another process made it at the same moment: theirs is the same bytes.
    await rm(tmp, { recursive: true, force: true });
    if ((await readStamp(dir)) !== hash) throw e;
  }
  return true;
}
