/**
 * Ranges of the per-subject knobs (METHOD.md sections 2 and 5) and the parsing
 * every number input shares: a value is clamped into range and NaN is never
 * stored. Generation settings' ranges live with their store (SETTING_LIMITS).
 */
import { clampToLimit, type NumberLimit } from '../../state/settings-store';

export { clampToLimit, type NumberLimit };

export const SUBJECT_LIMITS = Object.freeze({
  /** gamma: 1 is the model as trained, 0 removes the subject; above ~3 the reference swamps the prompt. */
  strength: { min: 0, max: 4, step: 0.05 },
  /** Strength multipliers of the original, low-band and high-band reference token sets. */
  bandWeight: { min: 0, max: 4, step: 0.05 },
  /** Fractions of the sampling steps. */
  window: { min: 0, max: 1, step: 0.05 },
} satisfies Record<string, NumberLimit>);

/** Layers a subject can start at: 0 (every layer) to the last one. */
export function layerLimit(layers: number | undefined): NumberLimit {
  return { min: 0, max: Math.max(0, (layers ?? 64) - 1), step: 1, integer: true };
}

/** The low band's cutoff in frequency bins: up to half the generation size, where it keeps every frequency. */
export function cutoffLimit(width: number, height: number): NumberLimit {
  return { min: 0, max: Math.ceil(Math.max(width, height) / 2), step: 1, integer: true };
}

/** A number typed into an input, clamped; null when it is not a number at all (the input then reverts). */
export function parseNumberInput(text: string, limit: NumberLimit): number | null {
  const t = text.trim();
  if (t === '') return null;
  return clampToLimit(Number(t), limit);
}

/** True when the typed text is a number already inside the limit (safe to store while the user is still typing). */
export function isCommittable(text: string, limit: NumberLimit): boolean {
  const t = text.trim();
  if (t === '' || !Number.isFinite(Number(t))) return false;
  const v = Number(t);
  return v >= limit.min && v <= limit.max && (!limit.integer || Number.isInteger(v));
}

/**
 * A step window with one end moved; the other end follows so that start <= end
 * always holds (a window the engine would read as empty is never stored).
 */
export function moveWindow(window: readonly [number, number], end: 0 | 1, value: number): [number, number] {
  const v = clampToLimit(value, SUBJECT_LIMITS.window);
  if (v === null) return [window[0], window[1]];
  if (end === 0) return [v, Math.max(v, window[1])];
  return [Math.min(v, window[0]), v];
}
