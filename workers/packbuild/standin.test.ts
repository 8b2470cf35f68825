/**
 * The real-width stand-in (SD3 Medium widths, 2 layers, int4, external data):
 * built on demand into node_modules/.cache (about 25 s, 0.8 GB; reused while
 * its config and the builder's source are unchanged), then one forward of
 * every graph at 512 px on onnxruntime-web WASM, checking shapes and that the
 * outputs are finite, and counting the weight bytes the live sessions hold.
 * 256 px keeps the forward cheap (the widths, not the token count, are what
 * this pack is for; `npm run bench` runs it at 512 px).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStandinPack } from '../../scripts/build-standin';
import { createNodeEngine, loadPackFromDir, type NodeEngine } from '../node/engine';
import { weightBytesOnce, type GraphRole, type GraphSpec } from '../pack/manifest';
import { distinctWeightBytes, SD3_JOINT_DIM, STANDIN_CONFIG, weightBytesOfLiveSessions } from './standin';

const S = 256;
const cfg = STANDIN_CONFIG;
const C = cfg.dit.latentChannels;
const h = S / 8;
const D = cfg.dit.dim;
const L = cfg.dit.layers;
const M = cfg.tokens.maxText;
const N = (h / cfg.dit.patchSize) ** 2; // image tokens = reference tokens (256)

/** Deterministic values in [-a, a). */
function noise(n: number, seed: number, a = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2 * a;
  }
  return out;
}
const f32 = (dims: number[], seed: number, a = 1) => new ort.Tensor('float32', noise(dims.reduce((x, y) => x * y, 1), seed, a), dims);
const zeros = (dims: number[]) => new ort.Tensor('float32', new Float32Array(dims.reduce((x, y) => x * y, 1)), dims);

function expectFinite(t: ort.Tensor, dims: number[], what: string): Float32Array {
  expect(t.dims, what).toEqual(dims);
  const data = t.data as Float32Array;
  let bad = 0;
  for (const v of data) if (!Number.isFinite(v)) bad++;
  expect(bad, `${what}: non-finite values`).toBe(0);
  return data;
}

describe('real-width stand-in pack (SD3 Medium widths, 2 layers)', () => {
  let dir = '';
  let node: NodeEngine;
  const live: { after: GraphRole; bytes: number; specs: GraphSpec[] }[] = [];

  beforeAll(async () => {
    dir = await ensureStandinPack();
    node = await createNodeEngine(await loadPackFromDir(dir));
  }, 300_000);
  afterAll(async () => {
    await node?.dispose();
  });

  async function run(role: GraphRole, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    const session = await node.sessions.get(role, node.pack.graphs.get(role)!.attention);
    const out = await session.run(feeds);
    live.push({ after: role, bytes: weightBytesOfLiveSessions(node.sessions), specs: node.sessions.createdSpecs() });
    return out;
  }

  it('has SD3 Medium widths in its manifest', () => {
    const tf = node.pack.manifest.transformer;
    expect({ ...tf }).toMatchObject({ hiddenSize: 1536, heads: 24, layers: 2, patchSize: 2, textDim: 4096, pooledDim: 2048 });
    expect(node.pack.manifest.latent.channels).toBe(16);
    expect(2 * tf.maxGrid.width).toBe(192);
    const dit = node.pack.graphs.get('dit_step')!;
    expect(dit.precision).toMatchObject({ matmul: 'int4', blockSize: 32 });
    expect(dit.externalData.length).toBeGreaterThan(0);
  });

  it('runs every graph once at 256 px with the shapes of the manifest and finite outputs', async () => {
    const ids = new ort.Tensor('int64', BigInt64Array.from({ length: M }, (_, i) => BigInt((i * 7) % 200)), [1, M]);
    const text = await run('text_encoder', { input_ids: ids });
    const emb = expectFinite(text.text_embeddings!, [1, M, SD3_JOINT_DIM], 'text_embeddings');
    expectFinite(text.pooled!, [1, cfg.dit.pooledDim], 'pooled');
    // CLIP-G width (1280), zero-padded to 4096 as SD3 pads CLIP to T5's width.
    expect(emb.subarray(cfg.text.dim, SD3_JOINT_DIM).every((v) => v === 0)).toBe(true);
    expect(emb.subarray(0, cfg.text.dim).some((v) => v !== 0)).toBe(true);

    const enc = await run('vae_encoder', { image: f32([1, 3, S, S], 1) });
    const latent = enc.latent!;
    expectFinite(latent, [1, C, h, h], 'latent');

    const ref = await run('dit_reference', { ref_latents: latent, ref_pooled: f32([1, cfg.dit.pooledDim], 2) });
    expectFinite(ref.ref_k!, [L, 1, N, D], 'ref_k');
    expectFinite(ref.ref_v!, [L, 1, N, D], 'ref_v');

    const sets = () => new ort.Tensor('int64', BigInt64Array.of(0n), [1]);
    const common = { latents: f32([1, C, h, h], 3), timestep: new ort.Tensor('float32', Float32Array.of(500), [1]), text_embeddings: text.text_embeddings!, pooled: text.pooled!, text_set: sets(), ref_set: sets() };
    const step = await run('dit_step', {
      ...common,
      ref_k: ref.ref_k!,
      ref_v: ref.ref_v!,
      attention_bias: zeros([1, 1, M + N, M + 2 * N]),
      ref_layer_bias: zeros([L, 1, N]),
    });
    expectFinite(step.velocity!, [1, C, h, h], 'velocity (cached)');

    const dec = await run('vae_decoder', { latent: step.velocity! });
    expectFinite(dec.image!, [1, 3, S, S], 'image');

    const full = await run('dit_step_full', {
      ...common,
      ref_latents: new ort.Tensor('float32', latent.data as Float32Array, [1, 1, C, h, h]),
      ref_pooled: f32([1, 1, cfg.dit.pooledDim], 2),
      attention_bias: zeros([1, 1, M + 2 * N, M + 2 * N]),
      ref_layer_bias: zeros([L, 1, N]),
    });
    expectFinite(full.velocity!, [1, C, h, h], 'velocity (full)');
  }, 300_000);

  it('never holds more weight bytes in live sessions than the pack has weights (each counted once, 5%)', async () => {
    const once = weightBytesOnce(node.sessions.loadedGraphs());
    for (const { after, bytes } of live) expect(bytes, `live sessions after ${after}`).toBeLessThanOrEqual(1.05 * once);
    // After every run, the live sessions hold the distinct weights of their graphs (counted by
    // content) within 5%: no weight is held twice, in cached mode (reference pass released
    // before the step loads) and in full mode (the image stream's weights serve the image and
    // the reference tokens from one copy in dit_step_full).
    const read = (f: string) => readFile(join(dir, f)).then((b) => new Uint8Array(b));
    for (const { after, bytes, specs } of live) {
      const { distinct } = await distinctWeightBytes(specs, read);
      expect(bytes / distinct, `live / distinct weight bytes after ${after}`).toBeLessThan(1.05);
    }
    expect(live.map((l) => l.after)).toContain('dit_step_full');
  }, 120_000);
});
