/**
 * Undo history of the mask painter. Each step is a patch: the run-coded XOR
 * diff of the pixels it changed, per dirty tile of a stroke or one
 * full-image piece for a fill. Applying a patch toggles the mask between the
 * states before and after the step, so undo and redo are the same operation
 * and a step costs bytes in proportion to what it changed, not to the mask.
 */
import type { Rect } from './raster';
import { encodeRuns, xorRunsInto } from './runs';

export interface PatchPiece {
  rect: Rect;
  /** before ^ after over the rect, row-major, run-coded (runs.ts). */
  runs: Uint8Array;
}

export interface Patch {
  /** The action that made the step (its registry id), shown as "Undo <label>". */
  actionId: string;
  label: string;
  pieces: PatchPiece[];
  bytes: number;
}

export function makePatch(actionId: string, label: string, pieces: PatchPiece[]): Patch {
  return { actionId, label, pieces, bytes: pieces.reduce((n, p) => n + p.runs.byteLength + 32, 64) };
}

/** The patch for a change of the whole mask from `before` to `after` (tests and small masks). */
export function diffPatch(actionId: string, label: string, before: Uint8Array, after: Uint8Array, width: number, height: number): Patch | null {
  const xor = new Uint8Array(before.length);
  for (let i = 0; i < xor.length; i++) xor[i] = before[i]! ^ after[i]!;
  const { runs, nonZero } = encodeRuns(xor);
  return nonZero ? makePatch(actionId, label, [{ rect: { x0: 0, y0: 0, x1: width, y1: height }, runs }]) : null;
}

/** Toggles the mask across the patch (undo and redo alike). */
export function applyPatch(mask: Uint8Array, width: number, patch: Patch): void {
  for (const piece of patch.pieces) xorRunsInto(mask, width, piece.rect, piece.runs);
}

export interface HistoryLimits {
  /** Steps kept; the oldest go first. */
  maxSteps: number;
  /** Bytes of patches kept (undo and redo together); the oldest undo steps go first. */
  maxBytes: number;
}

export const DEFAULT_HISTORY_LIMITS: Readonly<HistoryLimits> = Object.freeze({ maxSteps: 200, maxBytes: 128 * 1024 * 1024 });

export class History {
  private done: Patch[] = [];
  private undone: Patch[] = [];

  constructor(private readonly limits: HistoryLimits = DEFAULT_HISTORY_LIMITS) {}

  /** Records a new step; the redo branch is dropped, as in every editor. */
  push(patch: Patch): void {
    this.done.push(patch);
    this.undone = [];
    this.trim();
  }

  /** The step to apply to undo, moved to the redo stack; undefined when there is none. */
  undo(): Patch | undefined {
    const p = this.done.pop();
    if (p) this.undone.push(p);
    return p;
  }

  redo(): Patch | undefined {
    const p = this.undone.pop();
    if (p) this.done.push(p);
    return p;
  }

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  get undoLabel(): string | null {
    return this.done.at(-1)?.label ?? null;
  }

  get redoLabel(): string | null {
    return this.undone.at(-1)?.label ?? null;
  }

  get steps(): number {
    return this.done.length;
  }

  get bytes(): number {
    let n = 0;
    for (const p of this.done) n += p.bytes;
    for (const p of this.undone) n += p.bytes;
    return n;
  }

  private trim(): void {
    // Always keep the newest step, even when it alone exceeds the byte budget.
    while (this.done.length > 1 && (this.done.length > this.limits.maxSteps || this.bytes > this.limits.maxBytes)) this.done.shift();
  }
}
