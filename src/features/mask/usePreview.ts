/**
 * Keeps the settings preview canvas current: recomputed a moment after the
 * settings, the generation size or the mask change (a slider drag or a run
 * of strokes computes once, not per event).
 */
import { useEffect, useState, type RefObject } from 'react';
import type { BackgroundFill, MaskSettings } from '../../../workers/generation-types';
import { computePreview } from './preview';
import type { MaskSession } from './session';

const PREVIEW_DELAY_MS = 80;

export interface PreviewInfo {
  width: number;
  height: number;
  /** Mean of the processed mask, 0..1 (1 when nothing is painted). */
  coverage: number;
  /** Nothing painted: the engine uses the whole photo. */
  unmasked: boolean;
  /** Milliseconds the last computation took (shown to tests, bounded in them). */
  ms: number;
  error: string | null;
}

export function usePreview(
  session: MaskSession,
  settings: MaskSettings,
  fill: BackgroundFill,
  genWidth: number,
  genHeight: number,
  canvas: RefObject<HTMLCanvasElement | null>,
): PreviewInfo | null {
  const [maskVersion, setMaskVersion] = useState(0);
  const [info, setInfo] = useState<PreviewInfo | null>(null);

  useEffect(() => session.onMaskChange(() => setMaskVersion((v) => v + 1)), [session]);

  useEffect(() => {
    const timer = setTimeout(() => {
      const start = performance.now();
      try {
        const r = computePreview({ thumb: session.thumb, photo: session.photoSmall, genWidth, genHeight, settings, fill });
        const c = canvas.current;
        if (c) {
          c.width = r.width;
          c.height = r.height;
          c.getContext('2d')?.putImageData(new ImageData(r.rgba, r.width, r.height), 0, 0);
        }
        setInfo({ width: r.width, height: r.height, coverage: r.coverage, unmasked: r.mask === null, ms: performance.now() - start, error: null });
      } catch (e) {
        // Settings from an older version (NaN, negative feather) must not take the editor down.
        setInfo((prev) => ({ ...(prev ?? { width: 0, height: 0, coverage: 0, unmasked: false }), ms: 0, error: (e as Error).message }));
      }
    }, PREVIEW_DELAY_MS);
    return () => clearTimeout(timer);
  }, [session, maskVersion, settings, fill, genWidth, genHeight, canvas]);

  return info;
}
