/**
 * Node-only test support: a committed fixture folder converted (by the converter the studio uses
 * for it: convertModelFolder) into a pack in a fresh temporary folder, and the engine on it.
 */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createNodeEngine, loadPackFromDir, type NodeEngine } from '../../node/engine';
import { convertModelFolder } from '../convert-folder';
import type { Flux2ConvertOptions } from '../flux2/convert';
import { folderFromDisk } from '../node-source';

/** Converts the diffusers folder at `path` into a fresh temporary folder and returns that folder. */
export async function convertFolderToDir(path: string, opts: Partial<Flux2ConvertOptions> = {}): Promise<string> {
  const { manifest, files } = await convertModelFolder(await folderFromDisk(path), { precision: 'fp32', sizes: [128, 256], ...opts });
  const dir = await mkdtemp(join(tmpdir(), `studio-${basename(path)}-`));
  for (const [name, bytes] of files) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), bytes);
  }
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

export async function convertedEngine(path: string, opts: Partial<Flux2ConvertOptions> = {}): Promise<NodeEngine> {
  return createNodeEngine(await loadPackFromDir(await convertFolderToDir(path, opts)));
}
