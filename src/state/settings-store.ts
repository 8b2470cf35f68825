/** Generation settings with defaults and a reset, and saved presets. */
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type { GenerationSettings } from '../../workers/generation-types';
import { idbPersistStorage, PERSISTED } from './storage';

export interface StudioSettings extends Omit<GenerationSettings, 'previewEvery'> {
  /** Draw a new random seed for each generation. */
  randomSeed: boolean;
}

export const DEFAULT_SETTINGS: Readonly<StudioSettings> = Object.freeze({
  width: 128,
  height: 128,
  steps: 8,
  seed: 1,
  randomSeed: false,
  textGuidance: 4,
  refGuidance: 2,
  dropRatio: 0,
  dropSchedule: 'random',
  refMode: 'cached',
});

/** The range a number may take; integer ones are rounded. */
export interface NumberLimit {
  min: number;
  max: number;
  /** The step inputs and sliders move by. */
  step: number;
  integer?: boolean;
}

/** Largest seed rollSeed draws (and the engine's 32-bit generators take without wrapping). */
export const MAX_SEED = 2 ** 31 - 1;

type NumericKey = { [K in keyof StudioSettings]: StudioSettings[K] extends number ? K : never }[keyof StudioSettings];

export const SETTING_LIMITS: Readonly<Record<NumericKey, NumberLimit>> = Object.freeze({
  width: { min: 16, max: 4096, step: 16, integer: true },
  height: { min: 16, max: 4096, step: 16, integer: true },
  steps: { min: 1, max: 100, step: 1, integer: true },
  seed: { min: 0, max: MAX_SEED, step: 1, integer: true },
  textGuidance: { min: 0, max: 20, step: 0.5 },
  refGuidance: { min: 0, max: 20, step: 0.5 },
  dropRatio: { min: 0, max: 1, step: 0.05 },
});

/** The value inside the limit, or null for NaN/Infinity (which must never be stored). */
export function clampToLimit(value: number, limit: NumberLimit): number | null {
  if (!Number.isFinite(value)) return null;
  const v = limit.integer ? Math.round(value) : value;
  return Math.min(limit.max, Math.max(limit.min, v));
}

const ENUMS = {
  dropSchedule: ['random', 'early', 'late'],
  refMode: ['cached', 'full'],
} as const satisfies Partial<Record<keyof StudioSettings, readonly string[]>>;

/**
 * Keeps only valid values of a partial settings object: numbers clamped,
 * NaN and unknown enum values dropped. Every write (UI, presets, persisted
 * state from an older version) goes through this.
 */
export function sanitizeSettings(p: Partial<Record<keyof StudioSettings, unknown>>): Partial<StudioSettings> {
  const out: Partial<Record<keyof StudioSettings, unknown>> = {};
  for (const key of Object.keys(SETTING_LIMITS) as NumericKey[]) {
    const v = p[key];
    if (typeof v !== 'number') continue;
    const c = clampToLimit(v, SETTING_LIMITS[key]);
    if (c !== null) out[key] = c;
  }
  for (const key of Object.keys(ENUMS) as (keyof typeof ENUMS)[]) {
    const v = p[key];
    if ((ENUMS[key] as readonly unknown[]).includes(v)) out[key] = v;
  }
  if (typeof p.randomSeed === 'boolean') out.randomSeed = p.randomSeed;
  return out as Partial<StudioSettings>;
}

export interface Preset {
  name: string;
  settings: StudioSettings;
}

export interface SettingsState {
  settings: StudioSettings;
  presets: Preset[];
  /**
   * The pack (its identity) whose recommendations the settings last took, or
   * null before any: a pack switch applies the new pack's size, steps and
   * guidance once, and a reload on the same pack keeps the user's own.
   */
  followedPack: string | null;
  actions: {
    set<K extends keyof StudioSettings>(key: K, value: StudioSettings[K]): void;
    patch(p: Partial<StudioSettings>): void;
    reset(): void;
    rollSeed(): number;
    savePreset(name: string): void;
    loadPreset(name: string): boolean;
    deletePreset(name: string): void;
    /** Takes a newly loaded pack's recommendations (already worked out) and remembers the pack. */
    followPack(pack: string, patch: Partial<StudioSettings>): void;
  };
}

export const useSettingsStore = create<SettingsState>()(
  persist(
    (set, get) => ({
      settings: { ...DEFAULT_SETTINGS },
      presets: [],
      followedPack: null,
      actions: {
        set: (key, value) => set({ settings: { ...get().settings, ...sanitizeSettings({ [key]: value }) } }),
        patch: (p) => set({ settings: { ...get().settings, ...sanitizeSettings(p) } }),
        reset: () => set({ settings: { ...DEFAULT_SETTINGS } }),
        rollSeed() {
          const seed = Math.floor(Math.random() * (MAX_SEED + 1));
          set({ settings: { ...get().settings, seed } });
          return seed;
        },
        savePreset(name) {
          const trimmed = name.trim();
          if (!trimmed) return;
          const presets = get().presets.filter((p) => p.name !== trimmed);
          set({ presets: [...presets, { name: trimmed, settings: { ...get().settings } }] });
        },
        loadPreset(name) {
          const p = get().presets.find((x) => x.name === name);
          if (p) set({ settings: { ...DEFAULT_SETTINGS, ...sanitizeSettings(p.settings) } });
          return !!p;
        },
        deletePreset: (name) => set({ presets: get().presets.filter((p) => p.name !== name) }),
        followPack: (pack, patch) => set({ followedPack: pack, settings: { ...get().settings, ...sanitizeSettings(patch) } }),
      },
    }),
    {
      name: PERSISTED.settings.key,
      storage: idbPersistStorage<Pick<SettingsState, 'settings' | 'presets' | 'followedPack'>>('your settings'),
      partialize: ({ settings, presets, followedPack }) => ({ settings, presets, followedPack }),
      // Saved state may come from an older version (missing or renamed keys): fill in defaults, drop invalid values.
      merge: (persisted, current) => {
        const p = (persisted ?? {}) as Partial<Pick<SettingsState, 'settings' | 'presets' | 'followedPack'>>;
        return {
          ...current,
          followedPack: typeof p.followedPack === 'string' ? p.followedPack : null,
          settings: { ...DEFAULT_SETTINGS, ...sanitizeSettings(p.settings ?? {}) },
          presets: Array.isArray(p.presets) ? p.presets.filter((x) => typeof x?.name === 'string' && x.name.trim() !== '') : current.presets,
        };
      },
    },
  ),
);
