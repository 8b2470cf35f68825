/**
 * Saving the painted mask: its bytes become a content-addressed blob and the
 * subject's image points at it (actions.setMask). Saves are debounced, since
 * a 12-megapixel mask is 12 MB per save, but never lost: flush() saves now
 * and is called on close, when the page is hidden and before unload. Saves
 * run one after another, so an older save can never land after a newer one.
 *
 * A mask with nothing painted is saved as no mask (null): for the engine that
 * means the whole photo is the subject, which is what an empty editor shows.
 */
import { contentId, putBlob } from '../../state/storage';
import { useSubjectsStore, type MaskRef } from '../../state/subjects-store';
import type { SaveState } from './editor-store';

export interface MaskSource {
  readonly width: number;
  readonly height: number;
  /** Increments with each change. */
  readonly version: number;
  /** The live mask bytes (snapshotted into a Blob when a save starts, as painting goes on meanwhile). */
  readonly mask: Uint8Array;
  /** Whether nothing is painted (answered from a small copy: scanning 12 MB per save is wasted time). */
  isEmpty(): boolean;
}

/** Quiet time after the last change before a save starts. */
export const SAVE_DELAY_MS = 400;

export class MaskSaver {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private chain: Promise<void> = Promise.resolve();
  private savedVersion: number;
  private queuedVersion: number;
  private lastRef: MaskRef | null;

  constructor(
    private readonly subjectId: string,
    private readonly imageId: string,
    private readonly source: MaskSource,
    initial: MaskRef | null,
    private readonly onState: (s: SaveState) => void,
  ) {
    this.savedVersion = source.version;
    this.queuedVersion = source.version;
    this.lastRef = initial;
  }

  /** Whether a change is not in storage yet (pending or being written). */
  get unsaved(): boolean {
    return this.savedVersion !== this.source.version;
  }

  /** The mask changed: save after a quiet moment. */
  schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.onState({ kind: 'pending' });
    this.timer = setTimeout(() => void this.flush(), SAVE_DELAY_MS);
  }

  /** Saves the current mask now (if it changed); resolves when it is stored, rejects if storage failed. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const version = this.source.version;
    if (version === this.queuedVersion) return this.chain;
    this.queuedVersion = version;
    // The Blob copies the bytes now, synchronously: strokes that follow must not leak into this save.
    const snapshot = this.source.isEmpty() ? null : new Blob([this.source.mask as Uint8Array<ArrayBuffer>]);
    const run = this.chain.then(() => this.write(snapshot, version));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async write(snapshot: Blob | null, version: number): Promise<void> {
    this.onState({ kind: 'saving' });
    try {
      let ref: MaskRef | null = null;
      if (snapshot) {
        const id = await contentId(snapshot);
        await putBlob(id, snapshot);
        ref = { id, width: this.source.width, height: this.source.height };
      }
      if (ref?.id !== this.lastRef?.id) useSubjectsStore.getState().actions.setMask(this.subjectId, this.imageId, ref);
      this.lastRef = ref;
      this.savedVersion = version;
      this.onState(this.unsaved ? { kind: 'pending' } : { kind: 'saved' });
    } catch (e) {
      // The next change (or flush) tries again from the then-current mask.
      this.queuedVersion = -1;
      this.onState({ kind: 'error', message: (e as Error).message });
      throw e;
    }
  }
}
