/**
 * What the studio shows about a picked model folder before converting it:
 * which model it is, what it will read, and the sizes its positional table
 * allows (a reference sits one image width right of the image, so the largest
 * size is well under the table's).
 */
import { ConvertError } from '../errors';
import { getComponent, inspectModelFolder } from '../folder';
import { checkpointTotals } from '../progress';
import { sd3ReferenceGridLimit, type ConvertPrecision } from '../sd3/convert';
import { sd3TransformerKeys } from '../sd3/transformer';
import type { FolderSource } from '../source';

export interface ConvertFolderInfo {
  /** For people: 'Stable Diffusion 3 Medium'. */
  label: string;
  family: 'sd3' | 'sd3.5';
  /** Files in the folder, and the weight bytes and tensors the conversion reads. */
  fileCount: number;
  weightBytes: number;
  tensors: number;
  /**
   * Sizes (square, px) to choose from and those picked by default: sizes at which subjects work
   * (a reference beside the image still fits the positional table, up to maxSize). The converter
   * also takes larger sizes, for images without subjects; the studio does not offer them.
   */
  sizes: number[];
  defaultSizes: number[];
  maxSize: number;
  /** Every size is a multiple of this (VAE downsampling x patch size). */
  sizeStep: number;
  /** int4 is offered only where a block size fits every transformer linear (then the largest, at most 32, is used). */
  precisions: ConvertPrecision[];
  defaultPrecision: ConvertPrecision;
  int4BlockSize: number | null;
  /** What does not stop the conversion but is worth knowing (no T5, the pipeline class). */
  notes: string[];
}

/** What convertSd3Folder reads (a T5 encoder in the folder is not used). */
const CONVERTED_COMPONENTS = ['transformer', 'vae', 'text_encoder', 'text_encoder_2'];
const USUAL_SIZES = [256, 512, 768, 1024, 1536, 2048];
const SMALL_SIZES = [64, 128];
const PREFERRED_SIZES = [512, 1024];

/** The sizes a model with this step and largest size offers, and those picked by default. */
export function sizeChoices(sizeStep: number, maxSize: number): { sizes: number[]; defaultSizes: number[] } {
  const fits = (s: number) => s % sizeStep === 0 && s <= maxSize;
  let sizes = USUAL_SIZES.filter(fits);
  // Toy models (test folders) allow only small images: offer those, and the largest one.
  if (sizes.length === 0) sizes = [...new Set([...SMALL_SIZES.filter(fits), maxSize])].filter((s) => s > 0);
  const preferred = PREFERRED_SIZES.filter((s) => sizes.includes(s));
  return { sizes, defaultSizes: preferred.length > 0 ? preferred : sizes.slice(-1) };
}

/** MatMulNBits' smallest block, and the one the studio prefers (its int4 graphs and the planner assume 32). */
const MIN_BLOCK = 16;
const PREFERRED_BLOCK = 32;

/**
 * The int4 block size for this transformer: the largest power of two (at most 32) dividing the
 * input width of every linear layer, or null when it is under 16 (toy widths). The text encoders
 * need none: the converter falls back to int8 for their layers that do not fit.
 */
export function int4BlockSizeFor(transformerConfig: Record<string, unknown>): number | null {
  const widths = [...sd3TransformerKeys(transformerConfig)].filter(([key, shape]) => key.endsWith('.weight') && shape.length === 2).map(([, shape]) => shape[1]!);
  const fit = Math.min(PREFERRED_BLOCK, ...widths.map((w) => w & -w));
  return fit >= MIN_BLOCK ? fit : null;
}

const positiveInt = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new ConvertError('bad-json', `transformer/config.json: ${what} is ${JSON.stringify(v)}, expected a positive whole number`, { file: 'transformer/config.json' });
  return v;
};

export async function describeFolderForConversion(folder: FolderSource): Promise<ConvertFolderInfo> {
  const d = await inspectModelFolder(folder);
  if (d.family !== 'sd3' && d.family !== 'sd3.5') {
    throw new ConvertError('wrong-model', `this folder holds ${d.label}; the studio converts Stable Diffusion 3 and 3.5 folders only`, { file: 'model_index.json' });
  }
  const config = getComponent(d, 'transformer').config;
  const patch = positiveInt(config.patch_size, 'patch_size');
  const table = positiveInt(config.pos_embed_max_size, 'pos_embed_max_size');
  const sizeStep = 8 * patch;
  const maxSize = sd3ReferenceGridLimit(table) * sizeStep;
  const int4BlockSize = int4BlockSizeFor(config);
  const totals = checkpointTotals(CONVERTED_COMPONENTS.map((name) => getComponent(d, name).weights));
  return {
    label: d.label,
    family: d.family,
    fileCount: folder.list().length,
    weightBytes: totals.bytes,
    tensors: totals.tensors,
    ...sizeChoices(sizeStep, maxSize),
    maxSize,
    sizeStep,
    precisions: int4BlockSize !== null ? ['int4', 'int8', 'fp16', 'fp32'] : ['int8', 'fp16', 'fp32'],
    defaultPrecision: int4BlockSize !== null ? 'int4' : 'int8',
    int4BlockSize,
    notes: [...d.warnings, ...d.skipped.map((s) => `${s.name}/ (${s.role}) is not used: ${s.note}`)],
  };
}
