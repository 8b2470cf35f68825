/**
 * What a conversion in the studio reports: the converter's own progress with
 * the read rate and time left, then the pack's files going into the cache,
 * then the pack load's own events (the switch to the new pack).
 */
import type { PackLoadProgress } from '../../pack/loader';
import type { ConvertProgress } from '../progress';

export type ConvertFolderProgress =
  | ({
      kind: 'convert';
      /** Bytes of the model's weights read per second (null until measurable). */
      rate: number | null;
      /** Seconds left reading the weights at that rate (null once they are read or while unknown). */
      etaSeconds: number | null;
      elapsedSeconds: number;
    } & ConvertProgress)
  | { kind: 'store'; file: string; doneBytes: number; totalBytes: number }
  | PackLoadProgress;

/** Shortest time before a rate is worth showing: earlier ones swing wildly. */
const MIN_RATE_SECONDS = 0.5;

/** Adds rate, time left and elapsed time to the converter's progress, measured from `start` (ms). */
export function withRate(p: ConvertProgress, startMs: number, nowMs: number): Extract<ConvertFolderProgress, { kind: 'convert' }> {
  const elapsedSeconds = Math.max(0, (nowMs - startMs) / 1000);
  const rate = elapsedSeconds >= MIN_RATE_SECONDS && p.bytesDone > 0 ? p.bytesDone / elapsedSeconds : null;
  const left = p.bytesTotal - p.bytesDone;
  return { kind: 'convert', ...p, rate, etaSeconds: rate !== null && left > 0 ? left / rate : null, elapsedSeconds };
}
