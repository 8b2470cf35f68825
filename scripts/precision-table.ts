/**
 * `npm run precision`: what each weight precision costs on the SD3 / SD3.5
 * fixture models, measured against diffusers' own outputs (fixtures/sd3/*):
 * relative RMS error of the text conditioner, of one transformer velocity and
 * of the whole 4-step generation (latents, and decoded pixels in 0..255), for
 * packs converted at fp32, fp16, int8 and int4. Prints a Markdown table (docs/sd3.md).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { type ConvertPrecision } from '../workers/convert/sd3/convert';
import { convertFixture, SD3_FIXTURES, type FixtureModel } from '../workers/convert/sd3/testing/fixture-packs';
import { createNodeEngine, loadPackFromDir } from '../workers/node/engine';
import { readNpy } from '../workers/node/npy';
import { relRms } from '../workers/packbuild/testing/harness';
import { testRequest } from '../workers/pipeline/testing/nodeEngine';

const MODELS: FixtureModel[] = ['sd3', 'sd3.5'];
const PRECISIONS: ConvertPrecision[] = ['fp32', 'fp16', 'int8', 'int4'];
// The fixtures' widths (32, 48) take int4 blocks of 16; real SD3 widths take 32.
const BLOCK = 16;

async function measure(model: FixtureModel, precision: ConvertPrecision) {
  const ref = (f: string) => readNpy(join(SD3_FIXTURES, model, 'reference', f));
  const node = await createNodeEngine(await loadPackFromDir(await convertFixture(model, { precision, blockSize: BLOCK })));
  try {
    // Text: prompt 0's 77 CLIP rows against encode_prompt's.
    const index = JSON.parse(await readFile(join(SD3_FIXTURES, model, 'reference', 'index.json'), 'utf8')) as { token_ids: { tokenizer: string; ids: number[][] }[] };
    const ids = index.token_ids.find((t) => t.tokenizer === 'tokenizer')!.ids[0]!;
    const enc = await node.engine.encodeIds(ids);
    const promptEmbeds = await ref('prompt_embeds.npy');
    const text = relRms(enc.embeddings, promptEmbeds.data);

    // Transformer: one step without references (velocity.npy's inputs), as the engine feeds it.
    const [latents, velocity, pooled] = await Promise.all([ref('velocity.latents.npy'), ref('velocity.npy'), ref('pooled_prompt_embeds.npy')]);
    const { layers: L, hiddenSize: D, patchSize } = node.pack.manifest.transformer;
    const M = promptEmbeds.shape[1]!;
    const MN = M + (latents.shape[2]! / patchSize) * (latents.shape[3]! / patchSize);
    const bias = new Float32Array(MN * (MN + 1));
    for (let r = 0; r < MN; r++) bias[r * (MN + 1) + MN] = node.pack.manifest.attentionBiasMin;
    const session = await node.sessions.get('dit_step', 'decomposed');
    const out = await session.run({
      latents: new ort.Tensor('float32', latents.data, latents.shape),
      timestep: new ort.Tensor('float32', Float32Array.of(500), [1]),
      text_embeddings: new ort.Tensor('float32', promptEmbeds.data, promptEmbeds.shape),
      pooled: new ort.Tensor('float32', pooled.data, pooled.shape),
      text_set: new ort.Tensor('int64', BigInt64Array.of(0n), [1]),
      ref_set: new ort.Tensor('int64', BigInt64Array.of(0n), [1]),
      ref_k: new ort.Tensor('float32', new Float32Array(L * D), [L, 1, 1, D]),
      ref_v: new ort.Tensor('float32', new Float32Array(L * D), [L, 1, 1, D]),
      attention_bias: new ort.Tensor('float32', bias, [1, 1, MN, MN + 1]),
      ref_layer_bias: new ort.Tensor('float32', new Float32Array(L), [L, 1, 1]),
    });
    const dit = relRms(out.velocity!.data as Float32Array, velocity.data);

    // The whole pipeline run (CFG 7, 4 steps, the pipeline's noise).
    const [noise, finalLatents, image] = await Promise.all([ref('noise.npy'), ref('latents.npy'), ref('image.npy')]);
    const result = await node.engine.generate(testRequest({ prompt: 'a photo of a cat', subjects: [], width: 256, height: 256, steps: 4, textGuidance: 7, initialNoise: noise.data }));
    let worst = 0;
    let sum = 0;
    for (let p = 0; p < 256 * 256; p++)
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(result.rgba[p * 4 + c]! - 255 * image.data[p * 3 + c]!);
        worst = Math.max(worst, d);
        sum += d;
      }
    return { text, dit, latents: relRms(result.latents, finalLatents.data), pixelMax: worst, pixelMean: sum / (256 * 256 * 3) };
  } finally {
    await node.dispose();
  }
}

const pct = (x: number) => (x < 1e-3 ? x.toExponential(1) : `${(100 * x).toFixed(2)} %`);
console.log('| model | precision | text conditioner (rel RMS) | velocity (rel RMS) | final latents (rel RMS) | pixels: max / mean abs (of 255) |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const model of MODELS)
  for (const precision of PRECISIONS) {
    const m = await measure(model, precision);
    console.log(`| ${model} | ${precision}${precision === 'int4' ? ` (block ${BLOCK})` : ''} | ${pct(m.text)} | ${pct(m.dit)} | ${pct(m.latents)} | ${m.pixelMax.toFixed(1)} / ${m.pixelMean.toFixed(2)} |`);
  }
