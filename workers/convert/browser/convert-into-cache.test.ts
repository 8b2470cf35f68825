/**
 * Converting a dropped folder in the engine (Node, WASM): the committed SD3
 * fixture folder (real diffusers layout, toy widths) as Blobs under its top
 * folder, converted into a memory pack cache and loaded with the engine's
 * transactional switch. What the pack computes is checked against diffusers
 * by the converter's own tests; here: the cache, the switch, cancel, quota
 * and errors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createEngineApi } from '../../engine-api';
import { engineErrorOf, type EngineError } from '../../errors';
import { MemoryBlobStore } from '../../pack/store/blob-store';
import { diskFetch, TEST_PACK_URL } from '../../test-support/disk-fetch';
import { ConvertError } from '../errors';
import { folderConversion, inspectDroppedFolder, type DroppedFile } from './convert-into-cache';
import { isConvertedPackUrl } from './converted-pack';
import { sizeChoices } from './inspect';
import type { ConvertFolderProgress } from './progress';
import { withRate } from './progress';

const FIXTURE = fileURLToPath(new URL('../../../fixtures/sd3/sd3/', import.meta.url));
const FLUX2 = (model: string) => fileURLToPath(new URL(`../../../fixtures/flux2/${model}/`, import.meta.url));

/** A fixture folder as the page hands it over: paths under the folder's own name, the bytes as Blobs. */
function droppedFolderOf(dir: string, top: string, skip: (path: string) => boolean = () => false): DroppedFile[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)).replace(/\\/g, '/'))
    .filter((p) => !skip(p))
    .map((p) => ({ path: `${top}/${p}`, file: new Blob([readFileSync(join(dir, p))]) }));
}
const droppedFixture = (skip?: (path: string) => boolean) => droppedFolderOf(FIXTURE, 'sd3', skip);

// int4 in blocks of 16 (what the studio picks for the fixture's widths), at its smallest size.
const OPTS = { precision: 'int4' as const, blockSize: 16, sizes: [64] };

async function engineWithTestPack(store = new MemoryBlobStore(), extra: Partial<Parameters<typeof createEngineApi>[0]> = {}) {
  const api = createEngineApi({ configureRuntime: () => {}, fetch: diskFetch(), store, ...extra });
  await api.init({ backend: 'wasm' });
  await api.loadPack(TEST_PACK_URL);
  return api;
}

const failure = (p: Promise<unknown>): Promise<EngineError> => p.then(() => expect.fail('it should have failed'), (e: unknown) => engineErrorOf(e));

async function cacheState(store: MemoryBlobStore) {
  const records = (await store.records()).map((r) => r.url).sort();
  return { records, blobs: (await store.list()).sort() };
}

let firstStored: string | undefined;

describe('a dropped SD3 folder', () => {
  it('is described with the sizes its positional table allows', async () => {
    const info = await inspectDroppedFolder(droppedFixture());
    // patch 2, table 32: a reference one width right of the centred crop fits up to 11 patches (176 px).
    expect(info).toMatchObject({ family: 'sd3', sizeStep: 16, maxSize: 176, sizes: [64, 128, 176], defaultSizes: [176], defaultPrecision: 'int4', promptRows: null });
    // Its pooled width (80) takes int4 blocks of 16, not 32.
    expect(info.int4BlockSize).toBe(16);
    expect(info.weightBytes).toBeGreaterThan(1_000_000);
    expect(info.notes.some((n) => n.startsWith('text_encoder_3/'))).toBe(true);
    // SD3 Medium: table 192, patch 2 -> 1024 px.
    expect(sizeChoices(16, 1024)).toEqual({ sizes: [256, 512, 768, 1024], defaultSizes: [512, 1024] });
  });

  it('is converted into the cache with progress, listed with its size, loaded, found again by a new engine and deleted', async () => {
    const store = new MemoryBlobStore();
    const api = await engineWithTestPack(store);
    const events: ConvertFolderProgress[] = [];
    const summary = await api.convertFolder(droppedFixture(), OPTS, (p) => void events.push(p));
    expect(isConvertedPackUrl(summary.url)).toBe(true);
    expect(summary).toMatchObject({ name: 'sd3-int4', trained: true, storage: 'memory', source: { kind: 'converted' } });
    expect(summary.capabilities.resolutions).toEqual([{ width: 64, height: 64 }]);
    expect(summary.graphs.find((g) => g.role === 'dit_step')?.precision).toEqual({ matmul: 'int4', conv: 'fp32', blockSize: 16 });
    expect(summary.memoryPlan?.fits).toBe(true);
    expect((await api.status()).pack?.url).toBe(summary.url);

    const reads = events.filter((e) => e.kind === 'convert');
    const last = reads.at(-1)!;
    expect(last.bytesDone).toBe(last.bytesTotal);
    expect(last.tensorsDone).toBe(last.tensorsTotal);
    expect(reads.map((e) => e.bytesDone)).toEqual([...reads.map((e) => e.bytesDone)].sort((a, b) => a - b));
    // Each distinct file once (the step graphs share one weight file's bytes).
    const distinct = new Map((await store.records()).find((r) => r.url === summary.url)!.files.map((f) => [f.sha256, f.bytes]));
    const storedBytes = [...distinct.values()].reduce((a, b) => a + b, 0);
    expect(events.filter((e) => e.kind === 'store').at(-1)).toMatchObject({ doneBytes: storedBytes, totalBytes: storedBytes });
    expect(events.at(-1)).toEqual({ kind: 'ready' });

    const cached = await api.cachedPacks();
    expect(cached.find((p) => p.url === summary.url)).toMatchObject({ name: 'sd3-int4', bytes: summary.totalBytes, loaded: true });

    // A reload: a new engine on the same storage lists it and loads it with nothing to fetch.
    const fetch = diskFetch();
    const again = createEngineApi({ configureRuntime: () => {}, fetch, store });
    await again.init({ backend: 'wasm' });
    expect((await again.cachedPacks()).map((p) => p.name).sort()).toEqual(['sd3-int4', 'test-pack']);
    const reloaded = await again.loadPack(summary.url);
    expect(reloaded).toMatchObject({ url: summary.url, name: 'sd3-int4', loadedBytes: summary.loadedBytes });
    expect(fetch.requested).toEqual([]);

    await again.loadPack(TEST_PACK_URL);
    expect(await again.deleteCachedPack(summary.url)).toBe(storedBytes);
    expect((await again.cachedPacks()).map((p) => p.name)).toEqual(['test-pack']);
    await expect(again.loadPack(summary.url)).rejects.toThrow('the pack was converted in this browser and is not (or no longer completely) in its storage');
  });

  it.each([
    ['while reading the weights', (p: ConvertFolderProgress) => p.kind === 'convert' && p.tensorsDone > 10],
    // Once a first file is stored: what it wrote is deleted again.
    ['while storing the pack', (p: ConvertFolderProgress) => p.kind === 'store' && p.doneBytes > 0 && (firstStored ??= p.file) !== p.file],
  ])('cancelled %s leaves the cache as it was and the test pack loaded', async (_when, at) => {
    firstStored = undefined;
    const store = new MemoryBlobStore();
    const api = await engineWithTestPack(store);
    const before = await cacheState(store);
    let asked = false;
    const e = await failure(
      api.convertFolder(droppedFixture(), OPTS, (p) => {
        if (!asked && at(p)) void api.cancelLoad().then(() => (asked = true));
      }),
    );
    expect(asked).toBe(true);
    expect(e.code).toBe('cancelled');
    expect(await cacheState(store)).toEqual(before);
    expect((await store.records()).every((r) => !isConvertedPackUrl(r.url))).toBe(true);
    expect((await api.status()).pack?.name).toBe('test-pack');
  });

  it('is refused before anything is written when the storage is too small, naming both numbers', async () => {
    const store = new MemoryBlobStore();
    let full = false;
    // 1,000,000 bytes free: more than the least the pack can take (about 0.86 MB), less than the pack.
    const api = await engineWithTestPack(store, { storageEstimate: async () => (full ? { quota: 10_000_000, usage: 9_000_000 } : undefined) });
    full = true;
    const before = await cacheState(store);
    const e = await failure(api.convertFolder(droppedFixture(), OPTS));
    expect(e.code).toBe('pack-quota');
    expect(e.message).toMatch(/^not enough storage for the converted pack: it needs 1\.\d\d MiB, and this site has 977 KiB free \(quota 9\.54 MiB, 8\.58 MiB used\)\. .*nothing was saved\.$/);
    expect(await cacheState(store)).toEqual(before);
    expect((await api.status()).pack?.name).toBe('test-pack');
  });

  it('is refused before any weight is read when even the least the pack takes does not fit', async () => {
    const store = new MemoryBlobStore();
    let full = false;
    const api = await engineWithTestPack(store, { storageEstimate: async () => (full ? { quota: 10_000_000, usage: 9_500_000 } : undefined) });
    full = true;
    const before = await cacheState(store);
    const kinds = new Set<string>();
    const e = await failure(api.convertFolder(droppedFixture(), OPTS, (p) => kinds.add(p.kind)));
    expect(e.code).toBe('pack-quota');
    expect(e.message).toMatch(/^not enough storage for the converted pack: it needs at least 8\d\d KiB, and this site has 488 KiB free \(quota 9\.54 MiB, 9\.06 MiB used\)\. .*nothing was saved\.$/);
    expect([...kinds]).toEqual([]);
    expect(await cacheState(store)).toEqual(before);
    expect((await api.status()).pack?.name).toBe('test-pack');
  });

  it('fails with the converter\'s code and a message naming the file, keeping the cache and the current pack', async () => {
    const store = new MemoryBlobStore();
    const api = await engineWithTestPack(store);
    const before = await cacheState(store);

    const tooBig = await failure(api.convertFolder(droppedFixture(), { precision: 'int8', sizes: [128, 1024] }));
    const block32 = await failure(api.convertFolder(droppedFixture(), { precision: 'int4', sizes: [64] }));
    expect(block32).toMatchObject({ code: 'convert-failed', details: { convertCode: 'bad-option' } });
    expect(block32.message).toContain('use block size 16, or int8 or fp32 weights');
    expect(tooBig).toMatchObject({ code: 'convert-failed', details: { convertCode: 'bad-option' } });
    expect(tooBig.message).toContain('size 1024 px is larger than the 512 px the positional table covers');

    const noTransformer = await failure(api.convertFolder(droppedFixture((p) => p.startsWith('transformer/')), OPTS));
    expect(noTransformer).toMatchObject({ code: 'convert-failed', details: { convertCode: 'missing-component', file: 'transformer/' } });
    expect(noTransformer.message).toContain('transformer/ is missing');
    const noIndex = await failure(api.inspectFolder(droppedFixture((p) => p === 'model_index.json')));
    expect(noIndex).toMatchObject({ code: 'convert-failed', details: { convertCode: 'single-file' } });
    expect(noIndex.message).toContain('model_index.json is missing');

    expect(await cacheState(store)).toEqual(before);
    expect((await api.status()).pack?.name).toBe('test-pack');
    expect(engineErrorOf(new ConvertError('truncated', 'vae/x.safetensors ends early', { file: 'vae/x.safetensors', key: 'k' }))).toMatchObject({
      code: 'convert-failed',
      details: { convertCode: 'truncated', file: 'vae/x.safetensors', key: 'k' },
    });
  });

  it('rolls back a stored conversion whose switch failed, but never a pack that was cached before', async () => {
    const store = new MemoryBlobStore();
    const first = folderConversion(droppedFixture(), OPTS, { store });
    const pack = await first.load({});
    expect((await store.records()).map((r) => r.url)).toEqual([pack.url]);
    await first.rollback();
    expect(await cacheState(store)).toEqual({ records: [], blobs: [] });

    await folderConversion(droppedFixture(), OPTS, { store }).load({});
    const kept = await cacheState(store);
    const same = folderConversion(droppedFixture(), OPTS, { store });
    await same.load({});
    await same.rollback();
    expect(await cacheState(store)).toEqual(kept);
  });

  it('says the read rate and time left once it is measurable', () => {
    const p = { phase: 'reading the transformer', bytesDone: 50, bytesTotal: 150, tensorsDone: 1, tensorsTotal: 3 };
    expect(withRate(p, 0, 100)).toMatchObject({ rate: null, etaSeconds: null, elapsedSeconds: 0.1 });
    expect(withRate(p, 0, 1000)).toMatchObject({ kind: 'convert', rate: 50, etaSeconds: 2, elapsedSeconds: 1 });
    expect(withRate({ ...p, bytesDone: 150 }, 0, 1000).etaSeconds).toBeNull();
  });
});

describe('a dropped FLUX.2 klein folder', () => {
  it.each([
    ['klein-4b', 'flux2-klein', 'flux2-klein-int4', 'full'],
    ['klein-9b-kv', 'flux2-klein-kv', 'flux2-klein-kv-int4', 'cached'],
  ] as const)('%s is described, converted into the cache and loaded, with the reference mode it was trained in', async (model, family, name, trainedMode) => {
    const files = droppedFolderOf(FLUX2(model), model);
    const info = await inspectDroppedFolder(files);
    // No positional table bounds FLUX.2's sizes; a toy (test folder) is also offered the small ones.
    expect(info).toMatchObject({ family, sizeStep: 16, maxSize: 1536, sizes: [64, 128, 256, 512, 768, 1024, 1536], defaultSizes: [512, 1024], defaultPrecision: 'int4', promptRows: [512, 256, 128, 64] });
    expect(info.label).toMatch(/^FLUX\.2 klein/);
    // The 9B-kv fixture's width 48 takes blocks of 16; the 4B's 32 takes 32.
    expect(info.int4BlockSize).toBe(model === 'klein-4b' ? 32 : 16);
    const store = new MemoryBlobStore();
    const api = await engineWithTestPack(store);
    const summary = await api.convertFolder(files, { precision: 'int4', blockSize: info.int4BlockSize!, sizes: [64], maxTextTokens: 64 });
    expect(summary).toMatchObject({ name, storage: 'memory', source: { kind: 'converted' } });
    expect(summary.capabilities.family.id).toBe('flux2');
    expect(summary.capabilities.trainedMode).toBe(trainedMode);
    expect(summary.capabilities.defaults.steps).toBe(4);
    expect(summary.capabilities.maxTextTokens).toBe(64);
    expect((await api.cachedPacks()).map((p) => p.name).sort()).toEqual([name, 'test-pack'].sort());
  });
});
