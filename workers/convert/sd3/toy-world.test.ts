/**
 * The shipped toy-world pack is the trained model: public/packs/toy is exactly what the converter
 * makes of the committed diffusers folder training/toy-world, and the studio computes what training
 * and diffusers computed on it (fixtures/toy-world/reference, written by training/record_fixtures.py):
 * the prompt's ids and text conditioning, one cached-mode step with a subject's reference (the
 * forward the model was trained with), and diffusers' whole StableDiffusion3Pipeline image.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest, type PackManifest } from '../../pack/manifest';
import { planAttention } from '../../pipeline/attentionPlan';
import { compilePrompt } from '../../pipeline/text/prompt';
import { testRequest } from '../../pipeline/testing/nodeEngine';
import { maxAbs, maxAbsDiff } from '../../packbuild/testing/harness';
import { createNodeEngine, loadPackFromDir, type NodeEngine } from '../../node/engine';
import { readNpy } from '../../node/npy';
import { folderFromDisk } from '../node-source';
import { convertSd3Folder } from './convert';

const ROOT = new URL('../../../', import.meta.url).pathname;
const MODEL = join(ROOT, 'training/toy-world');
const PACK = join(ROOT, 'public/packs/toy');
const REFERENCE = join(ROOT, 'fixtures/toy-world/reference');

interface Index {
  files: Record<string, { inputs?: Record<string, string | number> }>;
}

describe('toy-world pack vs its training and diffusers', () => {
  let node: NodeEngine;
  let manifest: PackManifest;
  let index: Index;
  const npy = (f: string) => readNpy(join(REFERENCE, f));
  const run = async (role: 'text_encoder' | 'dit_reference' | 'dit_step', feeds: Record<string, ort.Tensor>) =>
    (await node.sessions.get(role, node.pack.graphs.get(role)!.attention)).run(feeds);
  const encode = async (prompt: string, subjects: { name: string; placeholder: string; classWord: string }[] = []) => {
    const compiled = compilePrompt(node.tokenizer, manifest, prompt, subjects);
    const ids = new ort.Tensor('int64', BigInt64Array.from(compiled.ids.map(BigInt)), [1, compiled.ids.length]);
    const out = await run('text_encoder', { input_ids: ids });
    return { compiled, text: out.text_embeddings!, pooled: out.pooled! };
  };

  beforeAll(async () => {
    node = await createNodeEngine(await loadPackFromDir(PACK));
    manifest = node.pack.manifest;
    index = JSON.parse(await readFile(join(REFERENCE, 'index.json'), 'utf8')) as Index;
  }, 60_000);
  afterAll(async () => node?.dispose());

  it('public/packs/toy is what `npm run convert` makes of training/toy-world (every file, byte for byte)', async () => {
    const { manifest: converted } = await convertSd3Folder(await folderFromDisk(MODEL), { precision: 'fp32', sizes: [128] });
    const shipped = parseManifest(await readFile(join(PACK, 'manifest.json'), 'utf8'));
    expect(converted.graphs.map((g) => [g.file, g.sha256, g.externalData.map((s) => s.sha256)])).toEqual(shipped.graphs.map((g) => [g.file, g.sha256, g.externalData.map((s) => s.sha256)]));
    expect(converted.tokenizer.sha256).toBe(shipped.tokenizer.sha256);
    expect(shipped.referenceModes).toEqual({ cached: 'exact', full: 'approximate' });
    expect(shipped.vocabulary).toContain('toy');
  }, 60_000);

  it('tokenizes the prompt as training did and encodes it to 1e-4 relative', async () => {
    const prompt = String(index.files['ids.npy']!.inputs!.prompt).replace('<s1> toy', '@t');
    const { compiled, text, pooled } = await encode(prompt, [{ name: 't', placeholder: '<s1>', classWord: 'toy' }]);
    const ids = await npy('ids.npy');
    expect(compiled.ids).toEqual(Array.from(ids.data));
    expect(compiled.concepts).toEqual([{ subject: 't', positions: [1, 2] }]);
    const context = await npy('context.npy');
    const rows = (text.data as Float32Array).subarray(0, 77 * 128);
    expect(maxAbsDiff(rows, context.data)).toBeLessThan(1e-4 * maxAbs(context.data));
    const want = await npy('pooled.npy');
    expect(maxAbsDiff(pooled.data as Float32Array, want.data)).toBeLessThan(1e-4 * maxAbs(want.data));
  });

  it("gives training's cached-mode velocity with a subject's reference (1e-4 relative)", async () => {
    const inputs = index.files['velocity_ref.npy']!.inputs!;
    const prompt = String(inputs.prompt).replace('<s1> toy', '@t');
    const { compiled, text, pooled } = await encode(prompt, [{ name: 't', placeholder: '<s1>', classWord: 'toy' }]);
    const refPooled = (await encode(String(inputs.reference_prompt))).pooled;
    const [x, refLatents, mask, want] = await Promise.all([npy('x_t.npy'), npy('ref_latents.npy'), npy('ref_token_mask.npy'), npy('velocity_ref.npy')]);
    const kv = await run('dit_reference', { ref_latents: new ort.Tensor('float32', refLatents.data, [1, 16, 16, 16]), ref_pooled: refPooled });
    const M = text.dims[1]!;
    const L = manifest.transformer.layers;
    const plan = planAttention({
      textTokens: M,
      imageTokens: 64,
      subjects: [{ gamma: 1, refSets: [{ tokens: 64, gammaScale: 1, mask: mask.data }], conceptPositions: compiled.concepts[0]!.positions }],
      mode: 'cached',
      layers: L,
      biasMin: manifest.attentionBiasMin,
    });
    const out = await run('dit_step', {
      latents: new ort.Tensor('float32', x.data, [1, 16, 16, 16]),
      timestep: new ort.Tensor('float32', Float32Array.of(Number(inputs.timestep)), [1]),
      text_embeddings: text,
      pooled,
      text_set: new ort.Tensor('int64', BigInt64Array.of(0n), [1]),
      ref_set: new ort.Tensor('int64', BigInt64Array.of(0n), [1]),
      ref_k: kv.ref_k!,
      ref_v: kv.ref_v!,
      attention_bias: new ort.Tensor('float32', plan.bias, [1, 1, plan.rows, plan.cols]),
      ref_layer_bias: new ort.Tensor('float32', plan.layerBias, [L, 1, plan.refTokens]),
    });
    expect(maxAbsDiff(out.velocity!.data as Float32Array, want.data)).toBeLessThan(1e-4 * maxAbs(want.data));
  });

  it("generates diffusers' image from the same noise without a subject: latents to 1e-4 relative, pixels within 2/255", async () => {
    const inputs = index.files['image.npy']!.inputs!;
    const [noise, latents, image] = await Promise.all([npy('noise.npy'), npy('latents.npy'), npy('image.npy')]);
    const result = await node.engine.generate(
      testRequest({ prompt: String(inputs.prompt), negativePrompt: '', subjects: [], width: 128, height: 128, steps: Number(inputs.steps), textGuidance: Number(inputs.guidance), initialNoise: noise.data }),
    );
    expect(maxAbsDiff(result.latents, latents.data)).toBeLessThan(1e-4 * maxAbs(latents.data));
    let worst = 0;
    for (let p = 0; p < 128 * 128; p++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(result.rgba[p * 4 + c]! - 255 * image.data[p * 3 + c]!));
    expect(worst).toBeLessThanOrEqual(2);
  }, 60_000);
});
