/**
 * The painting surface: four stacked screen-sized canvases (photo, committed
 * mask, stroke in progress, cursor), drawn through the view's transform from
 * photo-resolution buffers (renderer.ts). The top one takes the pointer and
 * the keyboard focus.
 */
import { useEffect, useRef } from 'react';
import { useMaskEditorStore } from './editor-store';
import type { MaskSession } from './session';

export function Stage({ session, hintId }: { session: MaskSession; hintId: string }) {
  const stage = useRef<HTMLDivElement>(null);
  const photo = useRef<HTMLCanvasElement>(null);
  const overlay = useRef<HTMLCanvasElement>(null);
  const stroke = useRef<HTMLCanvasElement>(null);
  const cursor = useRef<HTMLCanvasElement>(null);
  const panning = useMaskEditorStore((s) => s.panning);

  useEffect(() => {
    const [st, ph, ov, sr, cu] = [stage.current, photo.current, overlay.current, stroke.current, cursor.current];
    if (!st || !ph || !ov || !sr || !cu) return;
    const detach = session.attach({ stage: st, photo: ph, overlay: ov, stroke: sr, cursor: cu });
    // Focus starts on the canvas: shortcuts and space-to-pan work at once.
    cu.focus({ preventScroll: true });
    return detach;
  }, [session]);

  return (
    <div ref={stage} className={`mask-stage${panning ? ' is-panning' : ''}`} data-testid="mask.stage">
      <canvas ref={photo} className="mask-layer" aria-hidden="true" />
      <canvas ref={overlay} className="mask-layer" aria-hidden="true" data-testid="mask.overlay" />
      <canvas ref={stroke} className="mask-layer" aria-hidden="true" />
      <canvas
        ref={cursor}
        className="mask-layer mask-cursor"
        data-testid="mask.canvas"
        tabIndex={0}
        role="application"
        aria-roledescription="painting canvas"
        aria-label={`Mask canvas, ${session.width}×${session.height} pixels: drag to paint`}
        aria-describedby={hintId}
      />
    </div>
  );
}
