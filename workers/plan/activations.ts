/**
 * Peak activation bytes of one graph run, from the shapes of a ModelArch.
 * Every activation is fp32 (the pack contract's dtype; decomposed attention
 * and the VAE run in fp32). These are estimates of what onnxruntime's memory
 * planner keeps live at the worst moment of a run, written so that each term
 * can be checked by hand; docs/memory-plan.md states them as formulas.
 *
 * A run's peak = its inputs (feeds) + its outputs + the working set of its
 * largest layer. Inputs and outputs are live for the whole run (the engine
 * owns them); a layer's working set is freed before the next layer.
 */
import type { BlockShape, DitShape, TextEncoderShape, VaeShape } from './architecture';
import { chooseQueryChunk, FP32 } from './attention';
/** Bytes of an int64 (the branch indices). */
const I64 = 8;

export interface RunActivation {
  /** Items in the run's batch (guidance branches for a step, 1 otherwise). */
  batch: number;
  /** Queries and keys of its (largest) attention; 0 for a graph without one. */
  queries: number;
  keys: number;
  /** Query chunk chosen for that attention (0 without attention). */
  queryChunk: number;
  /** One layer's attention bytes at that chunk (logits, probabilities, bias rows). */
  attentionBytesPerLayer: number;
  /** False when even one query at a time exceeds the attention limit. */
  attentionWithinLimit: boolean;
  feedsBytes: number;
  outputsBytes: number;
  /** The largest layer's working set, attention included. */
  workingBytes: number;
  /** feeds + outputs + working set. */
  peakBytes: number;
  /** The largest single tensor of the run (a GPU buffer must hold it whole). */
  largestTensor: { name: string; bytes: number };
}

interface Tensor {
  name: string;
  bytes: number;
}

const largest = (ts: Tensor[]): Tensor => ts.reduce((a, b) => (b.bytes > a.bytes ? b : a), { name: '', bytes: 0 });
const sum = (ts: Tensor[]) => ts.reduce((n, t) => n + t.bytes, 0);

/**
 * Working set of one transformer block over `queries` tokens of `batch`
 * items, each token of width W. Attention moment: the residual and its
 * normalised copy (2W), the fused q/k/v projection and its split, head-major
 * copies (2 x qkvWidth), the attention output (attnOutWidth), the keys and
 * values from outside the block's own tokens (cached references: the layer's
 * slice and the concatenation, for K and V: 4 x attnOutWidth per extra key),
 * and the chunk's scores. MLP moment: residual and normalised copy (2W), the
 * up projection and its activation (2F for GELU; 3F for SwiGLU, whose fused
 * gate|up output is 2F wide).
 */
export function blockWorkingBytes(b: BlockShape, batch: number, queries: number, keys: number, attentionBytesPerLayer: number): number {
  const attnPerToken = 2 * b.width + 2 * b.qkvWidth + b.attnOutWidth;
  const extraKeys = Math.max(0, keys - queries);
  const attention = batch * (queries * attnPerToken + extraKeys * 4 * b.attnOutWidth) * FP32 + attentionBytesPerLayer;
  const mlpPerToken = b.mlpHidden > 0 ? 2 * b.width + (b.gatedMlp ? 3 : 2) * b.mlpHidden : 0;
  const mlp = batch * queries * mlpPerToken * FP32;
  return Math.max(attention, mlp);
}

/** The transformer part of a run: every block kind at the same tokens, the largest wins. */
function transformerRun(blocks: BlockShape[], batch: number, queries: number, keys: number, limitBytes: number) {
  // All block kinds of one model share the head count; the chunk is chosen once per graph.
  const heads = Math.max(...blocks.map((b) => b.heads));
  const qc = chooseQueryChunk(batch, heads, queries, keys, limitBytes);
  const workingBytes = Math.max(...blocks.map((b) => blockWorkingBytes(b, batch, queries, keys, qc.bytes)));
  return { qc, workingBytes };
}

function finish(
  batch: number,
  queries: number,
  keys: number,
  qc: { chunk: number; bytes: number; withinLimit: boolean },
  feeds: Tensor[],
  outputs: Tensor[],
  workingBytes: number,
): RunActivation {
  const feedsBytes = sum(feeds);
  const outputsBytes = sum(outputs);
  return {
    batch,
    queries,
    keys,
    queryChunk: qc.chunk,
    attentionBytesPerLayer: qc.bytes,
    attentionWithinLimit: qc.withinLimit,
    feedsBytes,
    outputsBytes,
    workingBytes,
    peakBytes: feedsBytes + outputsBytes + workingBytes,
    largestTensor: largest([...feeds, ...outputs]),
  };
}

/**
 * One prompt through the text encoder(s), batch 1: int64 ids in, per-token
 * embeddings [M, textDim] and pooled [pooledDim] out. Several encoders (SD3's
 * two CLIPs) run one after the other inside the graph; the largest counts.
 */
export function textEncoderRun(encoders: TextEncoderShape[], textTokens: number, textDim: number, pooledDim: number, limitBytes: number): RunActivation {
  const feeds = encoders.map((e) => ({ name: `input_ids (${e.name})`, bytes: e.tokens * 8 }));
  const outputs = [
    { name: 'text_embeddings', bytes: textTokens * textDim * FP32 },
    { name: 'pooled', bytes: pooledDim * FP32 },
  ];
  let best = { working: 0, tokens: 0, qc: { chunk: 0, bytes: 0, withinLimit: true } };
  for (const e of encoders) {
    const r = transformerRun([e.block], 1, e.tokens, e.tokens, limitBytes);
    if (r.workingBytes > best.working) best = { working: r.workingBytes, tokens: e.tokens, qc: r.qc };
  }
  return finish(1, best.tokens, best.tokens, best.qc, feeds, outputs, best.working);
}

/**
 * A ResNet block (c_in -> c_out) at `pixels`: its input (kept for the skip),
 * the normalised input, the first conv's output and the second conv's output
 * (+ the shortcut, written into it): (2 c_in + 2 c_out) x pixels floats.
 */
const resnetBytes = (cIn: number, cOut: number, pixels: number) => (2 * cIn + 2 * cOut) * pixels * FP32;

/** The VAE mid block's single-head attention over the latent pixels, chunked like any attention. */
function midAttention(c: number, pixels: number, limitBytes: number) {
  const qc = chooseQueryChunk(1, 1, pixels, pixels, limitBytes);
  // x, its group norm, q, k, v and the attention output: 6 c-wide tensors.
  return { qc, bytes: 6 * c * pixels * FP32 + qc.bytes };
}

/**
 * One image [1, 3, H, W] through the encoder (diffusers AutoencoderKL layout):
 * per level, ResNet blocks at that level's pixels; a stride-2 downsampling
 * between levels (input, its padded copy and the quarter-size output); the
 * mid block at the lowest level. Output: the latent [1, C, H/8, W/8].
 */
export function vaeEncoderRun(vae: VaeShape, width: number, height: number, limitBytes: number): RunActivation {
  const levels = vae.blockOut.length;
  const full = width * height;
  const low = full / 4 ** (levels - 1);
  const candidates: number[] = [(3 + vae.blockOut[0]!) * full * FP32];
  vae.blockOut.forEach((cOut, i) => {
    const cIn = vae.blockOut[Math.max(0, i - 1)]!;
    const px = full / 4 ** i;
    candidates.push(resnetBytes(cIn, cOut, px));
    if (i < levels - 1) candidates.push((2 + 0.25) * cOut * px * FP32);
  });
  const cLow = vae.blockOut[levels - 1]!;
  const mid = midAttention(cLow, low, limitBytes);
  candidates.push(resnetBytes(cLow, cLow, low), mid.bytes);
  const feeds = [{ name: 'image', bytes: 3 * full * FP32 }];
  const outputs = [{ name: 'latent', bytes: vae.latentChannels * low * FP32 }];
  return finish(1, low, low, mid.qc, feeds, outputs, Math.max(...candidates));
}

/**
 * One latent through the decoder: the mid block at the lowest level, then per
 * level (widest first) ResNet blocks and a 2x nearest upsampling followed by a
 * conv (input c x p, upsampled c x 4p, conv output c x 4p: 9 c p floats).
 * Output: the image [1, 3, H, W].
 */
export function vaeDecoderRun(vae: VaeShape, width: number, height: number, limitBytes: number): RunActivation {
  const up = [...vae.blockOut].reverse();
  const levels = up.length;
  const full = width * height;
  const low = full / 4 ** (levels - 1);
  const cLow = up[0]!;
  const mid = midAttention(cLow, low, limitBytes);
  const candidates: number[] = [(vae.latentChannels + cLow) * low * FP32, resnetBytes(cLow, cLow, low), mid.bytes];
  let prev = cLow;
  up.forEach((cOut, i) => {
    const px = low * 4 ** i;
    candidates.push(resnetBytes(prev, cOut, px));
    if (i < levels - 1) candidates.push(9 * cOut * px * FP32);
    prev = cOut;
  });
  candidates.push((up[levels - 1]! + 3) * full * FP32);
  const feeds = [{ name: 'latent', bytes: vae.latentChannels * low * FP32 }];
  const outputs = [{ name: 'image', bytes: 3 * full * FP32 }];
  return finish(1, low, low, mid.qc, feeds, outputs, Math.max(...candidates));
}

/** TAESD's decoders (taesd, taesdxl, taesd3, taef1) are 64 channels wide at every stage. */
export const TAESD_WIDTH = 64;

/**
 * One latent through a TAESD preview decoder (DiT's latents, batch 1): every stage is
 * TAESD_WIDTH wide, so its largest moment is a block at the full image size: the block's input
 * (kept for the skip), a conv's input and its output, 3 c x H x W floats. Output: the image.
 */
export function previewDecoderRun(vae: VaeShape, width: number, height: number): RunActivation {
  const full = width * height;
  const low = full / 4 ** (vae.blockOut.length - 1);
  const feeds = [{ name: 'latent', bytes: vae.latentChannels * low * FP32 }];
  const outputs = [{ name: 'image', bytes: 3 * full * FP32 }];
  return finish(1, 0, 0, { chunk: 0, bytes: 0, withinLimit: true }, feeds, outputs, 3 * TAESD_WIDTH * full * FP32);
}

export interface DitRunShape {
  /** Image tokens N of one image at the generation size. */
  imageTokens: number;
  /** Text tokens M. */
  textTokens: number;
  /** References in the run (all subjects' photos). */
  references: number;
  /** Guidance branches batched into one step. */
  branches: number;
}

/** Distinct input sets the branches share: text (uncond, cond) and references (black, real; a dummy without). */
function branchSets(s: DitRunShape): { text: number; ref: number } {
  return { text: Math.min(2, s.branches), ref: s.references > 0 ? 2 : 1 };
}

/**
 * One reference through the reference pass (cached mode), batch 1: its N
 * tokens attend only to themselves. Output: ref_k and ref_v [L, 1, N, D], the
 * keys and values of every layer (they accumulate as the layers run).
 */
export function ditReferenceRun(dit: DitShape, s: DitRunShape, limitBytes: number): RunActivation {
  const N = s.imageTokens;
  const { qc, workingBytes } = transformerRun(dit.blocks, 1, N, N, limitBytes);
  const feeds = [
    { name: 'ref_latents', bytes: N * dit.latentPerToken * FP32 },
    { name: 'ref_pooled', bytes: dit.pooledDim * FP32 },
  ];
  const kv = dit.layers * N * dit.hidden * FP32;
  const outputs = [
    { name: 'ref_k', bytes: kv },
    { name: 'ref_v', bytes: kv },
  ];
  return finish(1, N, N, qc, feeds, outputs, workingBytes);
}

/**
 * One denoising step, cached mode: queries [text; image] = M + N per branch,
 * keys M + N + R (R = references x N, at least 1: the engine's dummy token).
 * Feeds: latents, timestep, the distinct text sets (uncond, cond) and
 * reference sets (black, real; one dummy set without references), each once
 * with an index per branch: ref_k and ref_v [L, sets, R, D],
 * attention_bias [B, 1, M+N, M+N+R], ref_layer_bias. Working memory adds one
 * layer's slice of the reference sets [sets, R, D] (K and V) before each
 * branch's own [B, R, D] is gathered (counted in the attention moment).
 */
export function ditStepRun(dit: DitShape, s: DitRunShape, limitBytes: number): RunActivation {
  const B = s.branches;
  const N = s.imageTokens;
  const M = s.textTokens;
  const R = Math.max(1, s.references * N);
  const queries = M + N;
  const keys = M + N + R;
  const run = transformerRun(dit.blocks, B, queries, keys, limitBytes);
  const refSets = branchSets(s).ref;
  const textSets = branchSets(s).text;
  const workingBytes = run.workingBytes + 2 * refSets * R * dit.hidden * FP32;
  const qc = run.qc;
  const refKv = dit.layers * refSets * R * dit.hidden * FP32;
  const feeds = [
    { name: 'latents', bytes: B * N * dit.latentPerToken * FP32 },
    { name: 'timestep', bytes: B * FP32 },
    { name: 'text_embeddings', bytes: textSets * M * dit.textDim * FP32 },
    { name: 'pooled', bytes: textSets * dit.pooledDim * FP32 },
    { name: 'text_set', bytes: B * I64 },
    { name: 'ref_set', bytes: B * I64 },
    { name: 'ref_k', bytes: refKv },
    { name: 'ref_v', bytes: refKv },
    { name: 'attention_bias', bytes: B * queries * keys * FP32 },
    { name: 'ref_layer_bias', bytes: dit.layers * B * R * FP32 },
  ];
  const outputs = [{ name: 'velocity', bytes: B * N * dit.latentPerToken * FP32 }];
  return finish(B, queries, keys, qc, feeds, outputs, workingBytes);
}

/**
 * One denoising step, full mode: the references run as tokens, so queries
 * and keys are both T = M + N + R. Feeds: latents, the text sets, the
 * reference sets ref_latents [sets, K, ...] and ref_pooled with the branch
 * indices, attention_bias [B, 1, T, T], ref_layer_bias.
 */
export function ditStepFullRun(dit: DitShape, s: DitRunShape, limitBytes: number): RunActivation {
  const B = s.branches;
  const N = s.imageTokens;
  const M = s.textTokens;
  const R = s.references * N;
  const T = M + N + R;
  const { qc, workingBytes } = transformerRun(dit.blocks, B, T, T, limitBytes);
  const feeds = [
    { name: 'latents', bytes: B * N * dit.latentPerToken * FP32 },
    { name: 'timestep', bytes: B * FP32 },
    { name: 'text_embeddings', bytes: branchSets(s).text * M * dit.textDim * FP32 },
    { name: 'pooled', bytes: branchSets(s).text * dit.pooledDim * FP32 },
    { name: 'text_set', bytes: B * I64 },
    { name: 'ref_set', bytes: B * I64 },
    { name: 'ref_latents', bytes: branchSets(s).ref * R * dit.latentPerToken * FP32 },
    { name: 'ref_pooled', bytes: branchSets(s).ref * s.references * dit.pooledDim * FP32 },
    { name: 'attention_bias', bytes: B * T * T * FP32 },
    { name: 'ref_layer_bias', bytes: dit.layers * B * R * FP32 },
  ];
  const outputs = [{ name: 'velocity', bytes: B * N * dit.latentPerToken * FP32 }];
  return finish(B, T, T, qc, feeds, outputs, workingBytes);
}
