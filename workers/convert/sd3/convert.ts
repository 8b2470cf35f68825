/**
 * Stable Diffusion 3 / 3.5 diffusers folder -> studio pack (format 2). No DOM
 * and no Node APIs: `npm run convert` runs it on a folder on disk, the studio
 * on a dropped folder (File.slice reads).
 *
 * What lands in the pack (docs/sd3.md):
 * - text_encoder: CLIP-L and OpenCLIP bigG in one graph on one id sequence
 *   (the two SD3 tokenizers share vocab and merges; tokenizer_2's padding is
 *   done inside the graph), giving the 77 CLIP rows zero-padded to
 *   joint_attention_dim plus the 256 zero rows of the absent T5, and the
 *   2048-wide pooled vector: what diffusers' encode_prompt gives without T5;
 * - vae_encoder / vae_decoder: the AutoencoderKL with SD3's scaling and shift
 *   inside the graphs (model-space latents in and out);
 * - dit_reference / dit_step / dit_step_full: the MM-DiT with the studio's
 *   reference tokens (positions one image width right of the centred crop,
 *   timestep 0), sharing one weight set;
 * - preview_decoder (only with the `preview` option): TAESD3's decoder, for
 *   previews during sampling (model-space latents in, as vae_decoder).
 */
import type { GraphRole, GraphSpec, PackManifest } from '../../pack/manifest';
import { buildDitReference, buildDitStep } from '../../packbuild/models/dit';
import type { AttentionPieces, PrecisionSpec } from '../../packbuild/nn';
import { assemblePack, type PackGraph } from '../../packbuild/pack';
import { chooseQueryChunk } from '../../plan/attention';
import { ConvertError } from '../errors';
import { getComponent, inspectModelFolder, type JsonObject, type ModelFolderDescription } from '../folder';
import { checkpointTotals, ConversionMeter, type ConvertProgress } from '../progress';
import type { FolderSource } from '../source';
import { buildClipTokenizerJson, CLIP_BOS, CLIP_EOS } from './clip-tokenizer';
import { clipLinearPrecision, loadClipTextParams } from './clip';
import { compactLinear } from '../../packbuild/stored-linear';
import type { Linear } from '../../packbuild/params';
import { buildSd3TextConditioner } from './text-conditioner';
import { loadSd3Transformer, sd3TransformerKeys } from './transformer';
import { buildPreviewDecoder, loadPreviewFolder } from './taesd';
import { buildSd3VaeDecoder, buildSd3VaeEncoder, loadSd3VaeParams } from './vae';

export type ConvertPrecision = 'fp32' | 'fp16' | 'int8' | 'int4';
const PRECISIONS: readonly ConvertPrecision[] = ['fp32', 'fp16', 'int8', 'int4'];

export interface ConvertOptions {
  /** Linear layers of the text encoders and the transformer (norms, modulation inputs, positions and the VAE stay fp32). */
  precision: ConvertPrecision;
  /** Square sizes in pixels the pack offers; the largest bounds the attention chunks. */
  sizes: number[];
  /** int4 block size (a divisor of every input width); 32 unless said. */
  blockSize?: number;
  onProgress?: (p: ConvertProgress) => void;
  signal?: AbortSignal;
  /** A TAESD folder for this model (madebyollin/taesd3): adds the optional preview_decoder graph, for previews during sampling. */
  preview?: FolderSource;
}

export const PLACEHOLDERS = ['<s1>', '<s2>', '<s3>', '<s4>'];
/** diffusers' max_sequence_length: the T5 rows encode_prompt appends (zeros without T5). */
const T5_ROWS = 256;
const MAX_SUBJECTS = 4;
const MAX_REFERENCES_PER_SUBJECT = 4;
/** One layer's attention scores stay under this (workers/plan/attention.ts). */
const ATTENTION_LIMIT_BYTES = 512 * 2 ** 20;
const MiB = 2 ** 20;

/**
 * The widest square grid (in patches) whose reference, one image width right
 * of SD3's centred crop, still fits a table of `tableSize` patches:
 * floor((T - w) / 2) + 2w <= T. SD3 Medium (192): 64 patches = 1024 px.
 */
export function sd3ReferenceGridLimit(tableSize: number): number {
  let w = 0;
  while (Math.floor((tableSize - (w + 1)) / 2) + 2 * (w + 1) <= tableSize) w++;
  return w;
}

/** Sampling defaults per variant: the model cards' own (SD3 Medium 28 steps CFG 7; SD3.5 Medium 40 steps CFG 4.5). */
function defaultsFor(description: ModelFolderDescription): { steps: number; text: number; size: number } {
  return description.family === 'sd3.5' ? { steps: 40, text: 4.5, size: 1024 } : { steps: 28, text: 7, size: 1024 };
}

const num = (config: JsonObject, key: string, where: string): number => {
  const v = config[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConvertError('bad-json', `${where}: ${key} is ${JSON.stringify(v)}, expected a number`, { file: where });
  return v;
};

async function readText(folder: FolderSource, path: string): Promise<string> {
  const file = folder.open(path);
  if (!file) throw new ConvertError('missing-file', `${path} is missing`, { file: path });
  return new TextDecoder().decode(await file.read(0, file.size));
}

/** Query chunks per DiT graph for the largest size (3 guidance branches, every subject's references). */
function ditPieces(maxSize: number, patch: number, heads: number): Record<'dit_reference' | 'dit_step' | 'dit_step_full', number> {
  const N = (maxSize / 8 / patch) ** 2;
  const M = 77 + T5_ROWS;
  const refs = MAX_SUBJECTS * MAX_REFERENCES_PER_SUBJECT;
  const pick = (queries: number, keys: number, batch: number) => chooseQueryChunk(batch, heads, queries, keys, ATTENTION_LIMIT_BYTES, { headsPerPiece: 1 }).queryChunks;
  return {
    dit_reference: pick(N, N, 1),
    dit_step: pick(M + N, M + N + refs * N, 3),
    // Full mode carries every reference as live tokens; sized for two.
    dit_step_full: pick(M + 3 * N, M + 3 * N, 3),
  };
}

/**
 * int4's block size: a power of two of at least 16 (MatMulNBits) that divides the input width of
 * every transformer linear (the text encoders fall back to int8 where it does not; the DiT has no
 * fallback). Checked before any weight is read.
 */
function checkBlockSize(blockSize: number, transformerConfig: JsonObject): void {
  if (!Number.isSafeInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new ConvertError('bad-option', `int4 block size ${blockSize} is not a power of two of at least 16 (e.g. 32)`);
  }
  const widths = [...sd3TransformerKeys(transformerConfig)].filter(([key, shape]) => key.endsWith('.weight') && shape.length === 2).map(([key, shape]) => [key, shape[1]!] as const);
  const misfit = widths.find(([, width]) => width % blockSize !== 0);
  if (misfit === undefined) return;
  const fit = Math.min(...widths.map(([, width]) => width & -width)); // the largest power of two dividing every width
  throw new ConvertError(
    'bad-option',
    `int4 block size ${blockSize} does not divide the input width ${misfit[1]} of ${misfit[0]} (transformer/config.json); use ${fit >= 16 ? `block size ${fit}, or ` : ''}int8 or fp32 weights`,
  );
}

/** The tokenizer's errors name the folder (they are plain Errors from clip-tokenizer.ts). */
function buildTokenizer(vocabJson: string, mergesTxt: string): ReturnType<typeof buildClipTokenizerJson> {
  try {
    return buildClipTokenizerJson(vocabJson, mergesTxt, { placeholders: PLACEHOLDERS });
  } catch (cause) {
    // Its one SyntaxError is JSON.parse's on vocab.json, which does not say which file it read.
    const detail = cause instanceof SyntaxError ? `vocab.json is not valid JSON (${cause.message})` : (cause as Error).message;
    throw new ConvertError('bad-json', `tokenizer/ is not a CLIP tokenizer: ${detail}`, { file: 'tokenizer/', cause });
  }
}

/** Converts an SD3 / SD3.5 diffusers folder into a pack. */
export async function convertSd3Folder(
  folder: FolderSource,
  opts: ConvertOptions,
  inspected?: ModelFolderDescription,
): Promise<{ manifest: PackManifest; files: Map<string, Uint8Array>; description: ModelFolderDescription }> {
  const description = inspected ?? (await inspectModelFolder(folder));
  if (description.family !== 'sd3' && description.family !== 'sd3.5') {
    throw new ConvertError('wrong-model', `this folder holds ${description.label}; this converter makes packs of Stable Diffusion 3 and 3.5 (convertModelFolder picks the converter of each family)`, {
      file: 'model_index.json',
    });
  }
  const transformer = getComponent(description, 'transformer');
  const vae = getComponent(description, 'vae');
  const clipL = getComponent(description, 'text_encoder');
  const clipG = getComponent(description, 'text_encoder_2');
  const tcfg = transformer.config;
  const patch = num(tcfg, 'patch_size', 'transformer/config.json');
  const heads = num(tcfg, 'num_attention_heads', 'transformer/config.json');
  const tableSize = num(tcfg, 'pos_embed_max_size', 'transformer/config.json');

  // Sizes past the reference limit (a reference one image width right of the centred crop must fit
  // the table) generate without subjects only; the manifest says where references stop.
  const cell = 8 * patch;
  const gridLimit = sd3ReferenceGridLimit(tableSize);
  const sizes = [...new Set(opts.sizes)].sort((a, b) => a - b);
  if (sizes.length === 0) throw new ConvertError('bad-option', 'no sizes asked for');
  for (const s of sizes) {
    if (!Number.isInteger(s) || s <= 0 || s % cell !== 0) throw new ConvertError('bad-option', `size ${s} px is not a positive multiple of ${cell} px (VAE 8 x patch ${patch})`);
    if (s / cell > tableSize) throw new ConvertError('bad-option', `size ${s} px is larger than the ${tableSize * cell} px the positional table covers`);
  }
  if (sizes[0]! / cell > gridLimit) {
    throw new ConvertError('bad-option', `at every size asked for (${sizes.join(', ')} px) a reference beside the image would leave the ${tableSize}x${tableSize} positional table; subjects need a size of at most ${gridLimit * cell} px`);
  }
  const maxSize = sizes[sizes.length - 1]!;
  if (!PRECISIONS.includes(opts.precision)) throw new ConvertError('bad-option', `precision ${JSON.stringify(opts.precision)}: expected one of ${PRECISIONS.join(', ')}`);
  const blockSize = opts.blockSize ?? 32;
  if (opts.precision === 'int4') checkBlockSize(blockSize, tcfg);
  const prec: PrecisionSpec = { matmul: opts.precision, conv: 'fp32', blockSize };
  const fp32: PrecisionSpec = { matmul: 'fp32', conv: 'fp32', blockSize };

  const meter = new ConversionMeter(
    ...((t) => [t.bytes, t.tensors] as const)(checkpointTotals([transformer.weights, vae.weights, clipL.weights, clipG.weights])),
    opts.onProgress ?? (() => {}),
    opts.signal,
  );

  meter.setPhase('reading the tokenizer');
  const tok = buildTokenizer(await readText(folder, 'tokenizer/vocab.json'), await readText(folder, 'tokenizer/merges.txt'));
  if ((await readText(folder, 'tokenizer_2/vocab.json')) !== (await readText(folder, 'tokenizer/vocab.json'))) {
    throw new ConvertError('wrong-model', 'tokenizer/ and tokenizer_2/ have different vocabularies; SD3 uses one CLIP vocabulary for both encoders');
  }
  const vocab = JSON.parse(await readText(folder, 'tokenizer/vocab.json')) as Record<string, number>;

  meter.setPhase('reading the text encoders');
  const placeholderRows = tok.placeholderIds.length;
  // Each linear is stored (quantized) as soon as it is read and its fp32 matrix dropped: memory holds
  // the pack's bytes and one tensor at a time, not a multi-gigabyte checkpoint in fp32.
  const compactText = (lin: Linear) => compactLinear(lin, clipLinearPrecision(lin, prec));
  const clipLParams = await loadClipTextParams(meter.count(clipL.weights), clipL.config, { placeholderRows, compact: compactText });
  const clipGParams = await loadClipTextParams(meter.count(clipG.weights), clipG.config, { placeholderRows, compact: compactText });
  const graphs: PackGraph[] = [];
  const precisionOf = (p: PrecisionSpec): GraphSpec['precision'] => ({ matmul: p.matmul, conv: p.conv, ...(p.matmul === 'int4' ? { blockSize: p.blockSize } : {}) });
  meter.setPhase('building text_encoder.onnx');
  graphs.push({
    role: 'text_encoder',
    attention: 'decomposed',
    precision: precisionOf(prec),
    graph: buildSd3TextConditioner(
      clipLParams,
      clipGParams,
      { jointDim: num(tcfg, 'joint_attention_dim', 'transformer/config.json'), t5Rows: T5_ROWS, eosId: tok.eos, pad2Id: vocab['!'] ?? 0, ...(vocab['!</w>'] !== undefined ? { pad2AsWordId: vocab['!</w>'] } : {}) },
      prec,
      'decomposed',
      { headsPerPiece: 1, queryChunks: 1 },
    ),
  });

  meter.setPhase('reading the VAE');
  const vaeParams = await loadSd3VaeParams(meter.count(vae.weights), vae.config);
  const vaePieces: AttentionPieces = { headsPerPiece: 1, queryChunks: Math.max(1, chooseQueryChunk(1, 1, (maxSize / 8) ** 2, (maxSize / 8) ** 2, ATTENTION_LIMIT_BYTES).queryChunks) };
  meter.setPhase('building the VAE graphs');
  graphs.push(
    { role: 'vae_encoder', attention: 'none', precision: precisionOf(fp32), graph: buildSd3VaeEncoder(vaeParams, fp32, { attentionPieces: vaePieces }) },
    { role: 'vae_decoder', attention: 'none', precision: precisionOf(fp32), graph: buildSd3VaeDecoder(vaeParams, fp32, { attentionPieces: vaePieces }) },
  );
  if (opts.preview) {
    meter.setPhase('building preview_decoder.onnx');
    const taesd = await loadPreviewFolder(opts.preview, { latentChannels: vaeParams.config.latentChannels, downsample: 2 ** (vaeParams.config.blockOutChannels.length - 1) });
    graphs.push({ role: 'preview_decoder', attention: 'none', precision: precisionOf(fp32), graph: buildPreviewDecoder(taesd) });
  }

  meter.setPhase('reading the transformer');
  const maxGrid = { height: maxSize / cell, width: maxSize / cell };
  const refGrid = Math.min(gridLimit, maxSize / cell);
  // The stored window of the positional table: what the largest size and its references read, or the
  // whole table when the largest size is past the reference limit.
  const dit = await loadSd3Transformer(meter.count(transformer.weights), tcfg, { ...(refGrid === maxGrid.width ? { maxGrid } : {}), compact: (lin) => compactLinear(lin, prec) });
  const chunks = ditPieces(maxSize, patch, heads);
  const pieces = (role: keyof typeof chunks): AttentionPieces => ({ headsPerPiece: 1, queryChunks: chunks[role] });
  for (const [role, build] of [
    ['dit_reference', () => buildDitReference(dit, prec, 'decomposed', pieces('dit_reference'))],
    ['dit_step', () => buildDitStep(dit, prec, 'decomposed', 'cached', pieces('dit_step'))],
    ['dit_step_full', () => buildDitStep(dit, prec, 'decomposed', 'full', pieces('dit_step_full'))],
  ] as const) {
    meter.setPhase(`building ${role}.onnx`);
    graphs.push({ role: role as GraphRole, attention: 'decomposed', precision: precisionOf(prec), graph: build() });
  }

  meter.setPhase('writing the pack');
  const hints = description.studio;
  const defaults = hints ? { ...hints.guidance, size: maxSize } : defaultsFor(description);
  const resolutions = sizes.map((s) => ({ width: s, height: s }));
  const defaultSize = sizes.includes(defaults.size) ? defaults.size : maxSize;
  const sched = description.scheduler.config;
  const licenceName = description.licence?.name ?? description.licence?.id;
  const { manifest, files } = await assemblePack({
    description: {
      name: hints ? hints.name : `${description.family}-${opts.precision}`,
      version: '1.0.0',
      description: hints
        ? `${hints.description} (${opts.precision} weights)`
        : `${description.label}, converted from its diffusers folder (${opts.precision} weights). Subjects are conditioned training-free: SD3 was not trained with reference images.`,
      trained: true,
      family: 'sd3',
      latent: { channels: num(tcfg, 'in_channels', 'transformer/config.json'), downsample: 8 },
      transformer: {
        hiddenSize: dit.cfg.dim,
        heads,
        layers: dit.cfg.layers,
        patchSize: patch,
        textDim: dit.cfg.textDim,
        pooledDim: dit.cfg.pooledDim,
        maxGrid,
        ...(refGrid < maxGrid.width ? { maxReferenceGrid: { height: refGrid, width: refGrid } } : {}),
      },
      resolutions,
      defaultResolution: { width: defaultSize, height: defaultSize },
      tokens: { maxText: clipLParams.cfg.positions, maxReferencesPerSubject: MAX_REFERENCES_PER_SUBJECT, maxSubjects: MAX_SUBJECTS },
      scheduler: {
        type: 'flow-match-euler-discrete',
        shift: typeof sched.shift === 'number' ? sched.shift : 1,
        trainTimesteps: typeof sched.num_train_timesteps === 'number' ? sched.num_train_timesteps : 1000,
      },
      guidance: { steps: defaults.steps, text: defaults.text, reference: hints ? hints.guidance.reference : 2 },
      attentionBiasMin: -10000,
      source: { kind: hints ? 'trained' : 'converted', model: hints ? hints.name : description.label, tool: 'subject-studio convert (workers/convert/sd3/convert.ts)' },
      // Only a model trained with references in the studio's layout (studio.json says so) is exact.
      referenceModes: hints?.referenceModes ?? { cached: 'approximate', full: 'approximate' },
      ...(hints?.vocabulary ? { vocabulary: hints.vocabulary } : {}),
    },
    graphs,
    tokenizer: { json: tok.json, bos: CLIP_BOS, eos: CLIP_EOS, pad: CLIP_EOS, placeholders: PLACEHOLDERS },
    externalData: { roles: ['text_encoder', 'dit_reference', 'dit_step', 'dit_step_full'], maxShardBytes: 512 * MiB, minTensorBytes: 1024, align: 64 },
    // The three DiT graphs read one copy of the transformer's weights.
    sharedExternalData: { roles: ['dit_reference', 'dit_step', 'dit_step_full'], name: 'dit.weights' },
    ...(licenceName || description.licence?.text ? { licence: { name: licenceName ?? 'see LICENCE.txt', ...(description.licence?.text ? { text: description.licence.text } : {}) } } : {}),
  });
  meter.setPhase('done');
  return { manifest, files, description };
}
