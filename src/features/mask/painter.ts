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
  /** The mask changed inside these rects; fromStroke: a stroke was committed there (its preview can go). Also called with no rects. */
  onMask(rects: Rect[], fromStroke: boolean): void;
  /** The version or the undo/redo state changed. */
  onHistory(): void;
}

interface PendingCommit {
  mode: PaintMode;
  actionId: string;
  label: string;
  /** Tiles still to composite. */
  rects: Rect[];
  pieces: PatchPiece[];
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
  private commit: PendingCommit | null = null;
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
    this.finishCommit();
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

  /**
   * Ends the stroke: its coverage is composited into the mask as one undo
   * step, tile by tile. With a budget, only as many tiles as fit in it are
   * done now and the rest by continueCommit() (a long stroke on a big photo
   * is a few million pixels: never one long task); anything that reads or
   * changes the mask first calls finishCommit().
   */
  endStroke(budgetMs = Infinity): void {
    const s = this.stroke;
    if (!s) return;
    this.stroke = null;
    this.commit = { mode: s.mode, actionId: s.actionId, label: s.label, rects: this.strokeTiles.take(), pieces: [] };
    this.continueCommit(budgetMs);
  }

  /** Whether a stroke is still being composited (continueCommit has work). */
  get committing(): boolean {
    return this.commit !== null;
  }

  /** Composites more of the ended stroke, for about budgetMs; returns whether it is done. */
  continueCommit(budgetMs = Infinity): boolean {
    const c = this.commit;
    if (!c) return true;
    const start = performance.now();
    const done: Rect[] = [];
    // At least one tile per call, so any budget makes progress.
    while (c.rects.length > 0 && (done.length === 0 || performance.now() - start < budgetMs)) {
      const rect = c.rects.pop()!;
      done.push(rect);
      const xor = this.xor.subarray(0, (rect.x1 - rect.x0) * (rect.y1 - rect.y0));
      if (commitCoverage(this.mask, this.cov, this.width, rect, c.mode, xor)) c.pieces.push({ rect, runs: encodeRuns(xor).runs });
    }
    if (c.rects.length === 0) {
      this.commit = null;
      if (c.pieces.length > 0) this.record(makePatch(c.actionId, c.label, c.pieces));
    }
    this.listener.onMask(done, true);
    if (!this.commit && c.pieces.length > 0) this.listener.onHistory();
    return this.commit === null;
  }

  /** Ends the stroke in progress and composites all of it now. */
  finishCommit(): void {
    this.endStroke();
    this.continueCommit();
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
    this.finishCommit();
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
    this.finishCommit();
    return this.toggle(this.history.undo());
  }

  redo(): Patch | undefined {
    this.finishCommit();
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
