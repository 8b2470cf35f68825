/**
 * Draws the editor's layers, once per animation frame and only what changed.
 * Three layers at photo resolution are composited, inside the dirty region
 * only, onto the stage-sized view canvas through the view's transform (the
 * static layers; as excalidraw splits static and interactive canvases):
 *
 * - photo: the decoded photo;
 * - overlay: the committed mask, alpha = mask, in the overlay colour, drawn
 *   at the overlay opacity. Its surface is refilled from the mask in chunks
 *   within a per-frame time budget, so a fill or an undo on 12 megapixels
 *   never stalls a frame;
 * - stroke: the stroke in progress, drawn so that over the overlay it looks
 *   exactly like the mask will after the stroke is committed (brush: the
 *   extra tint; eraser: the photo showing through).
 *
 * The cursor (the brush outline) is its own small canvas on top, moved by a
 * CSS transform: following the pointer redraws nothing else.
 */
import { fillStrokePreview } from './composite';
import { placeCursor } from './cursor';
import type { MaskEditorUi } from './editor-store';
import { fitCanvasToBox, LAYER_TILE, ScreenMap, TiledSurface } from './layers';
import type { Painter } from './painter';
import { unionRect, type Rect } from './raster';
import { TILE, TileSet } from './tiles';
import type { View } from './viewport';

export interface LayerElements {
  stage: HTMLElement;
  /** The stage-sized canvas the layers are composited onto. */
  view: HTMLCanvasElement;
  /** The brush outline, sized to the brush. */
  cursor: HTMLCanvasElement;
}

/** Overlay refill chunks: few calls, yet the budget check comes often. */
const CHUNK = 256;
/** Milliseconds of overlay refill per frame; the rest waits for the next frame. */
const FRAME_BUDGET_MS = 6;
// Every chunk and stroke tile is drawn into a single surface tile.
if (LAYER_TILE % CHUNK !== 0 || LAYER_TILE % TILE !== 0) throw new Error('mask renderer: CHUNK and TILE must divide LAYER_TILE');

interface Chunk {
  rect: Rect;
  /** A committed stroke: its preview goes in the same frame. */
  clearStroke: boolean;
}

function context(c: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = c.getContext('2d');
  if (!ctx) throw new Error('this browser gives no 2D canvas context');
  return ctx;
}

function rgbOf(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.replace('#', '').padEnd(6, '0').slice(0, 6), 16);
  return Number.isFinite(n) ? [(n >> 16) & 255, (n >> 8) & 255, n & 255] : [255, 0, 0];
}

export class LayerRenderer {
  private readonly viewCtx: CanvasRenderingContext2D;
  private readonly cursorCtx: CanvasRenderingContext2D;
  private readonly overlaySurface: TiledSurface;
  private readonly strokeSurface: TiledSurface;
  private readonly chunkImage = new ImageData(CHUNK, CHUNK);
  private readonly tileImage = new ImageData(TILE, TILE);
  private readonly strokeTiles: TileSet;
  private queue: Chunk[] = [];
  private frame = 0;
  private viewDirty = true;
  private cursorDirty = true;
  /** Photo pixels whose composite must be redrawn. */
  private dirty: Rect | null = null;
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
    this.viewCtx = context(els.view);
    this.cursorCtx = context(els.cursor);
    this.overlaySurface = new TiledSurface(painter.width, painter.height);
    this.strokeSurface = new TiledSurface(painter.width, painter.height);
    this.strokeTiles = new TileSet(painter.width, painter.height);
    this.syncStyle();
  }

  /** Applies the overlay colour and opacity; a new colour refills the overlay. */
  syncStyle(): void {
    const { overlayColor } = this.ui();
    this.viewDirty = true;
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
    // Committed tiles: the overlay takes over from the preview there, in the same frame; drawing the preview too would flicker.
    if (clearStroke) for (const r of rects) this.strokeTiles.unmark(r);
    // Chunks follow the CHUNK grid, so each lies inside one surface tile.
    for (const r of rects) {
      for (let y = r.y0 - (r.y0 % CHUNK); y < r.y1; y += CHUNK)
        for (let x = r.x0 - (r.x0 % CHUNK); x < r.x1; x += CHUNK)
          this.queue.push({ rect: { x0: Math.max(x, r.x0), y0: Math.max(y, r.y0), x1: Math.min(r.x1, x + CHUNK), y1: Math.min(r.y1, y + CHUNK) }, clearStroke });
    }
    this.schedule();
  }

  /** The view or the stage's size changed: every layer is redrawn. */
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

  /** Resolves once every queued redraw is on screen. */
  whenIdle(): Promise<void> {
    if (this.frame === 0 && this.queue.length === 0 && this.strokeTiles.empty) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  dispose(): void {
    if (this.frame > 0) cancelAnimationFrame(this.frame);
    this.frame = -1;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private schedule(): void {
    if (this.frame === 0) this.frame = requestAnimationFrame(this.draw);
  }

  private readonly draw = (): void => {
    this.frame = 0;
    const start = performance.now();
    const dpr = window.devicePixelRatio || 1;
    if (fitCanvasToBox(this.els.view, dpr)) this.viewDirty = true;
    const map = new ScreenMap(this.view(), dpr);

    for (const rect of this.strokeTiles.take()) this.fillStrokeTile(rect);
    while (this.queue.length > 0 && performance.now() - start < FRAME_BUDGET_MS) this.fillChunk(this.queue.shift()!);
    if (this.viewDirty) this.composite(map, null);
    else if (this.dirty) this.composite(map, this.dirty);
    this.viewDirty = false;
    this.dirty = null;
    if (this.cursorDirty) {
      this.cursorDirty = false;
      placeCursor(this.cursorCtx, dpr, this.pointer, map.view.scale, this.ui());
    }
    if (this.queue.length > 0 || !this.strokeTiles.empty) this.schedule();
    else for (const w of this.idleWaiters.splice(0)) w();
  };

  /** Redraws photo, overlay and stroke where photo rect r shows (everywhere when null). */
  private composite(map: ScreenMap, r: Rect | null): void {
    const ctx = this.viewCtx;
    const { width: cw, height: ch } = ctx.canvas;
    const clip = {
      x0: r ? Math.max(0, map.x(r.x0) - 1) : 0,
      y0: r ? Math.max(0, map.y(r.y0) - 1) : 0,
      x1: r ? Math.min(cw, map.x(r.x1) + 1) : cw,
      y1: r ? Math.min(ch, map.y(r.y1) + 1) : ch,
    };
    if (clip.x1 <= clip.x0 || clip.y1 <= clip.y0) return;
    ctx.save();
    ctx.beginPath();
    ctx.rect(clip.x0, clip.y0, clip.x1 - clip.x0, clip.y1 - clip.y0);
    ctx.clip();
    ctx.clearRect(clip.x0, clip.y0, clip.x1 - clip.x0, clip.y1 - clip.y0);
    // Past 2x, photo pixels show as squares: that is when one wants to see them.
    ctx.imageSmoothingEnabled = map.view.scale < 2;
    ctx.drawImage(this.photo, map.x(0), map.y(0), map.x(this.painter.width) - map.x(0), map.y(this.painter.height) - map.y(0));
    ctx.globalAlpha = this.ui().overlayOpacity;
    this.overlaySurface.draw(ctx, map, clip);
    ctx.globalAlpha = 1;
    this.strokeSurface.draw(ctx, map, clip);
    ctx.restore();
  }

  /** Refills one chunk of the overlay surface from the mask. */
  private fillChunk({ rect, clearStroke }: Chunk): void {
    const { mask, width } = this.painter;
    const w = rect.x1 - rect.x0;
    const h = rect.y1 - rect.y0;
    const out = new Uint32Array(this.chunkImage.data.buffer);
    for (let y = rect.y0; y < rect.y1; y++) {
      let i = y * width + rect.x0;
      let j = (y - rect.y0) * CHUNK;
      for (let x = 0; x < w; x++) out[j++] = this.lut[mask[i++]!]!;
    }
    const o = this.overlaySurface.at(rect.x0, rect.y0);
    o.ctx.putImageData(this.chunkImage, rect.x0 - o.ox, rect.y0 - o.oy, 0, 0, w, h);
    this.dirty = unionRect(this.dirty, rect);
    if (clearStroke) {
      const s = this.strokeSurface.at(rect.x0, rect.y0);
      s.ctx.clearRect(rect.x0 - s.ox, rect.y0 - s.oy, w, h);
    }
  }

  /** Redraws one tile of the stroke surface from the coverage of the stroke in progress (composite.ts). */
  private fillStrokeTile(rect: Rect): void {
    const { mask, cov, width } = this.painter;
    const erasing = this.painter.strokeMode === 'erase';
    const [r, g, b] = this.rgb;
    const w = rect.x1 - rect.x0;
    const h = rect.y1 - rect.y0;
    fillStrokePreview(new Uint32Array(this.tileImage.data.buffer), TILE, mask, cov, width, rect, erasing ? 'erase' : 'paint', this.ui().overlayOpacity, (b << 16) | (g << 8) | r);
    const { ctx, ox, oy } = this.strokeSurface.at(rect.x0, rect.y0);
    const [x, y] = [rect.x0 - ox, rect.y0 - oy];
    ctx.putImageData(this.tileImage, x, y, 0, 0, w, h);
    if (erasing) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(x, y, w, h);
      // source-in would clear the whole tile outside the drawn image: the clip keeps it to this rect.
      ctx.clip();
      ctx.globalCompositeOperation = 'source-in';
      ctx.drawImage(this.photo, rect.x0, rect.y0, w, h, x, y, w, h);
      ctx.restore();
    }
    this.dirty = unionRect(this.dirty, rect);
  }
}
