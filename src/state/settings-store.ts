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

export interface Preset {
  name: string;
  settings: StudioSettings;
}

export interface SettingsState {
  settings: StudioSettings;
  presets: Preset[];
  actions: {
    set<K extends keyof StudioSettings>(key: K, value: StudioSettings[K]): void;
    patch(p: Partial<StudioSettings>): void;
    reset(): void;
    rollSeed(): number;
    savePreset(name: string): void;
    loadPreset(name: string): boolean;
    deletePreset(name: string): void;
  };
}

export const useSettingsStore = create<SettingsState>()(
  persist(
    (set, get) => ({
      settings: { ...DEFAULT_SETTINGS },
      presets: [],
      actions: {
        set: (key, value) => set({ settings: { ...get().settings, [key]: value } }),
        patch: (p) => set({ settings: { ...get().settings, ...p } }),
        reset: () => set({ settings: { ...DEFAULT_SETTINGS } }),
        rollSeed() {
          const seed = Math.floor(Math.random() * 2 ** 31);
          set({ settings: { ...get().settings, seed } });
          return seed;
        },
        savePreset(name) {
          const presets = get().presets.filter((p) => p.name !== name);
          set({ presets: [...presets, { name, settings: { ...get().settings } }] });
        },
        loadPreset(name) {
          const p = get().presets.find((x) => x.name === name);
          if (p) set({ settings: { ...DEFAULT_SETTINGS, ...p.settings } });
          return !!p;
        },
        deletePreset: (name) => set({ presets: get().presets.filter((p) => p.name !== name) }),
      },
    }),
    {
      name: PERSISTED.settings.key,
      storage: idbPersistStorage<Pick<SettingsState, 'settings' | 'presets'>>('your settings'),
      partialize: ({ settings, presets }) => ({ settings, presets }),
    },
  ),
);
