/**
 * A known real model that cannot run within this browser's memory budget is refused before the
 * conversion reads a weight, saying what it needs (the klein folders here are the configs of the
 * real 4B / 9B-kv with stand-in weight files: only their configs are read before the refusal).
 */
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../pack/store/blob-store';
import { PackLoadError } from '../../pack/download';
import { kleinFolder, type FolderFiles } from '../testing/model-folders';
import { folderConversion, type DroppedFile } from './convert-into-cache';
import { checkPlanBeforeConverting } from './plan-before-converting';

const GIB = 2 ** 30;

function dropped(files: FolderFiles): DroppedFile[] {
  return Object.entries(files).map(([path, content]) => ({
    path: `klein/${path}`,
    file: new Blob([content instanceof Uint8Array ? new Uint8Array(content) : typeof content === 'string' ? content : JSON.stringify(content)]),
  }));
}

async function refusal(p: Promise<unknown>): Promise<PackLoadError> {
  const e = await p.then(
    () => expect.fail('it should have been refused'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PackLoadError);
  return e as PackLoadError;
}

describe('a model that cannot fit the memory budget is refused before converting', () => {
  it('FLUX.2 klein 9B KV in 8 GiB: refused with what it needs, nothing read or stored', async () => {
    const store = new MemoryBlobStore();
    const conversion = folderConversion(dropped(kleinFolder({ size: '9B', kv: true })), { precision: 'int4', sizes: [512, 1024] }, { store, budgetBytes: 8 * GIB });
    const e = await refusal(conversion.load({}));
    expect(e.code).toBe('plan-refused');
    expect(e.message).toMatch(/^FLUX\.2 klein 9B KV does not fit this browser's GPU memory even at int4, 512 px and one subject: it needs [\d.]+ GiB of GPU memory, your budget is 8 GiB/);
    expect(e.message).toContain('Nothing was converted');
    expect(await store.records()).toEqual([]);
    expect(await store.list()).toEqual([]);
  });

  it('what 9B needs: over 8 GiB at 512 px, within 16 GiB', () => {
    const facts = { planPreset: 'flux2-klein-9b-kv' };
    let message = '';
    try {
      checkPlanBeforeConverting('klein 9B', facts, { sizes: [512] }, 8 * GIB);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(Number(/needs ([\d.]+) GiB/.exec(message)?.[1])).toBeGreaterThan(8);
    expect(() => checkPlanBeforeConverting('klein 9B', facts, { sizes: [512] }, 16 * GIB)).not.toThrow();
  });

  it('klein 4B at 512 px fits 8 GiB; fewer prompt rows need less; a toy (no preset) is left to the load-time check', () => {
    const facts = { planPreset: 'flux2-klein-4b' };
    expect(() => checkPlanBeforeConverting('klein 4B', facts, { sizes: [512, 1024] }, 8 * GIB)).not.toThrow();
    expect(() => checkPlanBeforeConverting('klein 4B', facts, { sizes: [1024] }, 4 * GIB)).toThrow(/klein 4B does not fit .* 1024 px/);
    const need = (rows?: number) => {
      try {
        checkPlanBeforeConverting('klein 4B', facts, { sizes: [1024], ...(rows ? { maxTextTokens: rows } : {}) }, 1 * GIB);
      } catch (e) {
        return Number(/needs ([\d.]+) GiB/.exec((e as Error).message)![1]);
      }
      throw new Error('expected a refusal at 1 GiB');
    };
    expect(need(64)).toBeLessThan(need());
    expect(() => checkPlanBeforeConverting('toy', { planPreset: null }, { sizes: [64] }, 1)).not.toThrow();
  });
});
