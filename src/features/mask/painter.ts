/**
 * The mask painter's model: the mask at photo resolution, the coverage of the
 * stroke in progress, and the undo history. No DOM: the session wires its
 * notifications to the renderer, the saver and the UI store, and unit tests
 * drive it directly.
 */
import { applyPatch, History, makePatch, type HistoryLimits, type Patch, type PatchPiece } from './history';
import { commitCoverage, stampSegment, type PaintMode, type Rect, type StrokePoint } from './raster';
import { encodeRuns, uniformRuns, xorSpan, type EncodedRuns } from './runs';
import { TILE, TileSet } from './tiles';

export interface PainterListener {
  /** The coverage of the stroke in progress changed inside rect. */
  onStroke(rect: Rect): void;
  /** The mask changed inside these rects; fromStroke: a stroke was committed there (its preview can go). */
  onMask(rects: Rect[], fromStroke: boolean): void;
  /** The version or the undo/redo state changed. */
  onHistory(): void;
}

interface ActiveStroke {
  mode: PaintMode;
  hardness: number;
  last: StrokePoint;
  actionId: string;
  label: string;
}

export class Painter {
  /** Coverage of the stroke in progress (0 everywhere between strokes). */
  readonly cov: Uint8Array;
  readonly history: History;
  /** Increments with every change of the mask (the saver saves when it moved). */
  version = 0;
  private stroke: ActiveStroke | null = null;
  private readonly strokeTiles: TileSet;
  private readonly xor = new Uint8Array(TILE * TILE);

  constructor(
    readonly mask: Uint8Array,
    readonly width: number,
    readonly height: number,
    private readonly listener: PainterListener,
    limits?: HistoryLimits,
  ) {
    if (mask.length !== width * height) throw new Error(`mask of ${mask.length} bytes for ${width}x${height}`);
    this.cov = new Uint8Array(width * height);
    this.history = new History(limits);
    this.strokeTiles = new TileSet(width, height);
  }

  get strokeMode(): PaintMode | null {
    return this.stroke?.mode ?? null;
  }

  beginStroke(p: StrokePoint, mode: PaintMode, hardness: number, actionId: string, label: string): void {
    if (this.stroke) this.endStroke();
    this.stroke = { mode, hardness, last: p, actionId, label };
    this.stamp(p, p);
  }

  extendStroke(p: StrokePoint): void {
    const s = this.stroke;
    if (!s) return;
    const from = s.last;
    if (Math.hypot(p.x - from.x, p.y - from.y) < 0.25 && Math.abs(p.radius - from.radius) < 0.25) return;
    this.stamp(from, p);
    s.last = p;
  }

  private stamp(a: StrokePoint, b: StrokePoint): void {
    // Tiles are marked per band of rows the capsule covers: a diagonal stroke's bounding boxes would mark many it never touches.
    stampSegment(this.cov, this.width, this.height, a, b, this.stroke!.hardness, this.onBand);
  }

  private readonly onBand = (r: Rect): void => {
    this.strokeTiles.mark(r);
    this.listener.onStroke(r);
  };

  /** Composites the stroke in progress into the mask as one undo step. Returns whether the mask changed. */
  endStroke(): boolean {
    const s = this.stroke;
    if (!s) return false;
    this.stroke = null;
    const rects = this.strokeTiles.take();
    const pieces: PatchPiece[] = [];
    for (const rect of rects) {
      const area = (rect.x1 - rect.x0) * (rect.y1 - rect.y0);
      const xor = this.xor.subarray(0, area);
      if (!commitCoverage(this.mask, this.cov, this.width, rect, s.mode, xor)) continue;
      pieces.push({ rect, runs: encodeRuns(xor).runs });
    }
    if (pieces.length > 0) this.record(makePatch(s.actionId, s.label, pieces));
    this.listener.onMask(rects, true);
    if (pieces.length > 0) this.listener.onHistory();
    return pieces.length > 0;
  }

  /** Sets every pixel to 255. */
  fillAll(actionId: string, label: string): boolean {
    return this.wholeImage(actionId, label, () => encodeRuns(this.mask, 255), () => this.mask.fill(255));
  }

  /** Sets every pixel to 0. */
  clearAll(actionId: string, label: string): boolean {
    return this.wholeImage(actionId, label, () => encodeRuns(this.mask), () => this.mask.fill(0));
  }

  /** m -> 255 - m everywhere (its diff is a single run, whatever the mask holds). */
  invertAll(actionId: string, label: string): boolean {
    const n = this.mask.length;
    return this.wholeImage(
      actionId,
      label,
      () => ({ runs: uniformRuns(255, n), nonZero: n > 0 }),
      () => xorSpan(this.mask, 0, n, 255),
    );
  }

  private wholeImage(actionId: string, label: string, diff: () => EncodedRuns, apply: () => void): boolean {
    this.endStroke();
    const { runs, nonZero } = diff();
    if (!nonZero) return false;
    apply();
    const rect = { x0: 0, y0: 0, x1: this.width, y1: this.height };
    this.record(makePatch(actionId, label, [{ rect, runs }]));
    this.listener.onMask([rect], false);
    this.listener.onHistory();
    return true;
  }

  undo(): Patch | undefined {
    this.endStroke();
    return this.toggle(this.history.undo());
  }

  redo(): Patch | undefined {
    this.endStroke();
    return this.toggle(this.history.redo());
  }

  private toggle(patch: Patch | undefined): Patch | undefined {
    if (!patch) return undefined;
    applyPatch(this.mask, this.width, patch);
    this.version++;
    this.listener.onMask(
      patch.pieces.map((p) => p.rect),
      false,
    );
    this.listener.onHistory();
    return patch;
  }

  private record(patch: Patch): void {
    this.history.push(patch);
    this.version++;
  }
}
