/**
 * FLUX.2 klein's Qwen3 text encoder loaded by loadQwen3TextEncoder and run as an IR graph
 * (onnxruntime-web WASM), against what transformers / diffusers computed on the same random-weight
 * folders (fixtures/flux2/<variant>, fixtures/make_flux2_fixtures.py):
 * - text_embeddings = encode_prompt's prompt_embeds for the first 3 fixture prompts, padding rows
 *   included (the transformer consumes them), fed as one batch of 3;
 * - the raw taps hidden_states[0..4] of prompt 0 (the last one after model.norm);
 * - the loader reads no tensor of a layer past the largest tap, nor model.norm or lm_head;
 * - config and key errors name the field or key.
 * klein-4b and base-4b: Qwen3-4B-like (q width 32 != hidden 16, GQA 2:1, tied), fp32 weights;
 * 9b-kv: Qwen3-8B-like (hidden 24, GQA 3:1, untied lm_head), bf16 weights.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../node/npy';
import type { PrecisionSpec } from '../../packbuild/nn';
import { maxAbs, maxAbsDiff, relRms, runGraph, type Feed } from '../../packbuild/testing/harness';
import { ConvertError } from '../errors';
import type { JsonObject } from '../folder';
import { folderFromDisk } from '../node-source';
import { openCheckpoint, type TensorIndex } from '../safetensors';
import { readInt64Npy } from '../testing/npy-int64';
import { buildQwen3TextEncoder, loadQwen3TextEncoder, qwen3Config, qwen3LayersFor, qwen3TextEncoderKeys } from './qwen3';

const FIXTURES = new URL('../../../fixtures/flux2/', import.meta.url).pathname;
const FP32: PrecisionSpec = { matmul: 'fp32', conv: 'fp32', blockSize: 16 };
const TOL = 1e-4;
/** The fixture's text_encoder_out_layers (reference/index.json "text"), and its max_sequence_length. */
const TAPS = [1, 2, 3];
const TOKENS = 64;
const VARIANTS = [
  { variant: 'klein-4b', hidden: 16, tied: true },
  { variant: 'klein-base-4b', hidden: 16, tied: true },
  { variant: 'klein-9b-kv', hidden: 24, tied: false },
];

async function configOf(variant: string): Promise<JsonObject> {
  return JSON.parse(await readFile(`${FIXTURES}${variant}/text_encoder/config.json`, 'utf8')) as JsonObject;
}

async function indexOf(variant: string): Promise<TensorIndex> {
  return openCheckpoint(await folderFromDisk(`${FIXTURES}${variant}`), 'text_encoder/model.safetensors');
}

/** Rows [0, rows) of an int64 [8, 64] reference file as a graph feed. */
async function int64Rows(variant: string, file: string, rows: number): Promise<Feed> {
  const { shape, data } = await readInt64Npy(`${FIXTURES}${variant}/reference/${file}`);
  const cols = shape[1]!;
  return { type: 'int64', dims: [rows, cols], data: BigInt64Array.from(data.slice(0, rows * cols).map(BigInt)) };
}

/** `index` as a plain TensorIndex, with `hidden` keys absent, recording which keys were read (data, not headers). */
function wrapped(index: TensorIndex, hidden: readonly string[] = []): { index: TensorIndex; read: string[] } {
  const read: string[] = [];
  const has = (key: string) => !hidden.includes(key) && index.has(key);
  const view: TensorIndex = {
    name: index.name,
    files: index.files,
    metadata: index.metadata,
    keys: () => index.keys().filter(has),
    has,
    info: (key) => index.info(key),
    readTensorRaw: (key, options) => {
      read.push(key);
      return index.readTensorRaw(key, options);
    },
    readTensor: (key, options) => {
      read.push(key);
      return index.readTensor(key, options);
    },
  };
  return { index: view, read };
}

/** max |a - b| / max |b|, logged with the rel RMS. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  const err = maxAbsDiff(actual, expected) / maxAbs(expected);
  console.info(`${what}: max abs err ${err.toExponential(2)} of max |ref| (rel RMS ${relRms(actual, expected).toExponential(2)})`);
  expect(err, what).toBeLessThan(TOL);
}

describe.each(VARIANTS)('Qwen3 text encoder of fixtures/flux2/$variant against transformers', ({ variant, hidden, tied }) => {
  it('parses the config', async () => {
    const cfg = qwen3Config(await configOf(variant));
    expect(cfg).toMatchObject({ vocabSize: 768, hidden, layers: 4, headDim: 8, rmsNormEps: 1e-6, ropeTheta: 1e6, tiedEmbeddings: tied });
    expect(qwen3LayersFor(TAPS)).toBe(3);
  });

  it("text_embeddings = encode_prompt's prompt_embeds for 3 prompts in one batch, padding rows included", async () => {
    const index = wrapped(await indexOf(variant));
    const config = await configOf(variant);
    const p = await loadQwen3TextEncoder(index.index, config, { layers: qwen3LayersFor(TAPS) });
    // Only layers 0..2 are read: not layer 3, not model.norm, not lm_head.
    expect(index.read.filter((k) => k.startsWith('model.layers.3.') || k === 'model.norm.weight' || k === 'lm_head.weight')).toEqual([]);
    expect(new Set(index.read)).toEqual(new Set(qwen3TextEncoderKeys(config, 3).keys()));
    expect(p.finalNorm).toBeNull();

    const ref = await readNpy(`${FIXTURES}${variant}/reference/prompt_embeds.npy`);
    expect(ref.shape).toEqual([3, TOKENS, 3 * hidden]);
    const out = await runGraph(buildQwen3TextEncoder(p, FP32, TAPS, { maxTokens: 80 }), {
      input_ids: await int64Rows(variant, 'tokens.npy', 3),
      attention_mask: await int64Rows(variant, 'attention_mask.npy', 3),
    });
    expect(out.text_embeddings!.dims).toEqual(ref.shape);
    expectClose(out.text_embeddings!.data, ref.data, `${variant} prompt_embeds`);
    // The padding rows (prompt 0 has 19 tokens) on their own: they are not masked out downstream.
    const J = 3 * hidden;
    expectClose(out.text_embeddings!.data.subarray(19 * J, TOKENS * J), ref.data.subarray(19 * J, TOKENS * J), `${variant} prompt 0 padding rows`);
  });

  it('gives the raw hidden states 0..3 and the final-normed hidden state 4 of prompt 0', async () => {
    const config = await configOf(variant);
    const p = await loadQwen3TextEncoder(await indexOf(variant), config, { layers: 4 });
    expect(p.finalNorm).not.toBeNull();
    const ref = await readNpy(`${FIXTURES}${variant}/reference/text_encoder.hidden_states.npy`);
    expect(ref.shape).toEqual([5, TOKENS, hidden]);
    const taps = [0, 1, 2, 3, 4];
    const out = await runGraph(buildQwen3TextEncoder(p, FP32, taps, { maxTokens: TOKENS }), {
      input_ids: await int64Rows(variant, 'tokens.npy', 1),
      attention_mask: await int64Rows(variant, 'attention_mask.npy', 1),
    });
    const ours = out.text_embeddings!.data;
    for (const t of taps) {
      const tap = Float32Array.from({ length: TOKENS * hidden }, (_, i) => ours[Math.floor(i / hidden) * taps.length * hidden + t * hidden + (i % hidden)]!);
      expectClose(tap, ref.data.subarray(t * TOKENS * hidden, (t + 1) * TOKENS * hidden), `${variant} hidden_states[${t}]`);
    }
  });
});

describe('Qwen3 text encoder: placeholder rows and fp16', () => {
  it('embeds a placeholder id (vocab_size + i) with the mean row; causal attention keeps every earlier row', async () => {
    const p = await loadQwen3TextEncoder(await indexOf('klein-4b'), await configOf('klein-4b'), { layers: 3, placeholderRows: 4 });
    const D = p.cfg.hidden;
    expect(p.embedTokens.length).toBe(772 * D);
    for (let i = 0; i < D; i++) {
      let mean = 0;
      for (let r = 0; r < 768; r++) mean += p.embedTokens[r * D + i]! / 768;
      expect(p.embedTokens[768 * D + i]).toBeCloseTo(mean, 6);
      expect(p.embedTokens[771 * D + i]).toBe(p.embedTokens[768 * D + i]);
    }
    // Prompt 0 with placeholder 769 in place of its 5th id ("a photo of a cat" -> "a photo <s2> a cat").
    const ids = await int64Rows('klein-4b', 'tokens.npy', 1);
    const at = 5;
    ids.data[at] = 769n;
    const out = await runGraph(buildQwen3TextEncoder(p, FP32, TAPS, { maxTokens: TOKENS }), { input_ids: ids, attention_mask: await int64Rows('klein-4b', 'attention_mask.npy', 1) });
    const ref = await readNpy(`${FIXTURES}klein-4b/reference/prompt_embeds.npy`);
    const J = 3 * D;
    expectClose(out.text_embeddings!.data.subarray(0, at * J), ref.data.subarray(0, at * J), 'rows before the placeholder');
    expect(maxAbsDiff(out.text_embeddings!.data.subarray(at * J, (at + 1) * J), ref.data.subarray(at * J, (at + 1) * J))).toBeGreaterThan(1e-2);
  });

  it('fp16 (linears and the embedding table in half precision) holds bf16 weights exactly: 9b-kv within the fp32 tolerance', async () => {
    const p = await loadQwen3TextEncoder(await indexOf('klein-9b-kv'), await configOf('klein-9b-kv'), { layers: 3 });
    const out = await runGraph(buildQwen3TextEncoder(p, { ...FP32, matmul: 'fp16' }, TAPS, { maxTokens: TOKENS }), {
      input_ids: await int64Rows('klein-9b-kv', 'tokens.npy', 3),
      attention_mask: await int64Rows('klein-9b-kv', 'attention_mask.npy', 3),
    });
    expectClose(out.text_embeddings!.data, (await readNpy(`${FIXTURES}klein-9b-kv/reference/prompt_embeds.npy`)).data, 'klein-9b-kv fp16 prompt_embeds');
  });
});

describe('Qwen3 config and key errors', () => {
  it('accepts rope_theta at the top level (the real repos) as well as rope_parameters (transformers 5)', async () => {
    const { rope_parameters: _, ...rest } = await configOf('klein-4b');
    expect(qwen3Config({ ...rest, rope_theta: 5e6, rope_scaling: null }).ropeTheta).toBe(5e6);
    expect(() => qwen3Config({ ...rest, rope_theta: 1e6, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(/rope_scaling\.rope_type "yarn"/);
    expect(() => qwen3Config(rest)).toThrow(/rope_theta/);
  });

  it('names the field of a bad config and the key of a missing or misshapen tensor', async () => {
    const config = await configOf('klein-9b-kv');
    const bad = (c: JsonObject) => {
      try {
        qwen3Config(c);
      } catch (e) {
        return e as ConvertError;
      }
      throw new Error('no error');
    };
    expect(bad({ ...config, num_key_value_heads: 2 }).message).toMatch(/text_encoder\/config\.json: num_key_value_heads 2 does not divide num_attention_heads 3/);
    expect(bad({ ...config, hidden_size: '24' })).toMatchObject({ code: 'bad-json', message: expect.stringMatching(/hidden_size is "24"/) as unknown });

    const index = await indexOf('klein-9b-kv');
    // intermediate_size 57 misshapes every MLP weight: the first one checked is named.
    await expect(loadQwen3TextEncoder(index, { ...config, intermediate_size: 57 }, { layers: 3 })).rejects.toMatchObject({
      code: 'bad-shape',
      key: 'model.layers.0.mlp.gate_proj.weight',
    });
    const missing = wrapped(index, ['model.layers.1.self_attn.k_norm.weight']).index;
    await expect(loadQwen3TextEncoder(missing, config, { layers: 3 })).rejects.toMatchObject({ code: 'missing-key', key: 'model.layers.1.self_attn.k_norm.weight' });
    // Fewer layers in the config than in the file: layer 3's keys belong to no model the config describes.
    await expect(loadQwen3TextEncoder(index, { ...config, num_hidden_layers: 3 }, { layers: 3 })).rejects.toMatchObject({ code: 'wrong-model', key: 'model.layers.3.input_layernorm.weight' });
    await expect(loadQwen3TextEncoder(index, config, { layers: 5 })).rejects.toBeInstanceOf(ConvertError);
  });
});
