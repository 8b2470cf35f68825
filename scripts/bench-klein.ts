/**
 * `npm run bench`'s klein section (BENCH_KLEIN=0 skips it): the FLUX.2 graphs of the klein-4B-width
 * stand-in (scripts/klein-standin.ts: klein 4B's widths, 1 double + 1 single block, int4) at 512 px
 * with klein's 512 prompt rows, one guidance branch, run directly in onnxruntime-web (WASM, one
 * thread, as the rest of the bench) with random inputs. It answers what the two reference modes cost
 * at real widths: a cached step (dit_step, the reference as K/V computed once by dit_reference)
 * against a full step (dit_step_full, the reference as 1024 live tokens at the step's timestep, as
 * klein 4B was trained), and what one reference adds to each. Per-step times are medians of
 * BENCH_KLEIN_REPEATS runs (default 3) after one warm-up run per case; one session at a time (the
 * heap has room for one), so the cases run in turn rather than interleaved.
 *
 * The stand-in has 2 of klein 4B's 25 blocks, so a real step costs roughly 12x these figures
 * (the embedders and the shared modulation are a few percent of a block).
 *
 * Then the text side of a prompt edit (scripts/bench-klein-text.ts: a Qwen3-4B-width text encoder,
 * session creation and one 512-row encode). BENCH_KLEIN_TEXT_ONLY=1 runs only those rows.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { concatPositions, gridPositions, referenceTime, ropeTables, textPositions, type Positions } from '../workers/families/flux2-positions';
import { kvLayersOf } from '../workers/packbuild/models/flux2';
import { Rng } from '../workers/packbuild/params';
import { kleinTextRows } from './bench-klein-text';
import { ensureKleinStandin, KLEIN_STANDIN_SIZE, KLEIN_TEXT_ROWS, type KleinRole, type KleinStandinInfo } from './klein-standin';
import { median, sec } from '../workers/node/timing';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

/** The packs' attentionBiasMin: the bias that closes a key. */
const BIAS_MIN = -10000;


type Feeds = Record<string, ort.Tensor>;
const f32 = (dims: number[], data?: Float32Array) => new ort.Tensor('float32', data ?? new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
const sets = () => new ort.Tensor('int64', BigInt64Array.of(0n), [1]);
function random(rng: Rng, dims: number[]): ort.Tensor {
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.sqrt(3) * rng.nextSigned();
  return f32(dims, data);
}

function rope(cfg: KleinStandinInfo['cfg'], ids: Positions, prefix = '', batched = false): Feeds {
  const t = ropeTables(ids, cfg.axesDims, cfg.ropeTheta);
  const half = t.cos.length / t.tokens;
  const dims = batched ? [1, t.tokens, half] : [t.tokens, half];
  return { [`${prefix}rope_cos`]: f32(dims, t.cos), [`${prefix}rope_sin`]: f32(dims, t.sin) };
}

async function session(dir: string, info: KleinStandinInfo, role: KleinRole): Promise<ort.InferenceSession> {
  const g = info.graphs[role];
  const externalData = await Promise.all(g.shards.map(async (file) => ({ path: file, data: new Uint8Array(await readFile(join(dir, file))) })));
  return ort.InferenceSession.create(new Uint8Array(await readFile(join(dir, g.file))), { executionProviders: ['wasm'], graphOptimizationLevel: 'all', externalData });
}

/** One warm-up run, then `repeats` timed runs: their median, and the warm-up's outputs. */
async function timeCase(s: ort.InferenceSession, feeds: Feeds, repeats: number): Promise<{ median: number; outputs: ort.InferenceSession.OnnxValueMapType }> {
  const outputs = await s.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await s.run(feeds);
    times.push(performance.now() - t);
  }
  return { median: median(times), outputs };
}

export async function kleinRows(): Promise<{ title: string; rows: [string, string][]; notes: string[] }> {
  const repeats = Number(process.env.BENCH_KLEIN_REPEATS ?? 3);
  const t0 = performance.now();
  if (process.env.BENCH_KLEIN_TEXT_ONLY === '1') {
    const text = await kleinTextRows(repeats);
    return { title: `klein 4B text encoder (Qwen3-4B widths, int4), prompt-edit cost, medians of ${repeats} runs`, rows: text.rows, notes: [...text.notes, `section wall time ${sec(performance.now() - t0)}.`] };
  }
  const { dir, info, built, ms: buildMs } = await ensureKleinStandin((l) => console.log(l));
  const { cfg } = info;
  const L = kvLayersOf(cfg);
  const D = cfg.dim;
  const side = KLEIN_STANDIN_SIZE / 16;
  const N = side * side;
  const T = KLEIN_TEXT_ROWS;
  const R = N; // one reference of the image's size
  const rng = new Rng(512);
  const step: Feeds = {
    latents: random(rng.fork('latents'), [1, cfg.channels, side, side]),
    timestep: f32([1], Float32Array.of(600)),
    text_embeddings: random(rng.fork('text'), [1, T, cfg.jointDim]),
    text_set: sets(),
    ref_set: sets(),
  };
  const refIds = gridPositions(side, side, referenceTime(0));
  const noisyIds = concatPositions(textPositions(T), gridPositions(side, side));
  const refLatents = random(rng.fork('reference'), [1, cfg.channels, side, side]);
  const sessionMs: Record<string, number> = {};
  const open = async (role: KleinRole) => {
    const t = performance.now();
    const s = await session(dir, info, role);
    sessionMs[role] = performance.now() - t;
    return s;
  };

  // The reference pass (once per reference photo in cached mode); its K/V feed the cached step.
  let s = await open('dit_reference');
  const reference = await timeCase(s, { ref_latents: refLatents, ...rope(cfg, refIds, 'ref_', true) }, repeats);
  await s.release();
  const refK = reference.outputs.ref_k as ort.Tensor;
  const refV = reference.outputs.ref_v as ort.Tensor;

  // Cached step: with the reference's K/V, and without a subject (one zero K/V column the bias closes, as the engine feeds it).
  s = await open('dit_step');
  const cachedFeeds = (k: ort.Tensor, v: ort.Tensor, r: number, closed: boolean): Feeds => {
    const bias = new Float32Array((T + N) * (T + N + r));
    if (closed) for (let row = 0; row < T + N; row++) bias[row * (T + N + r) + T + N] = BIAS_MIN;
    return { ...step, ...rope(cfg, noisyIds), ref_k: k, ref_v: v, attention_bias: f32([1, 1, T + N, T + N + r], bias), ref_layer_bias: f32([L, 1, r]) };
  };
  const cached1 = await timeCase(s, cachedFeeds(refK, refV, R, false), repeats);
  const cached0 = await timeCase(s, cachedFeeds(f32([L, 1, 1, D]), f32([L, 1, 1, D]), 1, true), repeats);
  await s.release();

  // Full step: the reference as live tokens after the noisy ones.
  s = await open('dit_step_full');
  const full1 = await timeCase(s, { ...step, ...rope(cfg, concatPositions(noisyIds, refIds)), ref_latents: f32([1, 1, cfg.channels, side, side], refLatents.data as Float32Array), attention_bias: f32([1, 1, T + N + R, T + N + R]), ref_layer_bias: f32([L, 1, R]) }, repeats);
  await s.release();

  const c1 = cached1.median;
  const c0 = cached0.median;
  const f1 = full1.median;
  const ref = reference.median;
  const rows: [string, string][] = [
    [`step, cached mode, 1 reference (dit_step: ${T} text + ${N} image tokens, ${R} cached reference K/V)`, sec(c1)],
    ['step, cached mode, no reference (one closed dummy K/V column)', sec(c0)],
    [`step, full mode, 1 reference (dit_step_full: ${T} text + ${N} image + ${R} live reference tokens)`, sec(f1)],
    ['full / cached per step, 1 reference', `${(f1 / c1).toFixed(2)}x`],
    ['one reference adds to a cached step', `${sec(c1 - c0)} (${((100 * (c1 - c0)) / c0).toFixed(0)} %)`],
    ['one reference adds to a full step (vs the step without one)', `${sec(f1 - c0)} (${((100 * (f1 - c0)) / c0).toFixed(0)} %)`],
    [`reference pass (dit_reference, ${R} tokens; once per photo, cached mode only)`, sec(ref)],
    ['steps after which cached mode (pass + steps) is ahead of full mode', `${Math.max(1, Math.ceil(ref / (f1 - c1)))}`],
    ['session creation: dit_reference / dit_step / dit_step_full', `${sec(sessionMs.dit_reference!)} / ${sec(sessionMs.dit_step!)} / ${sec(sessionMs.dit_step_full!)}`],
  ];
  const text = await kleinTextRows(repeats);
  rows.push(...text.rows);
  const title = `klein-4B-width stand-in (FLUX.2 klein 4B widths: 3072 = 24 x 128, joint 7680, 1 double + 1 single block), ${KLEIN_STANDIN_SIZE} px, int4 (fragile layers fp16), ${(info.weightBytes / 1e6).toFixed(0)} MB of weights, 1 branch, medians of ${repeats} runs`;
  const notes = [
    `stand-in ${built ? `built in ${sec(buildMs)}` : 'from the cache'} (${dir}); section wall time ${sec(performance.now() - t0)}. klein 4B has 5 + 20 blocks: its steps cost roughly 12x these (the stand-in's 2 blocks), its reference pass 12x too; the ratios hold.`,
    ...text.notes,
  ];
  return { title, rows, notes };
}
