/**
 * FLUX.2 klein diffusers folder (klein 4B, base 4B, 9B-kv) -> studio pack (format 2). No DOM and no
 * Node APIs, as the SD3 converter: `npm run convert` and the studio's folder drop both run it.
 *
 * What lands in the pack (docs/flux2.md):
 * - text_encoder: Qwen3's first layers up to the deepest tap, giving the pipeline's prompt embeddings
 *   (the taps concatenated per token, all maxText rows, padding rows included); the tokenizer with
 *   the placeholders, the chat template in the manifest;
 * - vae_encoder / vae_decoder: AutoencoderKLFlux2 with the 2x2 patchify and the BatchNorm latent
 *   normalisation inside the graphs (normalised 128-channel latents in and out);
 * - dit_reference / dit_step / dit_step_full: the Flux2 transformer in the studio's step contract,
 *   sharing one weight set. Which reference mode is exact is the variant's: klein 4B and base 4B
 *   were trained with references in the joint attention at the step's timestep (full mode), 9B-kv
 *   with references at timestep 0 attending to themselves (cached mode).
 */
import type { GraphRole, GraphSpec, PackManifest } from '../../pack/manifest';
import { buildFlux2Reference, buildFlux2Step, flux2LinearPrecision } from '../../packbuild/models/flux2';
import type { AttentionPieces, PrecisionSpec } from '../../packbuild/nn';
import { PackAssembler } from '../../packbuild/pack';
import type { Linear } from '../../packbuild/params';
import { compactLinear } from '../../packbuild/stored-linear';
import { chooseQueryChunk } from '../../plan/attention';
import { ConvertError } from '../errors';
import { getComponent, type ModelFolderDescription } from '../folder';
import { checkpointTotals, ConversionMeter } from '../progress';
import type { FolderSource } from '../source';
import { clipLinearPrecision } from '../sd3/clip';
import { PLACEHOLDERS, type ConvertOptions, type ConvertPrecision } from '../sd3/convert';
import { buildQwen3TextEncoder, loadQwen3TextEncoder, qwen3Config, qwen3LayersFor } from './qwen3';
import { buildQwen3Tokenizer, QWEN3_PAD } from './qwen3-tokenizer';
import { FLUX2_CELL, FLUX2_PROMPT_ROWS, flux2QuantizedLinears, flux2TapsFor } from './conversion-facts';
import { loadFlux2Transformer } from './transformer';
import { buildFlux2VaeDecoder, buildFlux2VaeEncoder, loadFlux2VaeParams } from './vae';

const PRECISIONS: readonly ConvertPrecision[] = ['fp32', 'fp16', 'int8', 'int4'];
/** The pipelines' max_sequence_length: every prompt is padded to this many rows. */
export const FLUX2_MAX_TEXT = FLUX2_PROMPT_ROWS[0];
const MAX_SUBJECTS = 4;
const MAX_REFERENCES_PER_SUBJECT = 2;
const CELL = FLUX2_CELL;
const ATTENTION_LIMIT_BYTES = 512 * 2 ** 20;
const MiB = 2 ** 20;
/** Qwen3's chat template around one user message, thinking off (qwen3-tokenizer.ts qwen3ChatText). */
const TEMPLATE = { prefix: '<|im_start|>user\n', suffix: '<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n' };

export interface Flux2ConvertOptions extends ConvertOptions {
  /** Prompt rows (the pipelines' max_sequence_length, 512); the fixtures use fewer. */
  maxTextTokens?: number;
  /** Sizes that are not square (FLUX.2 takes any multiple of 16 px), besides the squares of `sizes`. */
  extraResolutions?: { width: number; height: number }[];
}

/** The taps (flux2TapsFor), or why this text encoder cannot feed FLUX.2. */
export function flux2TextTaps(layers: number): number[] {
  const taps = flux2TapsFor(layers);
  if (!taps) throw new ConvertError('wrong-model', `a text encoder of ${layers} layers is too shallow for FLUX.2's three hidden-state taps`, { file: 'text_encoder/config.json' });
  return taps;
}

/** The sampling defaults of each variant's model card: klein 4 steps without CFG, base 50 steps CFG 4. */
function defaultsFor(description: ModelFolderDescription): { steps: number; text: number } {
  return description.distilled === false ? { steps: 50, text: 4 } : { steps: 4, text: 1 };
}

function checkBlockSize(blockSize: number, transformerConfig: Record<string, unknown>): void {
  if (!Number.isSafeInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new ConvertError('bad-option', `int4 block size ${blockSize} is not a power of two of at least 16 (e.g. 32)`);
  }
  const misfit = flux2QuantizedLinears(transformerConfig).find(([, width]) => width % blockSize !== 0);
  if (misfit) throw new ConvertError('bad-option', `int4 block size ${blockSize} does not divide the input width ${misfit[1]} of ${misfit[0]} (transformer/config.json); use a smaller block, or int8 or fp16 weights`);
}

async function readText(folder: FolderSource, path: string): Promise<string> {
  const file = folder.open(path);
  if (!file) throw new ConvertError('missing-file', `${path} is missing`, { file: path });
  return new TextDecoder().decode(await file.read(0, file.size));
}

/** Query chunks per DiT graph at the largest size (3 guidance branches; full mode sized for two references). */
function ditPieces(maxSize: number, textRows: number, heads: number): Record<'dit_reference' | 'dit_step' | 'dit_step_full', AttentionPieces> {
  const N = (maxSize / CELL) ** 2;
  const refs = MAX_SUBJECTS * MAX_REFERENCES_PER_SUBJECT;
  const pick = (queries: number, keys: number, batch: number): AttentionPieces => ({ headsPerPiece: 1, queryChunks: chooseQueryChunk(batch, heads, queries, keys, ATTENTION_LIMIT_BYTES, { headsPerPiece: 1 }).queryChunks });
  return {
    dit_reference: pick(N, N, 1),
    dit_step: pick(textRows + N, textRows + N + refs * N, 3),
    dit_step_full: pick(textRows + 3 * N, textRows + 3 * N, 3),
  };
}

/**
 * Reads Qwen3's layers up to the deepest tap and builds text_encoder.onnx. A function of its own so
 * that the loaded parameters (the embedding table in fp32: 1.6 GB for klein 4B, stored in the graph
 * at fp16) can be freed before the transformer is read.
 */
async function textEncoderGraph(meter: ConversionMeter, text: ReturnType<typeof getComponent>, placeholderRows: number, taps: number[], prec: PrecisionSpec, maxText: number) {
  meter.setPhase('reading the text encoder');
  const qwen = await loadQwen3TextEncoder(meter.count(text.weights), text.config, {
    layers: qwen3LayersFor(taps),
    placeholderRows,
    compact: (lin: Linear) => compactLinear(lin, clipLinearPrecision(lin, prec)),
  });
  meter.setPhase('building text_encoder.onnx');
  return buildQwen3TextEncoder(qwen, prec, taps, { maxTokens: maxText });
}

/** Reads the VAE (fp32: 336 MB for klein's) and adds its two graphs; its parameters are freed on return. */
async function addVaeGraphs(pack: PackAssembler, meter: ConversionMeter, vae: ReturnType<typeof getComponent>, fp32: PrecisionSpec, precision: GraphSpec['precision']): Promise<void> {
  meter.setPhase('reading the VAE');
  const params = await loadFlux2VaeParams(meter.count(vae.weights), vae.config);
  meter.setPhase('building the VAE graphs');
  await pack.add({ role: 'vae_encoder', attention: 'none', precision, graph: buildFlux2VaeEncoder(params, fp32) });
  await pack.add({ role: 'vae_decoder', attention: 'none', precision, graph: buildFlux2VaeDecoder(params, fp32) });
}

/** Converts a FLUX.2 klein diffusers folder (already inspected) into a pack. */
export async function convertFlux2Folder(folder: FolderSource, description: ModelFolderDescription, opts: Flux2ConvertOptions): Promise<{ manifest: PackManifest; files: Map<string, Uint8Array> }> {
  if (description.family !== 'flux2-klein' && description.family !== 'flux2-klein-kv') throw new Error(`convertFlux2Folder got a ${description.label} folder`);
  const transformer = getComponent(description, 'transformer');
  const vae = getComponent(description, 'vae');
  const text = getComponent(description, 'text_encoder');
  const tcfg = transformer.config;
  const kv = description.family === 'flux2-klein-kv';

  const sizes = [...new Set(opts.sizes)].sort((a, b) => a - b);
  const resolutions = [...sizes.map((s) => ({ width: s, height: s })), ...(opts.extraResolutions ?? [])];
  if (resolutions.length === 0) throw new ConvertError('bad-option', 'no sizes asked for');
  for (const r of resolutions) {
    const ok = [r.width, r.height].every((v) => Number.isInteger(v) && v > 0 && v % CELL === 0);
    if (!ok) throw new ConvertError('bad-option', `size ${r.width}x${r.height} px is not a positive multiple of ${CELL} px (VAE 8 x 2x2 patches)`);
  }
  // The largest side bounds the attention chunks and the grid.
  const maxSize = Math.max(...resolutions.flatMap((r) => [r.width, r.height]));
  if (!PRECISIONS.includes(opts.precision)) throw new ConvertError('bad-option', `precision ${JSON.stringify(opts.precision)}: expected one of ${PRECISIONS.join(', ')}`);
  const blockSize = opts.blockSize ?? 32;
  if (opts.precision === 'int4') checkBlockSize(blockSize, tcfg);
  const prec: PrecisionSpec = { matmul: opts.precision, conv: 'fp32', blockSize };
  const fp32: PrecisionSpec = { matmul: 'fp32', conv: 'fp32', blockSize };
  const maxText = opts.maxTextTokens ?? FLUX2_MAX_TEXT;
  if (!Number.isSafeInteger(maxText) || maxText < 1) throw new ConvertError('bad-option', `prompt rows ${JSON.stringify(maxText)}: expected a positive whole number (the pipelines' max_sequence_length, 512 by default)`);

  // The text encoder must feed this transformer: its taps, concatenated, are the joint dimension.
  const qcfg = qwen3Config(text.config);
  const taps = flux2TextTaps(qcfg.layers);
  const joint = tcfg.joint_attention_dim;
  if (joint !== taps.length * qcfg.hidden) {
    throw new ConvertError('wrong-model', `text_encoder/ (Qwen3, hidden size ${qcfg.hidden}) gives ${taps.length} x ${qcfg.hidden} = ${taps.length * qcfg.hidden} wide prompt embeddings, but the transformer's joint_attention_dim is ${JSON.stringify(joint)}: the text encoder belongs to another FLUX.2 model`, {
      file: 'text_encoder/config.json',
    });
  }

  const meter = new ConversionMeter(...((t) => [t.bytes, t.tensors] as const)(checkpointTotals([transformer.weights, vae.weights, text.weights])), opts.onProgress ?? (() => {}), opts.signal);

  meter.setPhase('reading the tokenizer');
  const tok = buildQwen3Tokenizer(
    { tokenizerJson: await readText(folder, 'tokenizer/tokenizer.json'), tokenizerConfigJson: await readText(folder, 'tokenizer/tokenizer_config.json') },
    { vocabSize: qcfg.vocabSize, placeholders: PLACEHOLDERS },
  );

  // Each graph is serialized as soon as it is built, so its weights in IR form (and the parameters
  // they were read into) are freed before the next component is read: only pack bytes accumulate.
  const pack = new PackAssembler({
    tokenizer: { json: tok.json, bos: '<|im_start|>', eos: '<|im_end|>', pad: QWEN3_PAD, placeholders: [...PLACEHOLDERS], template: TEMPLATE },
    externalData: { roles: ['text_encoder', 'dit_reference', 'dit_step', 'dit_step_full'], maxShardBytes: 512 * MiB, minTensorBytes: 1024, align: 64 },
    sharedExternalData: { roles: ['dit_reference', 'dit_step', 'dit_step_full'], name: 'dit.weights' },
  });
  const precisionOf = (p: PrecisionSpec): GraphSpec['precision'] => ({ matmul: p.matmul, conv: p.conv, ...(p.matmul === 'int4' ? { blockSize: p.blockSize } : {}) });
  await pack.add({ role: 'text_encoder', attention: 'decomposed', precision: precisionOf(prec), graph: await textEncoderGraph(meter, text, tok.placeholderIds.length, taps, prec, maxText) });

  await addVaeGraphs(pack, meter, vae, fp32, precisionOf(fp32));

  meter.setPhase('reading the transformer');
  const dit = await loadFlux2Transformer(meter.count(transformer.weights), tcfg, { compact: (lin, fragile) => compactLinear(lin, flux2LinearPrecision(prec, fragile)) });
  const pieces = ditPieces(maxSize, maxText, dit.cfg.heads);
  for (const [role, build] of [
    ['dit_reference', () => buildFlux2Reference(dit, prec, 'decomposed', pieces.dit_reference)],
    ['dit_step', () => buildFlux2Step(dit, prec, 'decomposed', 'cached', pieces.dit_step)],
    ['dit_step_full', () => buildFlux2Step(dit, prec, 'decomposed', 'full', pieces.dit_step_full)],
  ] as const) {
    meter.setPhase(`building ${role}.onnx`);
    await pack.add({ role: role as GraphRole, attention: 'decomposed', precision: precisionOf(prec), graph: build() });
  }

  meter.setPhase('writing the pack');
  const defaults = defaultsFor(description);
  const licenceName = description.licence?.name ?? description.licence?.id;
  const { manifest, files } = await pack.finish({
    description: {
      name: `flux2-klein${description.distilled === false ? '-base' : ''}${kv ? '-kv' : ''}-${opts.precision}`,
      version: '1.0.0',
      description: `${description.label}, converted from its diffusers folder (${opts.precision} weights). References are placed as the model was trained (${kv ? 'cached: at timestep 0, attending to themselves' : 'full: live tokens beside the image'}).`,
      trained: true,
      family: 'flux2',
      latent: { channels: dit.cfg.channels, downsample: CELL },
      transformer: {
        hiddenSize: dit.cfg.dim,
        heads: dit.cfg.heads,
        layers: dit.cfg.doubleLayers + dit.cfg.singleLayers,
        patchSize: 1,
        textDim: dit.cfg.jointDim,
        pooledDim: 0,
        maxGrid: { height: maxSize / CELL, width: maxSize / CELL },
        rope: { axesDims: [...dit.cfg.axesDims], theta: dit.cfg.ropeTheta },
      },
      resolutions,
      defaultResolution: sizes.includes(1024) ? { width: 1024, height: 1024 } : resolutions[resolutions.length - 1]!,
      tokens: { maxText, maxReferencesPerSubject: MAX_REFERENCES_PER_SUBJECT, maxSubjects: MAX_SUBJECTS },
      scheduler: { type: 'flow-match-empirical-mu', shift: 1, trainTimesteps: 1000 },
      // Distilled klein has no CFG: text guidance 1 makes the combine v_t + s_ref (v_tr - v_t).
      guidance: { steps: defaults.steps, text: defaults.text, reference: 1 },
      attentionBiasMin: -10000,
      source: { kind: 'converted', model: description.label, tool: 'subject-studio convert (workers/convert/flux2/convert.ts)' },
      referenceModes: kv ? { cached: 'exact', full: 'approximate' } : { cached: 'approximate', full: 'exact' },
    },
    ...(licenceName || description.licence?.text ? { licence: { name: licenceName ?? 'see LICENCE.txt', ...(description.licence?.text ? { text: description.licence.text } : {}) } } : {}),
  });
  meter.setPhase('done');
  return { manifest, files };
}
