/**
 * The generation in progress, as the UI sees it, and the one way to ask for a
 * generation (the Generate button, Ctrl+Enter in the prompt, live mode and
 * tests all call requestGenerate). GeneratePanel owns the run itself.
 */
import { create } from 'zustand';
import type { GenerateProgress } from '../../workers/generation-types';

export interface GenerationState {
  /** Increments on every request; the runner starts a generation for each new value. */
  requestId: number;
  /** Why the latest request was made. */
  requestReason: 'button' | 'shortcut' | 'live' | 'test' | null;
  running: boolean;
  /** The latest progress event of the current (or last) run. */
  progress: GenerateProgress | null;
  error: string | null;
  actions: {
    requestGenerate(reason: NonNullable<GenerationState['requestReason']>): void;
    setRunning(running: boolean): void;
    setProgress(p: GenerateProgress | null): void;
    setError(message: string | null): void;
  };
}

export const useGenerationStore = create<GenerationState>()((set, get) => ({
  requestId: 0,
  requestReason: null,
  running: false,
  progress: null,
  error: null,
  actions: {
    requestGenerate: (reason) => set({ requestId: get().requestId + 1, requestReason: reason }),
    setRunning: (running) => set({ running }),
    setProgress: (progress) => set({ progress }),
    setError: (error) => set({ error }),
  },
}));
