/**
 * What the UI sends to the engine to generate, and what comes back. Pure
 * types and defaults: the UI imports this module, never onnxruntime-web.
 */
import type { GraphRole } from './pack/manifest';
import type { DropSchedule } from './pipeline/schedule';
import type { BackgroundFill } from './pipeline/image/fill';
import type { FrequencyShape } from './pipeline/image/fft';
import type { MaskSettings } from './pipeline/image/mask';
import type { GenerateProgress } from './pipeline/progress';

export type { DropSchedule, BackgroundFill, FrequencyShape, MaskSettings, GenerateProgress };
export { DEFAULT_MASK_SETTINGS } from './pipeline/image/mask';

/** A painted mask: one byte per pixel (0 = background, 255 = subject), at its own resolution. */
export interface MaskData {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface SubjectImageInput {
  /** Content hash of the image file (the cache key for everything derived from it). */
  id: string;
  /** The image file; decoded in the worker. */
  blob: Blob;
  /** Null: the whole image is the subject. */
  mask: MaskData | null;
}

export interface FrequencySettings {
  enabled: boolean;
  /** Half-width (square) or radius (disk) of the low band, in frequency bins at the generation size. */
  cutoff: number;
  shape: FrequencyShape;
  /** Strength multipliers of the original, low-band and high-band reference token sets. */
  gammaOrig: number;
  gammaLow: number;
  gammaHigh: number;
}

export const DEFAULT_FREQUENCY: Readonly<FrequencySettings> = Object.freeze({ enabled: false, cutoff: 8, shape: 'square', gammaOrig: 1, gammaLow: 0, gammaHigh: 0 });

export interface SubjectInput {
  /** Used as @name in the prompt. */
  name: string;
  /** The class word ("cat") that carries the meaning next to the placeholder token. */
  classWord: string;
  /** gamma: the attention distribution shift (1 = as trained, 0 = off). */
  strength: number;
  images: SubjectImageInput[];
  maskSettings: MaskSettings;
  fill: BackgroundFill;
  frequency: FrequencySettings;
  /** The subject is off in layers below this one. */
  layerStart: number;
  /** The subject is on for steps whose fraction lies in [start, end]. */
  stepWindow: [number, number];
}

export interface GenerationSettings {
  width: number;
  height: number;
  steps: number;
  seed: number;
  textGuidance: number;
  refGuidance: number;
  dropRatio: number;
  dropSchedule: DropSchedule;
  refMode: 'cached' | 'full';
  /** Preview thumbnail every n steps (0 = none). */
  previewEvery: number;
}

export interface GenerateInput extends GenerationSettings {
  prompt: string;
  negativePrompt: string;
  subjects: SubjectInput[];
}

export interface GenerateOutput {
  width: number;
  height: number;
  /** RGBA bytes. */
  rgba: Uint8ClampedArray;
  timings: { totalMs: number; sessionMs: number; stepMs: number[] };
  /** The pack graphs this generation ran, by role (reference passes and text encodings that were cached are not run again). */
  graphRuns: Partial<Record<GraphRole, number>>;
  /** Text that was cut from the prompt for the token limit, if any. */
  truncatedText: string | null;
  /** @names in the prompt with no such subject. */
  unknownNames: string[];
}

/** What the prompt editor shows: token use and problems, from the pack's own tokenizer. */
export interface PromptReport {
  tokenCount: number;
  maxTokens: number;
  unknownNames: string[];
  truncatedText: string | null;
  concepts: { subject: string; positions: number[] }[];
}

export type { GenerateProgress as Progress };
