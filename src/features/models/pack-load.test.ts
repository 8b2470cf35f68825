import { describe, expect, it } from 'vitest';
import type { PackGraphSummary } from '../../engine-client/engine';
import { folderName, normalizePackUrl, precisionSummary } from './pack-load';

const graph = (matmul: PackGraphSummary['precision']['matmul'], conv: PackGraphSummary['precision']['conv'], blockSize?: number): PackGraphSummary =>
  ({ role: 'dit_step', attention: 'mha', file: 'x.onnx', bytes: 1, precision: { matmul, conv, ...(blockSize ? { blockSize } : {}) } }) as PackGraphSummary;

describe('pack panel helpers', () => {
  it('lists each precision once', () => {
    expect(precisionSummary([graph('fp32', 'int8'), graph('fp32', 'fp32'), graph('int4', 'int8', 32)])).toBe('fp32, int4 (block 32) · conv int8, fp32');
  });

  it('normalizes typed URLs and names picked folders', () => {
    expect(normalizePackUrl('  /packs/test/// ')).toBe('/packs/test');
    expect(folderName([{ path: 'my-pack/manifest.json', blob: new Blob([]) }])).toBe('my-pack');
    expect(folderName([])).toBe('folder');
  });
});
