/**
 * Draws the editor's layers, once per animation frame and only what changed:
 *
 * - photo: drawn once;
 * - overlay: the committed mask, alpha = mask, in the overlay colour; its
 *   opacity is the canvas's CSS opacity, so the opacity slider repaints
 *   nothing. Redrawn in chunks within a per-frame time budget, so a fill or
 *   an undo on 12 megapixels never stalls a frame;
 * - stroke: the stroke in progress, drawn so that over the overlay it looks
 *   exactly like the mask will after the stroke is committed (brush: the
 *   extra tint; eraser: the photo showing through);
 * - cursor: the brush outline, at screen resolution, on top.
 *
 * The first three are at photo resolution under one CSS transform (the view).
 */
import type { MaskEditorUi } from './editor-store';
import { LAYER_TILE, TiledLayer } from './layers';
import type { Painter } from './painter';
import { compositeValue, type Rect } from './raster';
import { TILE, TileSet } from './tiles';
import { viewTransform, type View } from './viewport';

export interface LayerElements {
  stage: HTMLElement;
  /** The transformed container of the photo-resolution layers. */
  stack: HTMLElement;
  /** Containers the tiled layers fill with their canvases (layers.ts). */
  photo: HTMLElement;
  overlay: HTMLElement;
  stroke: HTMLElement;
  cursor: HTMLCanvasElement;
}

/** Overlay redraw chunks: big enough for few calls, small enough to stop close to the budget; they divide LAYER_TILE. */
const CHUNK = 256;
/** Milliseconds of overlay redraw per frame; the rest waits for the next frame. */
const FRAME_BUDGET_MS = 6;
// Every chunk and stroke tile is drawn into a single layer tile.
if (LAYER_TILE % CHUNK !== 0 || LAYER_TILE % TILE !== 0) throw new Error('mask renderer: CHUNK and TILE must divide LAYER_TILE');

interface Chunk {
  rect: Rect;
  /** A committed stroke: its preview on the stroke layer goes in the same frame. */
  clearStroke: boolean;
}

function rgbOf(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.replace('#', '').padEnd(6, '0').slice(0, 6), 16);
  return Number.isFinite(n) ? [(n >> 16) & 255, (n >> 8) & 255, n & 255] : [255, 0, 0];
}

export class LayerRenderer {
  private readonly photoLayer: TiledLayer;
  private readonly overlayLayer: TiledLayer;
  private readonly strokeLayer: TiledLayer;
  private readonly cursorCtx: CanvasRenderingContext2D;
  private readonly chunkImage: ImageData;
  private readonly tileImage: ImageData;
  private readonly strokeTiles: TileSet;
  private queue: Chunk[] = [];
  private frame = 0;
  private viewDirty = true;
  private cursorDirty = true;
  private pointer: { x: number; y: number } | null = null;
  private color = '';
  private rgb: [number, number, number] = [0, 0, 0];
  private readonly lut = new Uint32Array(256);
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly painter: Painter,
    private readonly photo: ImageBitmap,
    private readonly els: LayerElements,
    private readonly view: () => View,
    private readonly ui: () => MaskEditorUi,
  ) {
    const { width, height } = painter;
    this.photoLayer = new TiledLayer(els.photo, width, height, false);
    this.overlayLayer = new TiledLayer(els.overlay, width, height);
    this.strokeLayer = new TiledLayer(els.stroke, width, height);
    const cursorCtx = els.cursor.getContext('2d');
    if (!cursorCtx) throw new Error('this browser gives no 2D canvas context');
    this.cursorCtx = cursorCtx;
    this.chunkImage = new ImageData(CHUNK, CHUNK);
    this.tileImage = new ImageData(TILE, TILE);
    this.strokeTiles = new TileSet(width, height);
    this.photoLayer.drawImage(photo);
    this.syncStyle();
  }

  /** Applies the overlay colour and opacity; a new colour redraws the overlay. */
  syncStyle(): void {
    const { overlayColor, overlayOpacity } = this.ui();
    this.els.overlay.style.opacity = String(overlayOpacity);
    if (overlayColor !== this.color) {
      this.color = overlayColor;
      this.rgb = rgbOf(overlayColor);
      const [r, g, b] = this.rgb;
      // ImageData is RGBA in memory: on little-endian machines (all that run browsers) that is 0xAABBGGRR.
      for (let m = 0; m < 256; m++) this.lut[m] = ((m << 24) | (b << 16) | (g << 8) | r) >>> 0;
      this.invalidateOverlay([{ x0: 0, y0: 0, x1: this.painter.width, y1: this.painter.height }], false);
    }
    this.cursorDirty = true;
    this.schedule();
  }

  invalidateStroke(rect: Rect): void {
    this.strokeTiles.mark(rect);
    this.schedule();
  }

  invalidateOverlay(rects: Rect[], clearStroke: boolean): void {
    // The committed mask covers the stroke's preview tiles: drawing them as well would only flicker.
    if (clearStroke) this.strokeTiles.take();
    // Chunks follow the CHUNK grid, so each lies inside one layer tile.
    for (const r of rects) {
      for (let y = r.y0 - (r.y0 % CHUNK); y < r.y1; y += CHUNK)
        for (let x = r.x0 - (r.x0 % CHUNK); x < r.x1; x += CHUNK)
          this.queue.push({ rect: { x0: Math.max(x, r.x0), y0: Math.max(y, r.y0), x1: Math.min(r.x1, x + CHUNK), y1: Math.min(r.y1, y + CHUNK) }, clearStroke });
    }
    this.schedule();
  }

  invalidateView(): void {
    this.viewDirty = true;
    this.cursorDirty = true;
    this.schedule();
  }

  /** The pointer in stage pixels, or null when it is off the stage. */
  setPointer(p: { x: number; y: number } | null): void {
    this.pointer = p;
    this.cursorDirty = true;
    this.schedule();
  }

  /** Resolves once every queued redraw has been drawn. */
  whenIdle(): Promise<void> {
    if (this.frame === 0 && this.queue.length === 0 && this.strokeTiles.empty) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  dispose(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = -1;
    for (const w of this.idleWaiters.splice(0)) w();
    this.photoLayer.dispose();
    this.overlayLayer.dispose();
    this.strokeLayer.dispose();
  }

  private schedule(): void {
    if (this.frame === 0) this.frame = requestAnimationFrame(this.draw);
  }

  private readonly draw = (): void => {
    this.frame = 0;
    const start = performance.now();
    if (this.viewDirty) {
      this.viewDirty = false;
      const v = this.view();
      this.els.stack.style.transform = viewTransform(v);
      // Past 2x, show photo pixels as squares: that is when one wants to see them.
      this.els.stack.classList.toggle('is-pixelated', v.scale >= 2);
    }
    for (const rect of this.strokeTiles.take()) this.drawStrokeTile(rect);
    while (this.queue.length > 0 && performance.now() - start < FRAME_BUDGET_MS) this.drawChunk(this.queue.shift()!);
    if (this.cursorDirty) this.drawCursor();
    if (this.queue.length > 0 || !this.strokeTiles.empty) this.schedule();
    else for (const w of this.idleWaiters.splice(0)) w();
  };

  private drawChunk({ rect, clearStroke }: Chunk): void {
    const { mask, width } = this.painter;
    const w = rect.x1 - rect.x0;
    const out = new Uint32Array(this.chunkImage.data.buffer);
    for (let y = rect.y0; y < rect.y1; y++) {
      let i = y * width + rect.x0;
      let j = (y - rect.y0) * CHUNK;
      for (let x = 0; x < w; x++) out[j++] = this.lut[mask[i++]!]!;
    }
    const o = this.overlayLayer.at(rect.x0, rect.y0);
    o.ctx.putImageData(this.chunkImage, rect.x0 - o.ox, rect.y0 - o.oy, 0, 0, w, rect.y1 - rect.y0);
    if (clearStroke) {
      const s = this.strokeLayer.at(rect.x0, rect.y0);
      s.ctx.clearRect(rect.x0 - s.ox, rect.y0 - s.oy, w, rect.y1 - rect.y0);
    }
  }

  private drawStrokeTile(rect: Rect): void {
    const { mask, cov, width } = this.painter;
    const erasing = this.painter.strokeMode === 'erase';
    const o = this.ui().overlayOpacity;
    const [r, g, b] = this.rgb;
    const rgb = (b << 16) | (g << 8) | r;
    const w = rect.x1 - rect.x0;
    const h = rect.y1 - rect.y0;
    const out = new Uint32Array(this.tileImage.data.buffer);
    for (let y = 0; y < h; y++) {
      let i = (rect.y0 + y) * width + rect.x0;
      let j = y * TILE;
      for (let x = 0; x < w; x++, i++, j++) {
        const c = cov[i]!;
        if (c === 0) {
          out[j] = 0;
        } else if (erasing) {
          // The photo at alpha c over the overlay leaves tint o*m*(1 - c/255): the erased mask exactly.
          out[j] = (c << 24) >>> 0;
        } else {
          // Tint alpha a over the overlay's o*m/255 gives o*m'/255 when a = (A' - A) / (1 - A).
          const A = (o * mask[i]!) / 255;
          const a = A >= 1 ? 0 : ((o * compositeValue(mask[i]!, c, 'paint')) / 255 - A) / (1 - A);
          out[j] = ((Math.round(a * 255) << 24) | rgb) >>> 0;
        }
      }
    }
    const { ctx, ox, oy } = this.strokeLayer.at(rect.x0, rect.y0);
    const [x, y] = [rect.x0 - ox, rect.y0 - oy];
    ctx.putImageData(this.tileImage, x, y, 0, 0, w, h);
    if (erasing) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(x, y, w, h);
      // source-in would clear the whole canvas outside the drawn image: the clip keeps it to this tile.
      ctx.clip();
      ctx.globalCompositeOperation = 'source-in';
      ctx.drawImage(this.photo, rect.x0, rect.y0, w, h, x, y, w, h);
      ctx.restore();
    }
  }

  private drawCursor(): void {
    this.cursorDirty = false;
    const canvas = this.els.cursor;
    const dpr = window.devicePixelRatio || 1;
    const cw = Math.round(canvas.clientWidth * dpr);
    const ch = Math.round(canvas.clientHeight * dpr);
    if (canvas.width !== cw || canvas.height !== ch) {
      canvas.width = cw;
      canvas.height = ch;
    }
    const ctx = this.cursorCtx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, cw, ch);
    const ui = this.ui();
    if (!this.pointer || ui.panning) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const radius = Math.max(1, (ui.size / 2) * this.view().scale);
    const { x, y } = this.pointer;
    const circle = (r: number) => {
      ctx.beginPath();
      ctx.arc(x, y, r, 0, Math.PI * 2);
      ctx.stroke();
    };
    // Dark under light: the outline shows on any photo.
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(0, 0, 0, 0.55)';
    circle(radius);
    ctx.lineWidth = 1.25;
    ctx.strokeStyle = ui.tool === 'eraser' ? '#ffffff' : this.color;
    circle(radius);
    if (ui.hardness < 0.95 && radius * ui.hardness > 3) {
      ctx.setLineDash([3, 3]);
      ctx.strokeStyle = 'rgba(255, 255, 255, 0.8)';
      circle(radius * ui.hardness);
      ctx.setLineDash([]);
    }
  }
}
