/**
 * studio.json in a model folder (the project's own trained models write one): what the converter
 * takes from it, and a clear message when it is broken. On the committed SD3 fixture folder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConvertError } from '../errors';
import { bytesSource, folderFromSources } from '../source';
import { convertSd3Folder } from './convert';
import { SD3_FIXTURES } from './testing/fixture-packs';

function fixtureWith(extra: Record<string, string>) {
  const root = join(SD3_FIXTURES, 'sd3');
  const sources = [];
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name).slice(root.length + 1);
    if (entry.isFile() && !path.startsWith('reference/')) sources.push(bytesSource(path, new Uint8Array(readFileSync(join(root, path)))));
  }
  for (const [path, text] of Object.entries(extra)) sources.push(bytesSource(path, new TextEncoder().encode(text)));
  return folderFromSources(sources);
}

const HINTS = {
  name: 'tiny-world',
  description: 'A tiny model of a world',
  vocabulary: ['a', 'cat'],
  referenceModes: { cached: 'exact', full: 'approximate' },
  guidance: { steps: 12, text: 2.5, reference: 1 },
};

describe('studio.json', () => {
  it('names the pack, says which reference mode is exact, sets the defaults and the vocabulary', async () => {
    const { manifest } = await convertSd3Folder(fixtureWith({ 'studio.json': JSON.stringify(HINTS) }), { precision: 'fp32', sizes: [128] });
    expect(manifest).toMatchObject({
      name: 'tiny-world',
      description: 'A tiny model of a world (fp32 weights)',
      vocabulary: ['a', 'cat'],
      referenceModes: { cached: 'exact', full: 'approximate' },
      guidance: { steps: 12, text: 2.5, reference: 1 },
      source: { kind: 'trained', model: 'tiny-world' },
    });
    const plain = (await convertSd3Folder(fixtureWith({}), { precision: 'fp32', sizes: [128] })).manifest;
    expect(plain.referenceModes).toEqual({ cached: 'approximate', full: 'approximate' });
    expect(plain.vocabulary).toBeUndefined();
  }, 60_000);

  it.each([
    ['{ "name": "x"', /^studio\.json is not valid JSON/],
    [JSON.stringify({ ...HINTS, referenceModes: { cached: 'perfect', full: 'exact' } }), /^studio\.json: referenceModes\.cached: /],
    [JSON.stringify({ ...HINTS, name: 'Has Spaces' }), /^studio\.json: name: lower-case letters, digits and dashes$/],
    [JSON.stringify({ ...HINTS, colour: 'red' }), /^studio\.json: \(top level\): Unrecognized key/],
  ])('a broken studio.json stops the conversion with a message naming the field: %s', async (text, message) => {
    const e = await convertSd3Folder(fixtureWith({ 'studio.json': text }), { precision: 'fp32', sizes: [128] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConvertError);
    expect((e as ConvertError).code).toBe('bad-json');
    expect((e as ConvertError).message).toMatch(message);
  });
});
