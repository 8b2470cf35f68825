/**
 * The brush outline: a canvas just big enough for the brush, moved by a CSS
 * transform as the pointer moves. It is redrawn only when the brush or the
 * zoom changes, and following the pointer re-rasterises nothing.
 */
import type { MaskEditorUi } from './editor-store';

/** Room around the circle for the outline's width. */
const PAD = 3;

export function placeCursor(ctx: CanvasRenderingContext2D, dpr: number, pointer: { x: number; y: number } | null, scale: number, ui: MaskEditorUi): void {
  const canvas = ctx.canvas;
  if (!pointer || ui.panning) {
    canvas.style.visibility = 'hidden';
    return;
  }
  const radius = Math.max(1, (ui.size / 2) * scale);
  const side = Math.ceil(2 * (radius + PAD));
  const key = `${side}|${dpr}|${radius}|${ui.hardness}|${ui.tool}|${ui.overlayColor}`;
  if (canvas.dataset.key !== key) {
    canvas.dataset.key = key;
    canvas.width = Math.ceil(side * dpr);
    canvas.height = Math.ceil(side * dpr);
    canvas.style.width = `${side}px`;
    canvas.style.height = `${side}px`;
    drawOutline(ctx, dpr, side / 2, radius, ui);
  }
  canvas.style.transform = `translate(${pointer.x - side / 2}px, ${pointer.y - side / 2}px)`;
  canvas.style.visibility = 'visible';
}

function drawOutline(ctx: CanvasRenderingContext2D, dpr: number, centre: number, radius: number, ui: MaskEditorUi): void {
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, 2 * centre, 2 * centre);
  const circle = (r: number) => {
    ctx.beginPath();
    ctx.arc(centre, centre, r, 0, Math.PI * 2);
    ctx.stroke();
  };
  // Dark under light: the outline shows on any photo.
  ctx.lineWidth = 3;
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.55)';
  circle(radius);
  ctx.lineWidth = 1.25;
  ctx.strokeStyle = ui.tool === 'eraser' ? '#ffffff' : ui.overlayColor;
  circle(radius);
  // The solid core of a soft brush, dashed.
  if (ui.hardness < 0.95 && radius * ui.hardness > 3) {
    ctx.setLineDash([3, 3]);
    ctx.strokeStyle = 'rgba(255, 255, 255, 0.8)';
    circle(radius * ui.hardness);
    ctx.setLineDash([]);
  }
}
