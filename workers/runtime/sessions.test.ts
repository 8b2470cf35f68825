import { describe, expect, it } from 'vitest';
import { loadPack, type LoadedPack } from '../pack/loader';
import { diskFetch, TEST_PACK_URL } from '../test-support/disk-fetch';
import { probeModel } from './probe';
import { GraphSessions } from './sessions';
import { toOrtTensor } from './tensors';

/** The pack with one file's bytes replaced, as if the file on disk were different. */
function withFile(pack: LoadedPack, file: string, bytes: Uint8Array): LoadedPack {
  return { ...pack, files: { blob: async (f) => (f === file ? new Blob([bytes as BlobPart]) : pack.files.blob(f)) } };
}

describe('GraphSessions (test pack, WASM in Node)', () => {
  it('creates a session on first use, once, and runs the vae_decoder', async () => {
    const pack = await loadPack(TEST_PACK_URL, { fetch: diskFetch() });
    const sessions = new GraphSessions(pack, 'wasm');
    expect(sessions.created()).toEqual([]);

    const decoder = await sessions.get('vae_decoder', 'none');
    expect(await sessions.get('vae_decoder', 'none')).toBe(decoder);
    expect(sessions.created()).toEqual(['vae_decoder/none']);

    const latent = toOrtTensor('latent', { dtype: 'float32', dims: [1, 4, 16, 16], data: new Float32Array(1024).fill(0.1) });
    const { image } = await decoder.run({ latent });
    expect(image!.dims).toEqual([1, 3, 128, 128]);
    expect((image!.data as Float32Array).every(Number.isFinite)).toBe(true);

    await sessions.releaseAll();
    expect(sessions.created()).toEqual([]);
  });

  it('runs a graph whose weights are in sharded external-data files', async () => {
    const pack = await loadPack(TEST_PACK_URL, { fetch: diskFetch() });
    const spec = pack.graphs.get('text_encoder')!;
    expect(spec.externalData.length).toBeGreaterThan(0);
    const sessions = new GraphSessions(pack, 'wasm');
    const text = await sessions.get('text_encoder', spec.attention);
    const ids = toOrtTensor('input_ids', { dtype: 'int64', dims: [1, 16], data: new BigInt64Array(16).fill(1n) });
    const out = await text.run({ input_ids: ids });
    expect(out.text_embeddings!.dims).toEqual([1, 16, 64]);
    expect(sessions.createdSpecs()).toEqual([spec]);
    await sessions.releaseAll();
  });

  it('explains a missing external-data shard', async () => {
    const pack = await loadPack(TEST_PACK_URL, { fetch: diskFetch() });
    const spec = pack.graphs.get('text_encoder')!;
    const shard = spec.externalData[0]!.file;
    const broken: LoadedPack = { ...pack, files: { blob: async (f) => (f === shard ? new Blob([new Uint8Array(8)]) : pack.files.blob(f)) } };
    await expect(new GraphSessions(broken, 'wasm').get('text_encoder', spec.attention)).rejects.toThrow(`graph text_encoder/decomposed (${spec.file}) could not be loaded on wasm:`);
  });

  it('keeps the transformer weights once: a reference-pass session is released before a step session loads', async () => {
    const pack = await loadPack(TEST_PACK_URL, { fetch: diskFetch() });
    const sessions = new GraphSessions(pack, 'wasm');
    await sessions.get('dit_reference', 'decomposed');
    await sessions.get('vae_decoder', 'none');
    expect(sessions.created().sort()).toEqual(['dit_reference/decomposed', 'vae_decoder/none']);
    await sessions.get('dit_step', 'decomposed');
    expect(sessions.created().sort()).toEqual(['dit_step/decomposed', 'vae_decoder/none']);
    await sessions.get('dit_step_full', 'decomposed');
    expect(sessions.created().sort()).toEqual(['dit_step_full/decomposed', 'vae_decoder/none']);
    expect(sessions.swaps).toBe(2);
    await sessions.releaseAll();
  });

  it('names the variants a pack has when asked for one it lacks', async () => {
    const pack = await loadPack(TEST_PACK_URL, { fetch: diskFetch() });
    const sessions = new GraphSessions(pack, 'wasm');
    expect(() => sessions.spec('vae_decoder', 'mha')).toThrow(`pack ${pack.manifest.name} has no vae_decoder graph with mha attention (it has: none)`);
  });

  it('refuses a graph whose inputs and outputs differ from its manifest entry', async () => {
    const pack = await loadPack(TEST_PACK_URL, { fetch: diskFetch() });
    const file = pack.manifest.graphs.find((g) => g.role === 'vae_decoder')!.file;
    const sessions = new GraphSessions(withFile(pack, file, probeModel()), 'wasm');
    await expect(sessions.get('vae_decoder', 'none')).rejects.toThrow(
      `graph vae_decoder/none (${file}) has inputs [x], the manifest says [latent]; outputs [y], the manifest says [image]`,
    );
    expect(sessions.created()).toEqual([]);
  });

  it('explains a file that is not an ONNX model', async () => {
    const pack = await loadPack(TEST_PACK_URL, { fetch: diskFetch() });
    const file = pack.manifest.graphs.find((g) => g.role === 'vae_encoder')!.file;
    const sessions = new GraphSessions(withFile(pack, file, new TextEncoder().encode('not a model')), 'wasm');
    await expect(sessions.get('vae_encoder', 'none')).rejects.toThrow(`graph vae_encoder/none (${file}) could not be loaded on wasm:`);
  });
});
