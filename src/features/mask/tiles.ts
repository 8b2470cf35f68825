/**
 * A set of dirty tiles over an image. A diagonal stroke across a 4000x3000
 * photo has a bounding rectangle of the whole photo but touches only a band
 * of tiles: committing, diffing and redrawing per tile keeps the work in
 * proportion to what the brush actually covered.
 */
import { clipRect, type Rect } from './raster';

export const TILE = 128;

export class TileSet {
  readonly cols: number;
  readonly rows: number;
  private readonly marked: Uint8Array;
  private list: number[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
    readonly size = TILE,
  ) {
    this.cols = Math.ceil(width / size);
    this.rows = Math.ceil(height / size);
    this.marked = new Uint8Array(this.cols * this.rows);
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  get count(): number {
    return this.list.length;
  }

  /** Marks every tile that intersects r (r may extend outside the image). */
  mark(r: Rect): void {
    const c = clipRect(r, this.width, this.height);
    if (!c) return;
    const s = this.size;
    for (let ty = Math.floor(c.y0 / s); ty <= Math.floor((c.y1 - 1) / s); ty++) {
      for (let tx = Math.floor(c.x0 / s); tx <= Math.floor((c.x1 - 1) / s); tx++) {
        const k = ty * this.cols + tx;
        if (!this.marked[k]) {
          this.marked[k] = 1;
          this.list.push(k);
        }
      }
    }
  }

  /** Unmarks every tile that intersects r. */
  unmark(r: Rect): void {
    const c = clipRect(r, this.width, this.height);
    if (!c || this.list.length === 0) return;
    const s = this.size;
    let removed = false;
    for (let ty = Math.floor(c.y0 / s); ty <= Math.floor((c.y1 - 1) / s); ty++) {
      for (let tx = Math.floor(c.x0 / s); tx <= Math.floor((c.x1 - 1) / s); tx++) {
        const k = ty * this.cols + tx;
        if (this.marked[k]) {
          this.marked[k] = 0;
          removed = true;
        }
      }
    }
    if (removed) this.list = this.list.filter((k) => this.marked[k] === 1);
  }

  markAll(): void {
    this.mark({ x0: 0, y0: 0, x1: this.width, y1: this.height });
  }

  /** The marked tiles' rectangles (clipped to the image), in marking order; the set is left empty. */
  take(): Rect[] {
    const s = this.size;
    const out = this.list.map((k) => {
      this.marked[k] = 0;
      const tx = k % this.cols;
      const ty = (k - tx) / this.cols;
      return { x0: tx * s, y0: ty * s, x1: Math.min(this.width, (tx + 1) * s), y1: Math.min(this.height, (ty + 1) * s) };
    });
    this.list = [];
    return out;
  }
}
