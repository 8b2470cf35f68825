/**
 * The text side of `npm run bench`'s klein section: what a prompt edit costs on klein 4B's Qwen3-4B
 * text encoder (issue #9). The memory plan (`npm run plan -- flux2-klein-4b --size 1024 --subjects 1`)
 * releases the text encoder before the transformer runs at 1024 px, so an edit there costs a session
 * creation from the pack's bytes plus one encode; at 512 px the encoder stays resident and an edit
 * costs the encode only.
 *
 * The stand-in is built with the converter's own code (workers/convert/flux2/qwen3.ts, int4 linears
 * as convert.ts stores them, the pack's external-data layout) from Qwen3-4B's real config, with 2 of
 * the 27 decoder layers a pack holds (taps [9, 18, 27] read layers 0..26) and a 4096-row embedding
 * table instead of 151936: the embedding Gather reads 512 rows whatever the table's size, so the
 * encode does not depend on the vocabulary; the table's bytes do count in session creation, so that
 * estimate scales by bytes (below). Random bf16 weights in an in-memory safetensors file; the graph
 * is cached under node_modules/.cache/subject-studio/ (building it quantizes 200 M weights in JS).
 */
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-web';
import { buildQwen3TextEncoder, loadQwen3TextEncoder, qwen3LayersFor, qwen3TextEncoderKeys } from '../workers/convert/flux2/qwen3';
import { clipLinearPrecision } from '../workers/convert/sd3/clip';
import { openSafetensors } from '../workers/convert/safetensors';
import { bytesSource } from '../workers/convert/source';
import { floatToBfloat16Bits, writeSafetensors, type TensorSpec } from '../workers/convert/testing/safetensors-writer';
import { ensureStamped, sourcesHash } from '../workers/node/stamped-cache';
import type { PrecisionSpec } from '../workers/packbuild/nn';
import { Rng } from '../workers/packbuild/params';
import { serializeModelWithExternalData } from '../workers/packbuild/serialize';
import { compactLinear } from '../workers/packbuild/stored-linear';
import { median, sec } from '../workers/node/timing';

const ROOT = resolve(import.meta.dirname, '..');
const DIR = join(ROOT, 'node_modules', '.cache', 'subject-studio', 'standin-qwen3-4b-text');
const MiB = 2 ** 20;

/** Qwen3-4B's text_encoder/config.json (klein 4B's), all 36 layers declared; only 2 are stored. */
const CONFIG = {
  model_type: 'qwen3', hidden_size: 2560, intermediate_size: 9728, num_hidden_layers: 36, num_attention_heads: 32, num_key_value_heads: 8,
  head_dim: 128, rms_norm_eps: 1e-6, rope_theta: 1e6, tie_word_embeddings: true, max_position_embeddings: 40960, vocab_size: 4096,
};
const REAL_VOCAB = 151936;
/** The layers a klein 4B pack holds (taps [9, 18, 27]) and the stand-in's; taps [1, 2, 2] keep the 3 x 2560 = 7680 output. */
const REAL_LAYERS = 27;
const TAPS = [1, 2, 2];
const LAYERS = qwen3LayersFor(TAPS);
const TOKENS = 512;
const PREC: PrecisionSpec = { matmul: 'int4', conv: 'fp32', blockSize: 32 };
/** convert.ts's pack layout: the text encoder's own shards (the ones assemblePack writes). */
const FILE = 'text_encoder.onnx';
const EXT = { baseName: FILE, maxShardBytes: 512 * MiB, minTensorBytes: 1024, align: 64 };

/** Random bf16 checkpoint for the keys the loader reads: norms near 1, linears variance-preserving. */
function checkpoint(): Uint8Array {
  const rng = new Rng(9);
  const tensors: Record<string, TensorSpec> = {};
  for (const [key, shape] of qwen3TextEncoderKeys(CONFIG, LAYERS)) {
    const r = rng.fork(key);
    const bits = new Uint16Array(shape.reduce((a, b) => a * b, 1));
    const norm = shape.length === 1;
    const amp = key.includes('embed') ? 0.05 : Math.sqrt(3 / shape[1]!);
    for (let i = 0; i < bits.length; i++) bits[i] = floatToBfloat16Bits(norm ? 1 + 0.1 * r.nextSigned() : amp * r.nextSigned());
    tensors[key] = { dtype: 'BF16', shape, raw: new Uint8Array(bits.buffer) };
  }
  return writeSafetensors(tensors);
}

async function build(tmp: string): Promise<void> {
  const index = await openSafetensors(bytesSource('model.safetensors', checkpoint()));
  // As convert.ts: every linear compacted to int4 (int8 where a width is no multiple of the block) as it is read.
  const qwen = await loadQwen3TextEncoder(index, CONFIG, { layers: LAYERS, compact: (lin) => compactLinear(lin, clipLinearPrecision(lin, PREC)) });
  const { model, shards } = serializeModelWithExternalData(buildQwen3TextEncoder(qwen, PREC, TAPS, { maxTokens: TOKENS }), EXT);
  await mkdir(tmp, { recursive: true });
  await writeFile(join(tmp, FILE), model);
  for (const s of shards) await writeFile(join(tmp, s.file), s.bytes);
  await writeFile(join(tmp, 'shards.json'), JSON.stringify(shards.map((s) => s.file)));
}

async function ensureTextStandin(): Promise<{ built: boolean; ms: number; files: { model: string; shards: string[] } }> {
  const t0 = performance.now();
  const files = ['scripts/bench-klein-text.ts', 'workers/convert/flux2/qwen3.ts', 'workers/convert/sd3/clip.ts', 'workers/convert/safetensors.ts', 'package-lock.json'];
  for (const f of (await readdir(join(ROOT, 'workers/packbuild'))).sort()) if (f.endsWith('.ts') && !f.endsWith('.test.ts')) files.push(`workers/packbuild/${f}`);
  const built = await ensureStamped(DIR, await sourcesHash(ROOT, files), build);
  const shards = JSON.parse(await readFile(join(DIR, 'shards.json'), 'utf8')) as string[];
  return { built, ms: performance.now() - t0, files: { model: FILE, shards } };
}


/** The klein section's text rows and notes (ort's WASM settings are the caller's: one thread). */
export async function kleinTextRows(repeats: number): Promise<{ rows: [string, string][]; notes: string[] }> {
  const { built, ms: buildMs, files } = await ensureTextStandin();
  // Session creation as a reload after a release: the pack's bytes read, then InferenceSession.create.
  const open = async () => {
    const externalData = await Promise.all(files.shards.map(async (f) => ({ path: f, data: new Uint8Array(await readFile(join(DIR, f))) })));
    return ort.InferenceSession.create(new Uint8Array(await readFile(join(DIR, files.model))), { executionProviders: ['wasm'], graphOptimizationLevel: 'all', externalData });
  };
  const creates: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    const s = await open();
    creates.push(performance.now() - t);
    await s.release();
  }
  // A short prompt padded to 512 rows, fed as the text conditioner feeds it (input_ids, attention_mask [1, 512]).
  const rng = new Rng(3);
  const real = 40;
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from({ length: TOKENS }, (_, i) => BigInt(i < real ? rng.nextU32() % CONFIG.vocab_size : CONFIG.vocab_size - 1)), [1, TOKENS]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from({ length: TOKENS }, (_, i) => (i < real ? 1n : 0n)), [1, TOKENS]),
  };
  const s = await open();
  await s.run(feeds); // warm-up
  const encodes: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await s.run(feeds);
    encodes.push(performance.now() - t);
  }
  await s.release();

  // Scaling to klein 4B: the encode is linear in layers (the Gather and the concat are a rounding error);
  // creation by bytes, the 2 layers x 27/2 plus the real 151936-row fp16 table the pack holds.
  let bytes = (await readFile(join(DIR, files.model))).byteLength;
  for (const f of files.shards) bytes += (await readFile(join(DIR, f))).byteLength;
  const table = (rows: number) => rows * CONFIG.hidden_size * 2;
  const perLayer = (bytes - table(CONFIG.vocab_size)) / LAYERS;
  const realBytes = table(REAL_VOCAB) + REAL_LAYERS * perLayer;
  const create = median(creates);
  const encode = median(encodes);
  const realEncode = (encode * REAL_LAYERS) / LAYERS;
  const realCreate = (create * realBytes) / bytes;
  const rows: [string, string][] = [
    [`text encoder session creation (Qwen3-4B widths, ${LAYERS} of ${REAL_LAYERS} layers, ${CONFIG.vocab_size}-row table, int4: ${(bytes / MiB).toFixed(0)} MiB read + create)`, sec(create)],
    [`encode ${TOKENS} prompt rows (${LAYERS} layers; median after a warm-up)`, sec(encode)],
    [`klein 4B estimate: prompt edit, encoder resident (512 px plan) / released (1024 px plan: load ${(realBytes / MiB).toFixed(0)} MiB + encode)`, `~${sec(realEncode)} / ~${sec(realCreate + realEncode)}`],
    ['prompt edit, encoder released / resident', `${((realCreate + realEncode) / realEncode).toFixed(2)}x`],
  ];
  const notes = [
    `Text rows: stand-in ${built ? `built in ${sec(buildMs)}` : 'from the cache'} (${DIR}), medians of ${repeats}. The klein 4B estimate scales the encode linearly in layers (${REAL_LAYERS}/${LAYERS}) and session creation by bytes (${REAL_LAYERS}/${LAYERS} of the layers plus the real ${REAL_VOCAB}-row fp16 table; the memory plan counts 2204 MiB, with 2-byte int4 scales where the converter writes fp32 ones). An edit also reruns the transformer steps: the figures above, scaled as they say.`,
  ];
  return { rows, notes };
}
