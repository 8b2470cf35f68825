import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../pack/manifest';
import { defaultBudgetBytes, planPack } from './pack-plan';

const manifest = parseManifest(readFileSync(new URL('../../public/packs/test/manifest.json', import.meta.url), 'utf8'));
const GIB = 2 ** 30;

describe('planPack', () => {
  it('plans the default size with one subject and says it fits', () => {
    const { summary } = planPack(manifest, 4 * GIB);
    expect(summary).toMatchObject({ width: 128, height: 128, subjects: 1, refMode: 'cached', budgetBytes: 4 * GIB, fits: true });
    expect(summary.message).toMatch(/^needs [\d.]+ MiB of GPU memory, your budget is 4 GiB$/);
  });

  it('refuses under a budget below its peak, naming both numbers', () => {
    const { summary } = planPack(manifest, 4 * GIB);
    const small = planPack(manifest, summary.peakBytes - 1).summary;
    expect(small.fits).toBe(false);
    expect(small.message).toContain('of GPU memory, your budget is');
  });

  it('default budgets: 4 GiB on WASM, the device memory (at most 8 GiB) on WebGPU', () => {
    expect(defaultBudgetBytes('wasm', 16)).toBe(4 * GIB);
    expect(defaultBudgetBytes('webgpu', 4)).toBe(4 * GIB);
    expect(defaultBudgetBytes('webgpu', undefined)).toBe(8 * GIB);
    expect(defaultBudgetBytes('webgpu', 32)).toBe(8 * GIB);
  });
});
