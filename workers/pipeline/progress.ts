/** Progress of one generation: one typed union, one callback (ARCHITECTURE.md). */

export interface PreviewImage {
  width: number;
  height: number;
  /** RGBA bytes. */
  rgba: Uint8ClampedArray;
}

export type GenerateProgress =
  | { kind: 'loading'; what: string }
  | { kind: 'encoding'; what: 'text' | 'references'; done: number; total: number }
  | { kind: 'step'; step: number; steps: number; elapsedMs: number; preview: PreviewImage | null }
  | { kind: 'decoding' }
  | { kind: 'done'; elapsedMs: number }
  | { kind: 'error'; message: string }
  | { kind: 'cancelled'; atStep: number };

export const TERMINAL_KINDS = ['done', 'error', 'cancelled'] as const;

/**
 * Checks a progress sequence: steps strictly increase from 1 and never pass
 * their total, encoding precedes the steps, decoding follows the last one,
 * and exactly one terminal event closes it. Returns the problems (empty when
 * the sequence is valid).
 */
export function progressProblems(events: readonly GenerateProgress[]): string[] {
  const problems: string[] = [];
  let lastStep = 0;
  let sawDecoding = false;
  events.forEach((e, i) => {
    const terminal = (TERMINAL_KINDS as readonly string[]).includes(e.kind);
    if (terminal && i !== events.length - 1) problems.push(`terminal event ${e.kind} at ${i} is not last`);
    if (e.kind === 'step') {
      if (e.step !== lastStep + 1) problems.push(`step ${e.step} follows step ${lastStep}`);
      if (e.step > e.steps) problems.push(`step ${e.step} of ${e.steps}`);
      if (sawDecoding) problems.push('a step after decoding');
      lastStep = e.step;
    }
    if (e.kind === 'encoding' && lastStep > 0) problems.push('encoding after the first step');
    if (e.kind === 'decoding') sawDecoding = true;
    if (e.kind === 'done') {
      if (!sawDecoding) problems.push('done without decoding');
      const steps = events.find((x) => x.kind === 'step');
      if (steps && steps.kind === 'step' && lastStep !== steps.steps) problems.push(`done after ${lastStep} of ${steps.steps} steps`);
    }
  });
  const last = events[events.length - 1];
  if (!last || !(TERMINAL_KINDS as readonly string[]).includes(last.kind)) problems.push('no terminal event');
  return problems;
}
