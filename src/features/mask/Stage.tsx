/**
 * The painting surface: the view canvas, onto which the photo, the committed
 * mask and the stroke in progress are composited through the view's
 * transform (renderer.ts), and the brush outline on its own small canvas
 * above it. The view canvas takes the pointer and the keyboard focus.
 */
import { useEffect, useRef } from 'react';
import { useMaskEditorStore } from './editor-store';
import type { MaskSession } from './session';

export function Stage({ session, hintId }: { session: MaskSession; hintId: string }) {
  const stage = useRef<HTMLDivElement>(null);
  const view = useRef<HTMLCanvasElement>(null);
  const cursor = useRef<HTMLCanvasElement>(null);
  const panning = useMaskEditorStore((s) => s.panning);

  useEffect(() => {
    const [st, vw, cu] = [stage.current, view.current, cursor.current];
    if (!st || !vw || !cu) return;
    const detach = session.attach({ stage: st, view: vw, cursor: cu });
    // Focus starts on the canvas: shortcuts and space-to-pan work at once.
    vw.focus({ preventScroll: true });
    return detach;
  }, [session]);

  return (
    <div ref={stage} className={`mask-stage${panning ? ' is-panning' : ''}`} data-testid="mask.stage">
      <canvas
        ref={view}
        className="mask-view"
        data-testid="mask.canvas"
        tabIndex={0}
        role="application"
        aria-roledescription="painting canvas"
        aria-label={`Mask canvas, ${session.width}×${session.height} pixels: drag to paint`}
        aria-describedby={hintId}
      />
      <canvas ref={cursor} className="mask-cursor" aria-hidden="true" />
    </div>
  );
}
