/** Time arithmetic for the progress line, and the frame throttle that keeps progress from flooding React. */

/** Milliseconds left after `step` of `steps` took `elapsedMs` (each step costs about the same), or null before the first. */
export function timeLeftMs(step: number, steps: number, elapsedMs: number): number | null {
  if (step < 1 || steps < step || !(elapsedMs >= 0)) return null;
  return (elapsedMs / step) * (steps - step);
}

/** "less than a second", "12 s", "3 min 5 s" */
export function formatDuration(ms: number): string {
  if (!(ms >= 0) || !Number.isFinite(ms)) return '';
  if (ms < 1000) return 'less than a second';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
}

export interface FrameThrottle<T> {
  /** Keeps `value` as the latest; it is applied on the next animation frame (once per frame at most). */
  push(value: T): void;
  /** Applies a pending value now. */
  flush(): void;
  /** Drops a pending value. */
  cancel(): void;
}

/**
 * Progress can arrive faster than the screen refreshes (fast steps, several
 * events per step): only the latest value per frame reaches `apply`, so
 * React renders at most once per frame and never builds a long task.
 */
export function frameThrottle<T>(
  apply: (value: T) => void,
  schedule: (run: () => void) => number = requestAnimationFrame,
  unschedule: (handle: number) => void = cancelAnimationFrame,
): FrameThrottle<T> {
  let pending: { value: T } | null = null;
  let handle: number | null = null;
  const run = () => {
    handle = null;
    const p = pending;
    pending = null;
    if (p) apply(p.value);
  };
  return {
    push(value) {
      pending = { value };
      handle ??= schedule(run);
    },
    flush() {
      if (handle !== null) unschedule(handle);
      run();
    },
    cancel() {
      if (handle !== null) unschedule(handle);
      handle = null;
      pending = null;
    },
  };
}
