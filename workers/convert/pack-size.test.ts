import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conversionFacts, convertModelFolder } from './convert-folder';
import { getComponent, inspectModelFolder } from './folder';
import { folderFromDisk } from './node-source';
import { matrixBytes, sd3PackBytesLowerBound, type PackPrecision } from './pack-size';
import { convertSd3Folder } from './sd3/convert';
import { SD3_FIXTURES } from './sd3/testing/fixture-packs';

const FLUX2_FIXTURES = new URL('../../fixtures/flux2/', import.meta.url).pathname;

describe('the least a converted pack takes, from the headers', () => {
  it('matrix bytes per precision (hand-computed: a 64x32 matrix, blocks of 16)', () => {
    expect(matrixBytes(64, 32, 'fp32', 16)).toBe(8192);
    expect(matrixBytes(64, 32, 'fp16', 16)).toBe(4096);
    expect(matrixBytes(64, 32, 'int8', 16)).toBe(2048 + 256);
    expect(matrixBytes(64, 32, 'int4', 16)).toBe(1024 + 4 * 64 * 2);
  });

  it.each<[string, PackPrecision]>([
    ['sd3', 'fp32'],
    ['sd3', 'fp16'],
    ['sd3', 'int8'],
    ['sd3', 'int4'],
    ['sd3.5', 'fp16'],
    ['sd3.5', 'int4'],
  ])('%s at %s: at most the converted pack, and most of it', async (model, precision) => {
    const folder = await folderFromDisk(join(SD3_FIXTURES, model));
    const d = await inspectModelFolder(folder);
    const bound = sd3PackBytesLowerBound((n) => getComponent(d, n), precision, 16);
    const { files } = await convertSd3Folder(folder, { precision, sizes: [128], blockSize: 16 });
    const actual = [...files.values()].reduce((n, f) => n + f.byteLength, 0);
    console.info(`${model} ${precision}: bound ${bound} B, pack ${actual} B (${((100 * bound) / actual).toFixed(1)} %)`);
    expect(bound).toBeLessThanOrEqual(actual);
    expect(bound).toBeGreaterThan(0.5 * actual);
  });
});

describe('the least a converted FLUX.2 klein pack takes', () => {
  it.each<[string, PackPrecision]>([
    ['klein-4b', 'fp32'],
    ['klein-4b', 'int4'],
    ['klein-9b-kv', 'fp16'],
    ['klein-9b-kv', 'int8'],
  ])('%s at %s: at most the converted pack, and a good part of it (only the Qwen3 layers the taps read count)', async (model, precision) => {
    const folder = await folderFromDisk(join(FLUX2_FIXTURES, model));
    const d = await inspectModelFolder(folder);
    const bound = conversionFacts(d).packBytesLowerBound(precision, 16);
    const { files } = await convertModelFolder(folder, { precision, sizes: [64], blockSize: 16, maxTextTokens: 64 });
    const actual = [...files.values()].reduce((n, f) => n + f.byteLength, 0);
    console.info(`${model} ${precision}: bound ${bound} B, pack ${actual} B (${((100 * bound) / actual).toFixed(1)} %)`);
    expect(bound).toBeLessThanOrEqual(actual);
    // At these toy widths the graphs themselves (six of them, ~1000 nodes) are a third of the pack;
    // at real widths they are noise and the bound is nearly all of it.
    expect(bound).toBeGreaterThan(0.4 * actual);
  });
});
