/**
 * A photo-resolution layer made of 512 px canvases side by side. One
 * 4000x3000 canvas costs a 48 MB copy in the browser's frame commit every
 * time a single pixel of it changes (Chromium measured: 40 to 130 ms per
 * frame when the canvas is not GPU-backed); with tiles only the few the
 * brush touched are copied.
 */

export const LAYER_TILE = 512;

export interface TileContext {
  ctx: CanvasRenderingContext2D;
  /** The tile's top-left corner in photo pixels, and its size. */
  ox: number;
  oy: number;
  w: number;
  h: number;
}

export class TiledLayer {
  private readonly cols: number;
  private readonly tiles: TileContext[] = [];

  constructor(
    private readonly container: HTMLElement,
    readonly width: number,
    readonly height: number,
    alpha = true,
  ) {
    this.cols = Math.ceil(width / LAYER_TILE);
    const rows = Math.ceil(height / LAYER_TILE);
    container.replaceChildren();
    for (let ty = 0; ty < rows; ty++) {
      for (let tx = 0; tx < this.cols; tx++) {
        const ox = tx * LAYER_TILE;
        const oy = ty * LAYER_TILE;
        const canvas = document.createElement('canvas');
        canvas.width = Math.min(LAYER_TILE, width - ox);
        canvas.height = Math.min(LAYER_TILE, height - oy);
        canvas.style.left = `${ox}px`;
        canvas.style.top = `${oy}px`;
        canvas.style.width = `${canvas.width}px`;
        canvas.style.height = `${canvas.height}px`;
        const ctx = canvas.getContext('2d', { alpha });
        if (!ctx) throw new Error('this browser gives no 2D canvas context');
        container.append(canvas);
        this.tiles.push({ ctx, ox, oy, w: canvas.width, h: canvas.height });
      }
    }
  }

  /** The tile holding photo pixel (x, y). Callers keep each drawing inside one tile (chunks align to the tile grid). */
  at(x: number, y: number): TileContext {
    return this.tiles[Math.floor(y / LAYER_TILE) * this.cols + Math.floor(x / LAYER_TILE)]!;
  }

  /** Draws a whole image (the photo) across the tiles. */
  drawImage(source: CanvasImageSource): void {
    for (const t of this.tiles) t.ctx.drawImage(source, t.ox, t.oy, t.w, t.h, 0, 0, t.w, t.h);
  }

  dispose(): void {
    this.container.replaceChildren();
  }
}
