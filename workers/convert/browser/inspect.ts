/**
 * What the studio shows about a picked model folder before converting it:
 * which model it is, what it will read, the sizes and precisions converting it
 * offers (its family says which: conversion-facts.ts).
 */
import { conversionFacts } from '../convert-folder';
import { getComponent, inspectModelFolder, type ModelFamily } from '../folder';
import { checkpointTotals } from '../progress';
import type { ConvertPrecision } from '../sd3/convert';
import type { FolderSource } from '../source';

export interface ConvertFolderInfo {
  /** For people: 'Stable Diffusion 3 Medium', 'FLUX.2 klein 4B'. */
  label: string;
  family: ModelFamily;
  /** Files in the folder, and the weight bytes and tensors the conversion reads. */
  fileCount: number;
  weightBytes: number;
  tensors: number;
  /**
   * Sizes (square, px) to choose from and those picked by default: sizes at which subjects work,
   * up to maxSize (SD3: a reference beside the image still fits the positional table). The SD3
   * converter also takes larger sizes, for images without subjects; the studio does not offer them.
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
  /** Prompt rows to choose from (the first is the default; FLUX.2's max_sequence_length), or null where the family fixes them. */
  promptRows: number[] | null;
  /** What does not stop the conversion but is worth knowing (no T5, the pipeline class). */
  notes: string[];
}

const USUAL_SIZES = [256, 512, 768, 1024, 1536, 2048];
const SMALL_SIZES = [64, 128];
const PREFERRED_SIZES = [512, 1024];

/**
 * The sizes a model with this step and largest size offers, and those picked by default. Toy
 * models (test folders) also get the small sizes, and a toy whose largest size is under every
 * usual one is offered that size too.
 */
export function sizeChoices(sizeStep: number, maxSize: number, offerSmall = false): { sizes: number[]; defaultSizes: number[] } {
  const fits = (s: number) => s % sizeStep === 0 && s <= maxSize;
  let sizes = USUAL_SIZES.filter(fits);
  if (sizes.length === 0) sizes = [...new Set([...SMALL_SIZES.filter(fits), maxSize])].filter((s) => s > 0);
  else if (offerSmall) sizes = [...SMALL_SIZES.filter(fits), ...sizes];
  const preferred = PREFERRED_SIZES.filter((s) => sizes.includes(s));
  return { sizes, defaultSizes: preferred.length > 0 ? preferred : sizes.slice(-1) };
}

export async function describeFolderForConversion(folder: FolderSource): Promise<ConvertFolderInfo> {
  const d = await inspectModelFolder(folder);
  const facts = conversionFacts(d);
  const totals = checkpointTotals(facts.components.map((name) => getComponent(d, name).weights));
  return {
    label: d.label,
    family: d.family,
    fileCount: folder.list().length,
    weightBytes: totals.bytes,
    tensors: totals.tensors,
    ...sizeChoices(facts.sizeStep, facts.maxSize, facts.offerSmallSizes),
    maxSize: facts.maxSize,
    sizeStep: facts.sizeStep,
    precisions: facts.int4BlockSize !== null ? ['int4', 'int8', 'fp16', 'fp32'] : ['int8', 'fp16', 'fp32'],
    defaultPrecision: facts.int4BlockSize !== null ? 'int4' : 'int8',
    int4BlockSize: facts.int4BlockSize,
    promptRows: facts.promptRows ? [...facts.promptRows] : null,
    notes: [...d.warnings, ...d.skipped.map((s) => `${s.name}/ (${s.role}) is not used: ${s.note}`)],
  };
}
