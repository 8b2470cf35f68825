/**
 * Node-only test support: the committed SD3 / SD3.5 fixture folders converted by the converter
 * into packs on disk (once per test file), and the engine on them.
 */
import { join } from 'node:path';
import type { NodeEngine } from '../../../node/engine';
import { convertedEngine, convertFolderToDir } from '../../testing/converted-pack';
import type { ConvertOptions } from '../convert';

export const SD3_FIXTURES = new URL('../../../../fixtures/sd3/', import.meta.url).pathname;
export type FixtureModel = 'sd3' | 'sd3.5';

/** Converts fixtures/sd3/<model> into a fresh temporary folder and returns it. */
export function convertFixture(model: FixtureModel, opts: Partial<ConvertOptions> = {}): Promise<string> {
  return convertFolderToDir(join(SD3_FIXTURES, model), opts);
}

export function fixtureEngine(model: FixtureModel, opts: Partial<ConvertOptions> = {}): Promise<NodeEngine> {
  return convertedEngine(join(SD3_FIXTURES, model), opts);
}
