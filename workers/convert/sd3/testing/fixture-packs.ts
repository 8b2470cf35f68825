/**
 * Node-only test support: the committed SD3 / SD3.5 fixture folders converted
 * by the converter into packs on disk (once per test file), and the engine on
 * them.
 */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createNodeEngine, loadPackFromDir, type NodeEngine } from '../../../node/engine';
import { folderFromDisk } from '../../node-source';
import { convertSd3Folder, type ConvertOptions } from '../convert';

export const SD3_FIXTURES = new URL('../../../../fixtures/sd3/', import.meta.url).pathname;
export type FixtureModel = 'sd3' | 'sd3.5';

/** Converts fixtures/sd3/<model> into a fresh temporary folder and returns it. */
export async function convertFixture(model: FixtureModel, opts: Partial<ConvertOptions> = {}): Promise<string> {
  const { manifest, files } = await convertSd3Folder(await folderFromDisk(join(SD3_FIXTURES, model)), { precision: 'fp32', sizes: [128, 256], ...opts });
  const dir = await mkdtemp(join(tmpdir(), `studio-${model}-`));
  for (const [name, bytes] of files) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), bytes);
  }
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

export async function fixtureEngine(model: FixtureModel, opts: Partial<ConvertOptions> = {}): Promise<NodeEngine> {
  return createNodeEngine(await loadPackFromDir(await convertFixture(model, opts)));
}
