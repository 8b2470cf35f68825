/**
 * What the loaded pack can do, as the UI needs it to set its limits: sizes,
 * token and subject limits, recommended defaults, reference modes. Made once
 * from the manifest in the worker and sent with the pack's summary, so the
 * UI never parses the manifest a second time nor assumes a pack's numbers.
 */
import { familyOf } from '../families';
import type { PackManifest } from './manifest';

export type ReferenceMode = 'cached' | 'full';

export interface PackCapabilities {
  resolutions: { width: number; height: number }[];
  defaultResolution: { width: number; height: number };
  /** Text tokens the encoder reads, start and end markers included. */
  maxTextTokens: number;
  /** The model family and the text encoders that read those tokens, for people. */
  family: { id: PackManifest['family']; label: string; textEncoders: string };
  /** Subjects one image may use: the manifest's limit, and no more than the tokenizer has placeholders for. */
  maxSubjects: number;
  maxReferencesPerSubject: number;
  /** Subject placeholder tokens the tokenizer has. */
  placeholders: number;
  /** Transformer layers (a subject's first layer is one of them). */
  layers: number;
  /** The pack's recommended settings. */
  defaults: { steps: number; textGuidance: number; refGuidance: number };
  /**
   * Each reference mode, and whether it computes the model's own forward
   * (exact) or a training-free approximation; null where the pack does not
   * say (format 1 packs).
   */
  referenceModes: { mode: ReferenceMode; exact: boolean | null }[];
  /**
   * The reference mode a trained model was trained with (exactly one mode is exact): FLUX.2 klein 4B
   * full, klein 9B-kv and the toy world cached. Null for untrained packs and where neither or both are.
   */
  trainedMode: ReferenceMode | null;
}

function trainedMode(m: PackManifest): ReferenceMode | null {
  const exact = (['cached', 'full'] as const).filter((mode) => m.referenceModes?.[mode] === 'exact');
  return m.trained && exact.length === 1 ? exact[0]! : null;
}

export function packCapabilities(m: PackManifest): PackCapabilities {
  const modes: ReferenceMode[] = ['cached', 'full'];
  return {
    resolutions: m.resolutions.map((r) => ({ ...r })),
    defaultResolution: { ...m.defaultResolution },
    maxTextTokens: m.tokens.maxText,
    family: { id: m.family, label: familyOf(m).label, textEncoders: familyOf(m).textEncoders },
    maxSubjects: Math.min(m.tokens.maxSubjects, m.tokenizer.placeholders.length),
    maxReferencesPerSubject: m.tokens.maxReferencesPerSubject,
    placeholders: m.tokenizer.placeholders.length,
    layers: m.transformer.layers,
    defaults: { steps: m.guidance.steps, textGuidance: m.guidance.text, refGuidance: m.guidance.reference },
    referenceModes: modes.map((mode) => ({ mode, exact: m.referenceModes ? m.referenceModes[mode] === 'exact' : null })),
    trainedMode: trainedMode(m),
  };
}
