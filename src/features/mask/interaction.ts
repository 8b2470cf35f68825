/**
 * Pointer input on the top canvas: painting (with pen pressure and every
 * coalesced sample, so fast strokes stay smooth at low frame rates), panning
 * (space + drag, or the middle button) and wheel zoom. Plain DOM listeners:
 * the hot path never goes through React.
 */
import { useMaskEditorStore } from './editor-store';
import type { StrokePoint } from './raster';
import type { MaskSession } from './session';

type Drag = { kind: 'paint'; id: number } | { kind: 'pan'; id: number; x: number; y: number };

/** Pen pressure below this still paints a visible line (a light touch reads as ~0). */
const MIN_PRESSURE = 0.1;

export function attachInteraction(canvas: HTMLCanvasElement, session: MaskSession): () => void {
  let drag: Drag | null = null;
  let origin = canvas.getBoundingClientRect();

  const stagePoint = (e: { clientX: number; clientY: number }) => ({ x: e.clientX - origin.left, y: e.clientY - origin.top });

  const strokePoint = (e: PointerEvent): StrokePoint => {
    const s = stagePoint(e);
    const p = session.stageToImage(s.x, s.y);
    const { size } = useMaskEditorStore.getState();
    // Only pens report real pressure; a mouse reports 0.5 while pressed, which must not halve the brush.
    const pressure = e.pointerType === 'pen' ? Math.max(MIN_PRESSURE, e.pressure || 0) : 1;
    return { x: p.x, y: p.y, radius: (size / 2) * pressure };
  };

  const setPanning = (panning: boolean) => {
    if (useMaskEditorStore.getState().panning !== panning) useMaskEditorStore.setState({ panning });
  };

  const down = (e: PointerEvent) => {
    if (drag) return;
    origin = canvas.getBoundingClientRect();
    const pan = e.button === 1 || (e.button === 0 && session.spaceHeld);
    if (!pan && e.button !== 0) return;
    e.preventDefault();
    canvas.focus({ preventScroll: true });
    canvas.setPointerCapture(e.pointerId);
    session.dragging = true;
    if (pan) {
      drag = { kind: 'pan', id: e.pointerId, x: e.clientX, y: e.clientY };
      setPanning(true);
      return;
    }
    drag = { kind: 'paint', id: e.pointerId };
    const { tool, hardness } = useMaskEditorStore.getState();
    const mode = tool === 'eraser' ? 'erase' : 'paint';
    session.painter.beginStroke(strokePoint(e), mode, hardness, tool === 'eraser' ? 'tool.eraser' : 'tool.brush', tool === 'eraser' ? 'Eraser stroke' : 'Brush stroke');
  };

  const move = (e: PointerEvent) => {
    session.setPointer(stagePoint(e));
    if (!drag || e.pointerId !== drag.id) return;
    if (drag.kind === 'pan') {
      session.panBy(e.clientX - drag.x, e.clientY - drag.y);
      drag.x = e.clientX;
      drag.y = e.clientY;
      return;
    }
    // Every sample since the last event, not just the last one: the stroke follows the pen, not the frame rate.
    const samples = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const s of samples.length > 0 ? samples : [e]) session.painter.extendStroke(strokePoint(s));
  };

  const up = (e: PointerEvent) => {
    if (!drag || e.pointerId !== drag.id) return;
    if (drag.kind === 'paint') {
      if (e.type === 'pointerup') session.painter.extendStroke(strokePoint(e));
      session.endStroke();
    }
    drag = null;
    session.dragging = false;
    setPanning(session.spaceHeld);
    if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
  };

  const leave = () => {
    if (!drag) session.setPointer(null);
  };

  const wheel = (e: WheelEvent) => {
    e.preventDefault();
    origin = canvas.getBoundingClientRect();
    // Lines (Firefox) and pixels (the rest) scroll different amounts per notch.
    const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    session.zoomBy(Math.exp(-dy * 0.0015), stagePoint(e));
  };

  // A middle click would start autoscroll or paste on Linux.
  const aux = (e: MouseEvent) => e.button === 1 && e.preventDefault();

  canvas.addEventListener('pointerdown', down);
  canvas.addEventListener('pointermove', move);
  canvas.addEventListener('pointerup', up);
  canvas.addEventListener('pointercancel', up);
  canvas.addEventListener('pointerleave', leave);
  canvas.addEventListener('wheel', wheel, { passive: false });
  canvas.addEventListener('auxclick', aux);
  canvas.addEventListener('mousedown', aux);
  return () => {
    canvas.removeEventListener('pointerdown', down);
    canvas.removeEventListener('pointermove', move);
    canvas.removeEventListener('pointerup', up);
    canvas.removeEventListener('pointercancel', up);
    canvas.removeEventListener('pointerleave', leave);
    canvas.removeEventListener('wheel', wheel);
    canvas.removeEventListener('auxclick', aux);
    canvas.removeEventListener('mousedown', aux);
    if (drag?.kind === 'paint') session.painter.finishCommit();
    drag = null;
    session.dragging = false;
  };
}
