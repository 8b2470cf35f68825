/**
 * The painting surface: three photo-resolution layers of tile canvases
 * (photo, committed mask, stroke in progress) under one CSS transform, and
 * the screen-sized cursor canvas on top, which takes the pointer and the
 * keyboard focus.
 */
import { useEffect, useRef } from 'react';
import { useMaskEditorStore } from './editor-store';
import type { MaskSession } from './session';

export function Stage({ session, hintId }: { session: MaskSession; hintId: string }) {
  const stage = useRef<HTMLDivElement>(null);
  const stack = useRef<HTMLDivElement>(null);
  const photo = useRef<HTMLDivElement>(null);
  const overlay = useRef<HTMLDivElement>(null);
  const stroke = useRef<HTMLDivElement>(null);
  const cursor = useRef<HTMLCanvasElement>(null);
  const panning = useMaskEditorStore((s) => s.panning);

  useEffect(() => {
    const [st, sk, ph, ov, sr, cu] = [stage.current, stack.current, photo.current, overlay.current, stroke.current, cursor.current];
    if (!st || !sk || !ph || !ov || !sr || !cu) return;
    const detach = session.attach({ stage: st, stack: sk, photo: ph, overlay: ov, stroke: sr, cursor: cu });
    // Focus starts on the canvas: shortcuts and space-to-pan work at once.
    cu.focus({ preventScroll: true });
    return detach;
  }, [session]);

  return (
    <div ref={stage} className={`mask-stage${panning ? ' is-panning' : ''}`} data-testid="mask.stage">
      <div ref={stack} className="mask-stack" style={{ width: session.width, height: session.height }}>
        {/* The renderer fills these with tile canvases (layers.ts). */}
        <div ref={photo} className="mask-layer" aria-hidden="true" />
        <div ref={overlay} className="mask-layer" aria-hidden="true" data-testid="mask.overlay" />
        <div ref={stroke} className="mask-layer" aria-hidden="true" />
      </div>
      <canvas
        ref={cursor}
        className="mask-cursor"
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
