import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getComponent, inspectModelFolder } from './folder';
import { folderFromDisk } from './node-source';
import { matrixBytes, sd3PackBytesLowerBound, type PackPrecision } from './pack-size';
import { convertSd3Folder } from './sd3/convert';
import { SD3_FIXTURES } from './sd3/testing/fixture-packs';

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
