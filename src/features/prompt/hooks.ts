/** The prompt editor's timing: the debounced token report and live mode's pause before generating. */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { getEngine, type PromptReport } from '../../engine-client/engine';
import { useGenerationStore } from '../../state/generation-store';
import { usePromptStore } from '../../state/prompt-store';
import { useStudioStore } from '../../state/studio-store';
import { useLoadedPack } from '../models/pack-hooks';
import type { MentionSubject } from './mentions';

/** The token report waits this long after the last keystroke, so typing does not queue a worker call per key. */
export const REPORT_DEBOUNCE_MS = 150;
/** Live mode generates once the prompt has not changed for this long. */
export const LIVE_PAUSE_MS = 600;

/** `value`, once it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(t);
  }, [value, ms]);
  return settled;
}

export interface PromptReportState {
  report: PromptReport | undefined;
  error: Error | null;
  /** True while the shown report is older than the prompt (debounce or worker call pending). */
  pending: boolean;
}

/** The pack tokenizer's view of the prompt (token count, what is cut), from the engine worker. */
export function usePromptReport(prompt: string, subjects: readonly MentionSubject[]): PromptReportState {
  const backend = useStudioStore((s) => s.backendPreference);
  const { url, summary } = useLoadedPack();
  // One string key: a fresh subjects array every render must not restart the debounce.
  const key = JSON.stringify([prompt, subjects.map((s) => [s.name, s.classWord])]);
  const settled = useDebounced(key, REPORT_DEBOUNCE_MS);
  const q = useQuery({
    queryKey: ['engine', 'promptReport', backend, url, settled],
    queryFn: () => {
      const [p, subs] = JSON.parse(settled) as [string, [string, string][]];
      return getEngine().promptReport(p, subs.map(([name, classWord]) => ({ name, classWord })));
    },
    enabled: summary !== undefined,
    placeholderData: keepPreviousData,
    staleTime: Infinity,
    gcTime: 60_000,
    retry: false,
  });
  return { report: q.data, error: q.error, pending: settled !== key || q.isFetching || q.isPlaceholderData };
}

/**
 * Live mode: `touch()` after each edit; once edits pause for LIVE_PAUSE_MS a
 * generation is requested (the runner cancels an older run for it). Only
 * edits start the timer, so loading a saved prompt never generates by itself.
 */
export function useLiveGenerate(): { touch: () => void; cancel: () => void } {
  const timer = useRef<number | null>(null);
  const cancel = useCallback(() => {
    if (timer.current !== null) window.clearTimeout(timer.current);
    timer.current = null;
  }, []);
  const touch = useCallback(() => {
    cancel();
    if (!usePromptStore.getState().liveMode) return;
    timer.current = window.setTimeout(() => {
      timer.current = null;
      if (usePromptStore.getState().liveMode) useGenerationStore.getState().actions.requestGenerate('live');
    }, LIVE_PAUSE_MS);
  }, [cancel]);
  useEffect(() => cancel, [cancel]);
  return { touch, cancel };
}
