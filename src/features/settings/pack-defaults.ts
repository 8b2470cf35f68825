/**
 * What a pack recommends, as settings, and what following a newly loaded pack
 * changes. Pure: the hook in follow-pack.ts applies it when the loaded pack
 * differs from the one the settings last followed, and Reset uses the same
 * recommendations.
 */
import type { PackCapabilities } from '../../engine-client/engine';
import type { StudioSettings } from '../../state/settings-store';

type Recommended = Pick<StudioSettings, 'width' | 'height' | 'steps' | 'textGuidance' | 'refGuidance'> & Partial<Pick<StudioSettings, 'refMode'>>;

/**
 * The settings a pack recommends: its default size, steps and both guidance scales, and the
 * reference mode its model was trained with, where it says one (FLUX.2 klein 4B was trained with
 * references as live tokens: full; klein 9B-kv and the toy world with cached reference K/V).
 */
export function packRecommendations(caps: PackCapabilities): Recommended {
  return {
    ...caps.defaultResolution,
    steps: caps.defaults.steps,
    textGuidance: caps.defaults.textGuidance,
    refGuidance: caps.defaults.refGuidance,
    ...(caps.trainedMode ? { refMode: caps.trainedMode } : {}),
  };
}

/** Identifies a loaded pack for "did the settings already follow this one": where it came from, its name and version. */
export function packIdentity(pack: { url: string; name: string; version: string }): string {
  return `${pack.url}#${pack.name}@${pack.version}`;
}

export interface PackFollowChange {
  patch: Partial<StudioSettings>;
  /** What changed, for people ("512 × 512, 28 steps, text guidance 7"); empty when nothing did. */
  described: string[];
}

/**
 * The change that makes `settings` follow a newly loaded pack: its
 * recommended size, steps, guidance and reference mode. The user's seed, other reference knobs and
 * per-subject settings are theirs and stay.
 */
export function followPack(settings: StudioSettings, caps: PackCapabilities): PackFollowChange {
  const r = packRecommendations(caps);
  const patch: Partial<StudioSettings> = {};
  const described: string[] = [];
  if (settings.width !== r.width || settings.height !== r.height) {
    patch.width = r.width;
    patch.height = r.height;
    described.push(`${r.width}\u00a0×\u00a0${r.height}`); // never broken across lines
  }
  if (settings.steps !== r.steps) {
    patch.steps = r.steps;
    described.push(`${r.steps} steps`);
  }
  if (settings.textGuidance !== r.textGuidance) {
    patch.textGuidance = r.textGuidance;
    described.push(`text guidance ${r.textGuidance}`);
  }
  if (settings.refGuidance !== r.refGuidance) {
    patch.refGuidance = r.refGuidance;
    described.push(`reference guidance ${r.refGuidance}`);
  }
  if (r.refMode !== undefined && settings.refMode !== r.refMode) {
    patch.refMode = r.refMode;
    described.push(`${r.refMode} references (as the model was trained)`);
  }
  return { patch, described };
}
