/**
 * The studio's document state. Every change goes through `actions`, so the UI,
 * shortcuts and tests share one path.
 */
import { create } from 'zustand';
import type { BackendPreference } from '../engine-client/engine';
import { DEFAULT_PACK_URL, parseStudioParams } from '../engine-client/url-params';

export interface StudioState {
  backendPreference: BackendPreference;
  packUrl: string;
  /** Problems with the page URL's parameters, shown to the user. */
  urlProblems: string[];
  /** Set when the engine worker died; only a reload recovers for now. */
  engineCrash: string | null;
  actions: {
    applyUrlParams(search: string): void;
    setPackUrl(url: string): void;
    reportEngineCrash(message: string): void;
  };
}

export const useStudioStore = create<StudioState>()((set) => ({
  backendPreference: 'auto',
  packUrl: DEFAULT_PACK_URL,
  urlProblems: [],
  engineCrash: null,
  actions: {
    applyUrlParams(search) {
      const p = parseStudioParams(search);
      set({ backendPreference: p.backend, packUrl: p.packUrl, urlProblems: p.problems });
    },
    setPackUrl(url) {
      set({ packUrl: url });
    },
    reportEngineCrash(message) {
      set({ engineCrash: message });
    },
  },
}));
