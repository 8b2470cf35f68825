/**
 * The view of the photo inside the stage: a scale and a translation, the
 * transform through which the photo-resolution layers are drawn onto the
 * screen canvases. Stage coordinates are CSS pixels from the stage's
 * top-left corner: stage = image * scale + t.
 */

export interface View {
  scale: number;
  tx: number;
  ty: number;
}

export interface Size {
  width: number;
  height: number;
}

/** The most a view magnifies (pixels are big squares by then). */
export const MAX_SCALE = 32;
/** Room kept around the photo when it is fitted to the stage. */
const FIT_MARGIN = 16;

export function fitScale(image: Size, stage: Size): number {
  const w = Math.max(1, stage.width - 2 * FIT_MARGIN);
  const h = Math.max(1, stage.height - 2 * FIT_MARGIN);
  return Math.min(w / image.width, h / image.height, MAX_SCALE);
}

/** The least a view shrinks: a quarter of the fitted size, and never below 1/64. */
export function minScale(image: Size, stage: Size): number {
  return Math.max(1 / 64, Math.min(1, fitScale(image, stage) / 4));
}

/** The whole photo, centred. */
export function fitView(image: Size, stage: Size): View {
  const scale = fitScale(image, stage);
  return centred(image, stage, scale);
}

/** One photo pixel per CSS pixel, centred. */
export function actualSizeView(image: Size, stage: Size): View {
  return centred(image, stage, 1);
}

function centred(image: Size, stage: Size, scale: number): View {
  return { scale, tx: (stage.width - image.width * scale) / 2, ty: (stage.height - image.height * scale) / 2 };
}

/** Zooms by `factor` keeping the stage point (px, py) over the same photo point; the scale is clamped. */
export function zoomAt(view: View, factor: number, px: number, py: number, image: Size, stage: Size): View {
  const scale = Math.min(MAX_SCALE, Math.max(minScale(image, stage), view.scale * factor));
  const k = scale / view.scale;
  return { scale, tx: px - (px - view.tx) * k, ty: py - (py - view.ty) * k };
}

/**
 * Moves the view by (dx, dy) stage pixels, keeping at least `keep` pixels of
 * the photo on the stage so it can never be lost off-screen.
 */
export function panBy(view: View, dx: number, dy: number, image: Size, stage: Size, keep = 48): View {
  const w = image.width * view.scale;
  const h = image.height * view.scale;
  const clamp = (v: number, size: number, room: number) => Math.min(room - Math.min(keep, size), Math.max(Math.min(keep, size) - size, v));
  return { scale: view.scale, tx: clamp(view.tx + dx, w, stage.width), ty: clamp(view.ty + dy, h, stage.height) };
}

export function stageToImage(view: View, sx: number, sy: number): { x: number; y: number } {
  return { x: (sx - view.tx) / view.scale, y: (sy - view.ty) / view.scale };
}

export function imageToStage(view: View, x: number, y: number): { x: number; y: number } {
  return { x: x * view.scale + view.tx, y: y * view.scale + view.ty };
}
