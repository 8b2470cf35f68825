import { describe, expect, it } from 'vitest';
import { loadPack } from '../pack/loader';
import { diskFetch, TEST_PACK_URL } from '../test-support/disk-fetch';
import { probeModel } from './probe';
import { GraphSessions } from './sessions';
import { toOrtTensor } from './tensors';

describe('GraphSessions (test pack, WASM in Node)', () => {
  it('creates a session on first use, once, and runs the vae_decoder', async () => {
    const pack = await loadPack(TEST_PACK_URL, diskFetch());
    const sessions = new GraphSessions(pack, 'wasm');
    expect(sessions.created()).toEqual([]);

    const decoder = await sessions.get('vae_decoder', 'none');
    expect(await sessions.get('vae_decoder', 'none')).toBe(decoder);
    expect(sessions.created()).toEqual(['vae_decoder/none']);
    expect(pack.files.has(sessions.spec('vae_decoder', 'none').file)).toBe(false);

    const latent = toOrtTensor('latent', { dtype: 'float32', dims: [1, 4, 16, 16], data: new Float32Array(1024).fill(0.1) });
    const { image } = await decoder.run({ latent });
    expect(image!.dims).toEqual([1, 3, 128, 128]);
    expect((image!.data as Float32Array).every(Number.isFinite)).toBe(true);

    await sessions.releaseAll();
    expect(sessions.created()).toEqual([]);
  });

  it('names the variants a pack has when asked for one it lacks', async () => {
    const pack = await loadPack(TEST_PACK_URL, diskFetch());
    const sessions = new GraphSessions(pack, 'wasm');
    expect(() => sessions.spec('vae_decoder', 'mha')).toThrow(`pack ${pack.manifest.name} has no vae_decoder graph with mha attention (it has: none)`);
  });

  it('refuses a graph whose inputs and outputs differ from its manifest entry', async () => {
    const pack = await loadPack(TEST_PACK_URL, diskFetch());
    const file = pack.manifest.graphs.find((g) => g.role === 'vae_decoder')!.file;
    pack.files.set(file, probeModel());
    const sessions = new GraphSessions(pack, 'wasm');
    await expect(sessions.get('vae_decoder', 'none')).rejects.toThrow(
      `graph vae_decoder/none (${file}) has inputs [x], the manifest says [latent]; outputs [y], the manifest says [image]`,
    );
    expect(sessions.created()).toEqual([]);
  });

  it('explains a file that is not an ONNX model', async () => {
    const pack = await loadPack(TEST_PACK_URL, diskFetch());
    const file = pack.manifest.graphs.find((g) => g.role === 'vae_encoder')!.file;
    pack.files.set(file, new TextEncoder().encode('not a model'));
    const sessions = new GraphSessions(pack, 'wasm');
    await expect(sessions.get('vae_encoder', 'none')).rejects.toThrow(`graph vae_encoder/none (${file}) could not be loaded on wasm:`);
  });
});
