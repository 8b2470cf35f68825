/**
 * The SD3 text conditioner graph (both CLIP encoders, CLIP-G ids derived in the graph, zero T5 slot)
 * against diffusers' encode_prompt on the fixture models: prompt_embeds / pooled_prompt_embeds for
 * "a photo of a cat" and the negative "" in one batch, and each encoder's half against transformers'
 * own outputs for all six fixture prompts fed as tokenizer/ ids only.
 */
import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { readNpy, type NpyArray } from '../../node/npy';
import type { PrecisionSpec } from '../../packbuild/nn';
import { maxAbs, maxAbsDiff, relRms, runGraph } from '../../packbuild/testing/harness';
import type { JsonObject } from '../folder';
import { folderFromDisk } from '../node-source';
import { openCheckpoint } from '../safetensors';
import { loadClipTextParams } from './clip';
import { buildClipTokenizerJson } from './clip-tokenizer';
import { buildSd3TextConditioner, type Sd3TextConditionerOptions } from './text-conditioner';

const FIXTURES = new URL('../../../fixtures/sd3/', import.meta.url).pathname;
const FP32: PrecisionSpec = { matmul: 'fp32', conv: 'fp32', blockSize: 32 };
const T = 77;
const PLACEHOLDERS = 4;

interface ReferenceIndex {
  prompts: string[];
  token_ids: { tokenizer: string; ids: number[][] }[];
}

async function setup(model: string) {
  const dir = `${FIXTURES}${model}`;
  const folder = await folderFromDisk(dir);
  const load = async (component: string) =>
    loadClipTextParams(await openCheckpoint(folder, `${component}/model.safetensors`), JSON.parse(await readFile(`${dir}/${component}/config.json`, 'utf8')) as JsonObject, {
      placeholderRows: PLACEHOLDERS,
    });
  const transformer = JSON.parse(await readFile(`${dir}/transformer/config.json`, 'utf8')) as JsonObject;
  const tok = buildClipTokenizerJson(await readFile(`${dir}/tokenizer/vocab.json`, 'utf8'), await readFile(`${dir}/tokenizer/merges.txt`, 'utf8'), {
    placeholders: ['<s1>', '<s2>', '<s3>', '<s4>'],
  });
  const tokenizer = new Tokenizer(JSON.parse(tok.json) as object, {});
  const opts: Sd3TextConditionerOptions = {
    jointDim: transformer.joint_attention_dim as number,
    t5Rows: 256,
    eosId: tok.eos,
    pad2Id: tokenizer.token_to_id('!')!,
    pad2AsWordId: tokenizer.token_to_id('!</w>')!,
  };
  const index = JSON.parse(await readFile(`${dir}/reference/index.json`, 'utf8')) as ReferenceIndex;
  return { clipL: await load('text_encoder'), clipG: await load('text_encoder_2'), opts, tok, index, ref: (file: string) => readNpy(`${dir}/reference/${file}`) };
}

const idsFeed = (rows: number[][]) => ({ type: 'int64' as const, dims: [rows.length, T], data: BigInt64Array.from(rows.flat().map(BigInt)) });
const within = (ours: ArrayLike<number>, theirs: ArrayLike<number>) => maxAbsDiff(ours, theirs) <= 1e-4 * Math.max(1, maxAbs(theirs));

/** Rows [r0, r1) x columns [c0, c1) of each batch item of a [B, R, C] array, flattened. */
function block(a: ArrayLike<number>, B: number, R: number, C: number, [r0, r1]: [number, number], [c0, c1]: [number, number]): Float32Array {
  const out: number[] = [];
  for (let b = 0; b < B; b++) for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out.push(a[(b * R + r) * C + c]!);
  return Float32Array.from(out);
}

function concat(...arrays: NpyArray[]): Float32Array {
  return Float32Array.from(arrays.flatMap((a) => Array.from(a.data)));
}

describe.each(['sd3', 'sd3.5'])('SD3 text conditioner of fixtures/sd3/%s against diffusers encode_prompt', (model) => {
  it('gives prompt_embeds / pooled_prompt_embeds and the negative ones in one batch', async () => {
    const { clipL, clipG, opts, index, ref } = await setup(model);
    expect(opts).toMatchObject({ jointDim: 128, eosId: 999, pad2Id: 0, pad2AsWordId: 256 });
    const graph = buildSd3TextConditioner(clipL, clipG, opts, FP32, 'mha', { headsPerPiece: 1, queryChunks: 2 });
    const ids = index.token_ids.find((t) => t.tokenizer === 'tokenizer')!.ids;
    const out = await runGraph(graph, { input_ids: idsFeed([ids[index.prompts.indexOf('a photo of a cat')]!, ids[index.prompts.indexOf('')]!]) });
    const embeds = concat(await ref('prompt_embeds.npy'), await ref('negative_prompt_embeds.npy'));
    const pooled = concat(await ref('pooled_prompt_embeds.npy'), await ref('negative_pooled_prompt_embeds.npy'));
    expect(out.text_embeddings!.dims).toEqual([2, T + 256, 128]);
    expect(out.pooled!.dims).toEqual([2, 80]);
    for (const [name, ours, theirs] of [
      ['text_embeddings', out.text_embeddings!.data, embeds],
      ['pooled', out.pooled!.data, pooled],
    ] as const) {
      console.info(`${model} conditioner ${name}: max abs ${maxAbsDiff(ours, theirs).toExponential(2)}, rel RMS ${relRms(ours, theirs).toExponential(2)}`);
      expect(within(ours, theirs), name).toBe(true);
    }
    // The zero regions are exactly zero, as diffusers' torch.zeros / pad.
    expect(block(out.text_embeddings!.data, 2, T + 256, 128, [0, T], [80, 128]).every((v) => v === 0)).toBe(true);
    expect(block(out.text_embeddings!.data, 2, T + 256, 128, [T, T + 256], [0, 128]).every((v) => v === 0)).toBe(true);
  });

  it('derives the CLIP-G ids (pad "!" after the first EOS, "!" typed in the prompt) from the tokenizer/ ids of all six prompts', async () => {
    const { clipL, clipG, opts, index, ref } = await setup(model);
    const ids = index.token_ids.find((t) => t.tokenizer === 'tokenizer')!.ids;
    const B = ids.length;
    const feed = idsFeed(ids);
    const run = async (o: Sd3TextConditionerOptions) => (await runGraph(buildSd3TextConditioner(clipL, clipG, o, FP32, 'decomposed', { headsPerPiece: 4, queryChunks: 1 }), { input_ids: feed }));
    const out = await run(opts);
    const R = T + opts.t5Rows;
    const hiddenL = (await ref('text_encoder.hidden_states_m2.npy')).data;
    const hiddenG = (await ref('text_encoder_2.hidden_states_m2.npy')).data;
    const pooledRef = concat(await ref('text_encoder.text_embeds.npy'), await ref('text_encoder_2.text_embeds.npy'));
    const clipLPart = block(out.text_embeddings!.data, B, R, 128, [0, T], [0, 32]);
    const clipGPart = block(out.text_embeddings!.data, B, R, 128, [0, T], [32, 80]);
    expect(within(clipLPart, hiddenL), 'CLIP-L hidden_states[-2]').toBe(true);
    expect(within(clipGPart, hiddenG), 'CLIP-G hidden_states[-2] (from tokens_2 ids)').toBe(true);
    // pooled is [B, 32 | 48]; the references are [B, 32] then [B, 48].
    const pooled = out.pooled!.data;
    expect(within(block(pooled, B, 1, 80, [0, 1], [0, 32]), pooledRef.subarray(0, B * 32)), 'CLIP-L text_embeds').toBe(true);
    expect(within(block(pooled, B, 1, 80, [0, 1], [32, 80]), pooledRef.subarray(B * 32)), 'CLIP-G text_embeds').toBe(true);

    // Without the "!" alias, the prompt with a "!" feeds CLIP-G BPE's "!</w>" where tokenizer_2 has 0.
    const bike = index.prompts.indexOf('A dog, riding a bike!');
    const unaliased = await run({ ...opts, pad2AsWordId: undefined });
    const rowsOf = (a: Float32Array) => block(a, B, R, 128, [0, T], [32, 80]).subarray(bike * T * 48, (bike + 1) * T * 48);
    expect(within(rowsOf(unaliased.text_embeddings!.data), hiddenG.subarray(bike * T * 48, (bike + 1) * T * 48))).toBe(false);
  });
});
