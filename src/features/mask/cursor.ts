/** The brush outline on the cursor canvas (screen resolution, redrawn as the pointer moves). */
import type { MaskEditorUi } from './editor-store';

/** Clears the canvas and, unless panning or off the stage, draws the brush at (x, y) stage pixels. */
export function drawCursor(ctx: CanvasRenderingContext2D, dpr: number, pointer: { x: number; y: number } | null, scale: number, ui: MaskEditorUi): void {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  if (!pointer || ui.panning) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const radius = Math.max(1, (ui.size / 2) * scale);
  const circle = (r: number) => {
    ctx.beginPath();
    ctx.arc(pointer.x, pointer.y, r, 0, Math.PI * 2);
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
