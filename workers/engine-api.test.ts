import { describe, expect, it, vi } from 'vitest';
import { createEngineApi } from './engine-api';
import { PackLoadError } from './pack/download';
import { MemoryBlobStore } from './pack/store/blob-store';
import { diskFetch, TEST_PACK_URL } from './test-support/disk-fetch';

/** A second pack URL serving the test pack, with `edit` applied to each file (by name). */
function otherPack(edit: (file: string, bytes: Uint8Array) => Uint8Array | string | undefined, OTHER = 'http://studio.test/packs/other') {
  const base = diskFetch(undefined, { override: edit });
  const fetchFn = (url: string, init?: RequestInit) => (url.startsWith(`${OTHER}/`) ? base(url.replace(OTHER, TEST_PACK_URL), init) : diskFetch()(url, init));
  return { url: OTHER, fetch: fetchFn };
}

const renamed = (file: string, bytes: Uint8Array) => {
  if (file !== 'manifest.json') return bytes;
  const m = JSON.parse(new TextDecoder().decode(bytes)) as { name: string };
  m.name = 'other-pack';
  return new TextEncoder().encode(JSON.stringify(m));
};

const latentFeed = () => ({ latent: { dtype: 'float32' as const, dims: [1, 4, 16, 16], data: new Float32Array(1024).fill(0.25) } });

describe('engine API (Node, WASM)', () => {
  it('refuses work before init()', async () => {
    const api = createEngineApi({ configureRuntime: () => {}, fetch: diskFetch() });
    await expect(api.loadPack(TEST_PACK_URL)).rejects.toThrow('the engine is not initialised: call init() first');
    await expect(api.runGraph('vae_decoder', 'none', latentFeed())).rejects.toThrow('the engine is not initialised');
    expect((await api.status()).ready).toBe(false);
  });

  it('falls back to WASM on auto where there is no WebGPU, and says why', async () => {
    const configureRuntime = vi.fn();
    const api = createEngineApi({ configureRuntime, fetch: diskFetch() });
    const status = await api.init({ backend: 'auto' });
    expect(status).toMatchObject({ ready: true, backend: 'wasm', requested: 'auto', adapter: null, pack: null });
    expect(status.fallbackReason).toMatch(/^navigator\.gpu is missing|returned no adapter/);
    expect(configureRuntime).toHaveBeenCalledTimes(1);
    await api.init({ backend: 'auto' });
    expect(configureRuntime).toHaveBeenCalledTimes(1);
  });

  it('fails clearly when WebGPU is demanded but missing, and can be initialised again', async () => {
    const api = createEngineApi({ configureRuntime: () => {}, fetch: diskFetch() });
    await expect(api.init({ backend: 'webgpu' })).rejects.toThrow(/^WebGPU was asked for \(backend=webgpu\) but cannot be used: /);
    await expect(api.init({ backend: 'wasm' })).resolves.toMatchObject({ backend: 'wasm', fallbackReason: null });
  });

  it('keeps its first backend choice', async () => {
    const api = createEngineApi({ configureRuntime: () => {}, fetch: diskFetch() });
    await api.init({ backend: 'wasm' });
    await expect(api.init({ backend: 'webgpu' })).rejects.toThrow('the engine was initialised with backend=wasm; start a new worker to use backend=webgpu');
  });

  it('loads the test pack, runs a graph, checks feeds, and unloads', async () => {
    const api = createEngineApi({ configureRuntime: () => {}, fetch: diskFetch() });
    await api.init({ backend: 'wasm' });
    const summary = await api.loadPack(TEST_PACK_URL);
    expect(summary.trained).toBe(false);
    expect((await api.status()).pack).toEqual(summary);

    await expect(api.runGraph('vae_decoder', 'none', { ...latentFeed(), extra: latentFeed().latent })).rejects.toThrow(
      'graph vae_decoder/none: unknown inputs extra',
    );
    await expect(api.runGraph('vae_decoder', 'none', {})).rejects.toThrow('graph vae_decoder/none: missing inputs latent');

    const out = await api.runGraph('vae_decoder', 'none', latentFeed());
    expect(Object.keys(out)).toEqual(['image']);
    expect(out.image!.dtype).toBe('float32');
    expect(out.image!.dims).toEqual([1, 3, 128, 128]);
    expect(out.image!.data).toHaveLength(3 * 128 * 128);
    expect((await api.status()).sessions).toEqual(['vae_decoder/none']);

    await api.unloadPack();
    const after = await api.status();
    expect(after.pack).toBeNull();
    expect(after.sessions).toEqual([]);
    await expect(api.runGraph('vae_decoder', 'none', latentFeed())).rejects.toThrow('no model pack is loaded');
  });

  it('switches packs transactionally: a failed switch leaves the old pack loaded and working', async () => {
    // The manifest claims a digest no cached file has, so the shard is fetched, and its bytes do not match.
    const wrongDigest = (file: string, bytes: Uint8Array) => {
      if (file !== 'manifest.json') return bytes;
      const m = JSON.parse(new TextDecoder().decode(renamed(file, bytes) as Uint8Array)) as { graphs: { externalData: { sha256: string }[] }[] };
      for (const g of m.graphs) for (const shard of g.externalData) shard.sha256 = 'f'.repeat(64);
      return new TextEncoder().encode(JSON.stringify(m));
    };
    const bad = otherPack(wrongDigest, 'http://studio.test/packs/bad');
    const good = otherPack(renamed);
    let refuse = false;
    const api = createEngineApi({
      configureRuntime: () => {},
      fetch: (url, init) => (url.startsWith(bad.url) ? bad.fetch(url, init) : good.fetch(url, init)),
      store: new MemoryBlobStore(),
      checkPlan: () => {
        if (refuse) throw new PackLoadError('plan-refused', 'needs 9.0 GiB of GPU memory, your budget is 8.0 GiB');
      },
    });
    await api.init({ backend: 'wasm' });
    const first = await api.loadPack(TEST_PACK_URL);
    await api.runGraph('vae_decoder', 'none', latentFeed());
    const stillWorks = async () => {
      expect((await api.status()).pack).toEqual(first);
      expect((await api.status()).sessions).toContain('vae_decoder/none');
      const out = await api.runGraph('vae_decoder', 'none', latentFeed());
      expect(out.image!.dims).toEqual([1, 3, 128, 128]);
    };
    // A file whose sha256 does not match.
    await expect(api.loadPack(bad.url)).rejects.toThrow(/has sha256 [0-9a-f]{64}, the manifest says .*corrupt or wrong file/);
    await stillWorks();
    // A URL with no pack.
    await expect(api.loadPack('http://studio.test/packs/none')).rejects.toThrow('no model pack at http://studio.test/packs/none');
    await stillWorks();
    // The memory plan refuses it.
    refuse = true;
    await expect(api.loadPack(good.url)).rejects.toThrow('your budget is 8.0 GiB');
    await stillWorks();
    // And a good switch does switch.
    refuse = false;
    const other = await api.loadPack(good.url);
    expect(other.name).toBe('other-pack');
    expect((await api.status()).pack?.name).toBe('other-pack');
    expect((await api.status()).sessions).toEqual([]);
  });

  it('refuses a pack whose memory plan does not fit the budget, before fetching its files, and says both numbers', async () => {
    const fetchFn = diskFetch();
    const api = createEngineApi({ configureRuntime: () => {}, fetch: fetchFn, store: new MemoryBlobStore() });
    await api.init({ backend: 'wasm' });
    expect((await api.setMemoryBudget(1024 * 1024)).budgetBytes).toBe(1024 * 1024);
    await expect(api.loadPack(TEST_PACK_URL)).rejects.toThrow(/^pack test-pack cannot be loaded: it needs [\d.]+ MiB of GPU memory, your budget is 1 MiB/);
    expect(fetchFn.requested).toEqual([`${TEST_PACK_URL}/manifest.json`]);
    expect((await api.status()).pack).toBeNull();
    // The default budget (4 GiB on WASM) fits, and the summary carries the plan it checked.
    await api.setMemoryBudget(null);
    const summary = await api.loadPack(TEST_PACK_URL);
    expect(summary.memoryPlan).toMatchObject({ fits: true, budgetBytes: 4 * 2 ** 30 });
    expect(summary.memoryPlan!.message).toMatch(/^needs [\d.]+ MiB of GPU memory, your budget is 4 GiB$/);
  });

  it('lists cached packs and deletes one that is not in use', async () => {
    const store = new MemoryBlobStore();
    const api = createEngineApi({ configureRuntime: () => {}, fetch: otherPack(renamed).fetch, store });
    await api.init({ backend: 'wasm' });
    await api.loadPack(TEST_PACK_URL);
    await api.loadPack(otherPack(renamed).url);
    const cached = await api.cachedPacks();
    expect(cached.map((c) => [c.url, c.loaded])).toEqual([
      [TEST_PACK_URL, false],
      ['http://studio.test/packs/other', true],
    ]);
    await expect(api.deleteCachedPack('http://studio.test/packs/other')).rejects.toThrow('this pack is in use');
    // The two packs share every file (same bytes): deleting one frees nothing the other needs.
    expect(await api.deleteCachedPack(TEST_PACK_URL)).toBe(0);
    expect((await api.cachedPacks()).map((c) => c.url)).toEqual(['http://studio.test/packs/other']);
  });

  it('passes pack errors through with their messages', async () => {
    const api = createEngineApi({ configureRuntime: () => {}, fetch: diskFetch() });
    await api.init({ backend: 'wasm' });
    await expect(api.loadPack('http://studio.test/packs/missing')).rejects.toThrow('no model pack at http://studio.test/packs/missing');
  });
});
