import { describe, expect, it, vi } from 'vitest';
import { createEngineApi } from './engine-api';
import { diskFetch, TEST_PACK_URL } from './test-support/disk-fetch';

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

  it('passes pack errors through with their messages', async () => {
    const api = createEngineApi({ configureRuntime: () => {}, fetch: diskFetch() });
    await api.init({ backend: 'wasm' });
    await expect(api.loadPack('http://studio.test/packs/missing')).rejects.toThrow('no model pack at http://studio.test/packs/missing');
  });
});
