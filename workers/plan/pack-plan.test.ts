import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../pack/manifest';
import { defaultBudgetBytes, planPack } from './pack-plan';

const manifest = parseManifest(readFileSync(new URL('../../public/packs/test/manifest.json', import.meta.url), 'utf8'));
const GIB = 2 ** 30;

describe('planPack', () => {
  it('plans the default size with one subject, in the mode the pack calls exact, and says it fits', () => {
    const { summary } = planPack(manifest, 4 * GIB);
    expect(summary).toMatchObject({ width: 128, height: 128, subjects: 1, refMode: 'full', budgetBytes: 4 * GIB, fits: true });
    expect(summary.message).toMatch(/^needs [\d.]+ MiB of GPU memory, your budget is 4 GiB$/);
  });

  it('refuses under a budget below its peak, naming both numbers', () => {
    const small = planPack(manifest, 1024 * 1024).summary;
    expect(small.fits).toBe(false);
    expect(small.message).toMatch(/^needs [\d.]+ MiB of GPU memory, your budget is 1 MiB/);
  });

  it('default budgets: 4 GiB on WASM, the device memory (at most 8 GiB) on WebGPU', () => {
    expect(defaultBudgetBytes('wasm', 16)).toBe(4 * GIB);
    expect(defaultBudgetBytes('webgpu', 4)).toBe(4 * GIB);
    expect(defaultBudgetBytes('webgpu', undefined)).toBe(8 * GIB);
    expect(defaultBudgetBytes('webgpu', 32)).toBe(8 * GIB);
  });
});
