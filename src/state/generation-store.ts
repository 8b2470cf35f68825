/**
 * The generation in progress, as the UI sees it, and the one way to ask for a
 * generation (the Generate button, Ctrl+Enter in the prompt, live mode and
 * tests all call requestGenerate). GeneratePanel owns the run itself.
 */
import { create } from 'zustand';
import type { GenerateProgress } from '../../workers/generation-types';

/** The image of the last finished run (kept in memory; the gallery holds its PNG). */
export interface GenerationResult {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
  seed: number;
  /** Wall time from the request to the image. */
  ms: number;
  /** The gallery entry it was saved as (null until saved, or when saving failed). */
  galleryId: string | null;
}

/** An engine restart after a crash or a lost GPU device. */
export interface RecoveryState {
  phase: 'restarting' | 'restarted' | 'failed';
  /** What happened to the engine, for people. */
  reason: string;
  /** Why the restart itself failed (phase 'failed'). */
  error: string | null;
}

export interface GenerationState {
  /** Increments on every request; the runner starts a generation for each new value. */
  requestId: number;
  /** Why the latest request was made. */
  requestReason: 'button' | 'shortcut' | 'live' | 'test' | null;
  running: boolean;
  /** The latest progress event of the current (or last) run. */
  progress: GenerateProgress | null;
  error: string | null;
  /** Something worth saying that is not an error (a cancelled run, a prompt cut to fit). */
  notice: string | null;
  result: GenerationResult | null;
  recovery: RecoveryState | null;
  actions: {
    requestGenerate(reason: NonNullable<GenerationState['requestReason']>): void;
    setRunning(running: boolean): void;
    setProgress(p: GenerateProgress | null): void;
    setError(message: string | null): void;
    setNotice(message: string | null): void;
    setResult(result: GenerationResult | null): void;
    /** Records the gallery id once the result's PNG is saved (ignored if a newer result replaced it). */
    setResultSaved(rgba: Uint8ClampedArray, galleryId: string): void;
    setRecovery(recovery: RecoveryState | null): void;
  };
}

export const useGenerationStore = create<GenerationState>()((set, get) => ({
  requestId: 0,
  requestReason: null,
  running: false,
  progress: null,
  error: null,
  notice: null,
  result: null,
  recovery: null,
  actions: {
    requestGenerate: (reason) => set({ requestId: get().requestId + 1, requestReason: reason }),
    setRunning: (running) => set({ running }),
    setProgress: (progress) => set({ progress }),
    setError: (error) => set({ error }),
    setNotice: (notice) => set({ notice }),
    setResult: (result) => set({ result }),
    setResultSaved(rgba, galleryId) {
      const r = get().result;
      if (r && r.rgba === rgba) set({ result: { ...r, galleryId } });
    },
    setRecovery: (recovery) => set({ recovery }),
  },
}));
