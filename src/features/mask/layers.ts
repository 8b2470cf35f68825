/**
 * Photo-resolution drawing surfaces kept off screen, drawn through the
 * view's transform onto a stage-sized canvas.
 *
 * Why not photo-sized canvases under a CSS transform: Chromium copies every
 * on-screen canvas into the compositor on each frame in which any of them
 * changed (measured in this project's headless Chromium: about 30 ms per
 * 12 megapixels of canvas, every frame of a stroke). Off-screen canvases are
 * never composited, and the one on-screen canvas is only as big as the stage.
 *
 * Why tiles: drawing a canvas snapshots it, and the next write into it then
 * copies the whole canvas first (copy on write): 48 MB for one 4000x3000
 * canvas, 1 MB for a 512 px tile.
 */
import type { Rect } from './raster';
import type { View } from './viewport';

export const LAYER_TILE = 512;

export interface SurfaceTile {
  canvas: OffscreenCanvas;
  ctx: OffscreenCanvasRenderingContext2D;
  /** The tile's top-left corner in photo pixels, and its size. */
  ox: number;
  oy: number;
  w: number;
  h: number;
}

/** Maps photo coordinates to device pixels of the screen canvases, rounded so adjacent tiles share edges exactly. */
export class ScreenMap {
  constructor(
    readonly view: View,
    readonly dpr: number,
  ) {}

  x(px: number): number {
    return Math.round((px * this.view.scale + this.view.tx) * this.dpr);
  }

  y(py: number): number {
    return Math.round((py * this.view.scale + this.view.ty) * this.dpr);
  }
}

export class TiledSurface {
  private readonly cols: number;
  readonly tiles: SurfaceTile[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.cols = Math.ceil(width / LAYER_TILE);
    for (let oy = 0; oy < height; oy += LAYER_TILE) {
      for (let ox = 0; ox < width; ox += LAYER_TILE) {
        const canvas = new OffscreenCanvas(Math.min(LAYER_TILE, width - ox), Math.min(LAYER_TILE, height - oy));
        const ctx = canvas.getContext('2d');
        if (!ctx) throw new Error('this browser gives no 2D canvas context');
        this.tiles.push({ canvas, ctx, ox, oy, w: canvas.width, h: canvas.height });
      }
    }
  }

  /** The tile holding photo pixel (x, y). Callers keep each drawing inside one tile (their grids divide LAYER_TILE). */
  at(x: number, y: number): SurfaceTile {
    return this.tiles[Math.floor(y / LAYER_TILE) * this.cols + Math.floor(x / LAYER_TILE)]!;
  }

  /**
   * Draws every tile that reaches into the screen rect `clip` (device
   * pixels), each whole onto its rounded screen rectangle: under the
   * caller's clip a partial redraw samples exactly as a full one, and
   * adjacent tiles share their edges, so no seams appear.
   */
  draw(ctx: CanvasRenderingContext2D, map: ScreenMap, clip: Rect): void {
    for (const t of this.tiles) {
      const dx0 = map.x(t.ox);
      const dy0 = map.y(t.oy);
      const dx1 = map.x(t.ox + t.w);
      const dy1 = map.y(t.oy + t.h);
      if (dx1 <= clip.x0 || dx0 >= clip.x1 || dy1 <= clip.y0 || dy0 >= clip.y1) continue;
      ctx.drawImage(t.canvas, 0, 0, t.w, t.h, dx0, dy0, dx1 - dx0, dy1 - dy0);
    }
  }
}

/** Sizes a screen canvas to its CSS box at the device pixel ratio; returns whether it changed (its pixels are then gone). */
export function fitCanvasToBox(canvas: HTMLCanvasElement, dpr: number): boolean {
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width === w && canvas.height === h) return false;
  canvas.width = w;
  canvas.height = h;
  return true;
}
