/**
 * The pack load in progress (manifest, then bytes of every chosen file), as
 * the engine worker reports it; null when no pack is loading.
 */
import { create } from 'zustand';
import type { PackLoadProgress } from '../../workers/pack/loader';

export interface PackProgressState {
  progress: PackLoadProgress | null;
  /** Where the pack being loaded comes from (a URL, or "a folder"). */
  source: string | null;
  actions: {
    started(source: string): void;
    report(p: PackLoadProgress): void;
    finished(): void;
  };
}

export const usePackProgressStore = create<PackProgressState>()((set) => ({
  progress: null,
  source: null,
  actions: {
    started: (source) => set({ source, progress: { kind: 'manifest', url: source } }),
    report: (progress) => set({ progress }),
    finished: () => set({ progress: null, source: null }),
  },
}));
