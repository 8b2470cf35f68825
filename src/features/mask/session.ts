/**
 * One open mask editor: the photo, the painter, the saver, the view and (once
 * the canvases exist) the renderer, wired together. React only mounts the
 * canvases and renders the controls; painting never goes through React state.
 */
import { useSubjectsStore, type SubjectImage } from '../../state/subjects-store';
import type { MaskEditorApi } from './actions';
import { fitBrushTo, useMaskEditorStore } from './editor-store';
import { attachInteraction } from './interaction';
import { Painter } from './painter';
import { MaskThumb } from './preview';
import type { Rect } from './raster';
import { LayerRenderer, type LayerElements } from './renderer';
import { MaskSaver } from './saver';
import { actualSizeView, fitView, imageToStage, panBy, stageToImage, zoomAt, type Size, type View } from './viewport';

/** Milliseconds of stroke commit per task (painter.ts continueCommit). */
const COMMIT_SLICE_MS = 8;

export class MaskSession implements MaskEditorApi {
  readonly painter: Painter;
  readonly saver: MaskSaver;
  /** The downscaled mask the settings preview reads. */
  readonly thumb: MaskThumb;
  /** True while the space bar is held: dragging pans instead of painting. */
  spaceHeld = false;
  /** True while a paint or pan drag is under way (interaction.ts sets it). */
  dragging = false;
  private renderer: LayerRenderer | null = null;
  private stage: HTMLElement | null = null;
  private stageSize: Size = { width: 1, height: 1 };
  private view: View = { scale: 1, tx: 0, ty: 0 };
  /** The view follows the stage's size until the person zooms or pans. */
  private fitted = true;
  private readonly maskListeners = new Set<() => void>();
  /** The pointer over the stage (stage pixels), null when off it. */
  private pointer: { x: number; y: number } | null = null;
  private commitTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    readonly subjectId: string,
    readonly image: SubjectImage,
    readonly photo: ImageBitmap,
    /** The photo at the thumb's size, for the settings preview. */
    readonly photoSmall: ImageData,
    mask: Uint8Array,
    /** A problem found while loading (a missing saved mask), shown to the person. */
    readonly warning: string | null,
  ) {
    const { width, height } = photo;
    this.painter = new Painter(mask, width, height, {
      onStroke: (rect) => this.renderer?.invalidateStroke(rect),
      onMask: (rects, fromStroke) => this.maskChanged(rects, fromStroke),
      onHistory: () => this.historyChanged(),
    });
    this.thumb = new MaskThumb(width, height);
    this.thumb.update(mask);
    const { painter, thumb } = this;
    const source = {
      width,
      height,
      mask,
      get version() {
        return painter.version;
      },
      // The thumb is current after every change and 1/50 the size: no 12 MB scan per save.
      isEmpty: () => thumb.empty,
    };
    this.saver = new MaskSaver(subjectId, image.id, source, image.mask, (save) => useMaskEditorStore.setState({ save }));
    fitBrushTo(width, height);
    useMaskEditorStore.setState({ save: { kind: 'saved' }, panning: false });
    this.historyChanged();
  }

  get width(): number {
    return this.painter.width;
  }

  get height(): number {
    return this.painter.height;
  }

  /** Starts drawing into the layer canvases; returns the detach function. */
  attach(els: LayerElements): () => void {
    this.stage = els.stage;
    const renderer = new LayerRenderer(this.painter, this.photo, els, () => this.view, useMaskEditorStore.getState);
    this.renderer = renderer;
    this.measure();
    const resize = new ResizeObserver(() => this.measure());
    resize.observe(els.stage);
    const unsubscribe = useMaskEditorStore.subscribe((ui, prev) => {
      if (ui.overlayColor !== prev.overlayColor || ui.overlayOpacity !== prev.overlayOpacity) renderer.syncStyle();
      else if (ui.size !== prev.size || ui.hardness !== prev.hardness || ui.tool !== prev.tool || ui.panning !== prev.panning) renderer.setPointer(this.pointer);
    });
    const detachInput = attachInteraction(els.view, this);
    return () => {
      detachInput();
      unsubscribe();
      resize.disconnect();
      renderer.dispose();
      if (this.renderer === renderer) this.renderer = null;
    };
  }

  /** Space pressed or released: while held, drags pan (the cursor shows a hand at once, or after a drag ends). */
  setSpaceHeld(held: boolean): void {
    this.spaceHeld = held;
    if (!this.dragging) useMaskEditorStore.setState({ panning: held });
  }

  get pointerOnStage(): boolean {
    return this.pointer !== null;
  }

  /** The pointer moved (stage pixels), or left the stage (null). */
  setPointer(p: { x: number; y: number } | null): void {
    this.pointer = p;
    this.renderer?.setPointer(p);
  }

  private measure(): void {
    if (!this.stage) return;
    const { clientWidth, clientHeight } = this.stage;
    this.stageSize = { width: Math.max(1, clientWidth), height: Math.max(1, clientHeight) };
    if (this.fitted) this.setView(fitView(this, this.stageSize), true);
    else this.renderer?.invalidateView();
  }

  private setView(view: View, fitted = false): void {
    this.view = view;
    this.fitted = fitted;
    useMaskEditorStore.setState({ zoom: view.scale });
    this.renderer?.invalidateView();
  }

  getView(): View {
    return this.view;
  }

  /** Zooms about a stage point (default: the stage's centre). */
  zoomBy(factor: number, at?: { x: number; y: number }): void {
    const p = at ?? { x: this.stageSize.width / 2, y: this.stageSize.height / 2 };
    this.setView(zoomAt(this.view, factor, p.x, p.y, this, this.stageSize));
  }

  fit(): void {
    this.setView(fitView(this, this.stageSize), true);
  }

  actualSize(): void {
    this.setView(actualSizeView(this, this.stageSize));
  }

  panBy(dx: number, dy: number): void {
    this.setView(panBy(this.view, dx, dy, this, this.stageSize));
  }

  stageToImage(sx: number, sy: number): { x: number; y: number } {
    return stageToImage(this.view, sx, sy);
  }

  /** Where a photo pixel is in the window (client pixels), for tests and the cursor. */
  imageToClient(x: number, y: number): { x: number; y: number } | null {
    if (!this.stage) return null;
    const r = this.stage.getBoundingClientRect();
    const s = imageToStage(this.view, x, y);
    return { x: r.left + s.x, y: r.top + s.y };
  }

  /** Called with no arguments whenever the mask changed (the preview listens). */
  onMaskChange(listener: () => void): () => void {
    this.maskListeners.add(listener);
    return () => this.maskListeners.delete(listener);
  }

  private maskChanged(rects: Rect[], fromStroke: boolean): void {
    this.renderer?.invalidateOverlay(rects, fromStroke);
    for (const r of rects) this.thumb.update(this.painter.mask, r);
    for (const l of this.maskListeners) l();
  }

  private historyChanged(): void {
    const h = this.painter.history;
    const next = { canUndo: h.canUndo, canRedo: h.canRedo, undoLabel: h.undoLabel, redoLabel: h.redoLabel };
    const ui = useMaskEditorStore.getState();
    // Only on a real change: every toolbar button listens, and the end of a stroke should not re-render them all.
    if ((Object.keys(next) as (keyof typeof next)[]).some((k) => ui[k] !== next[k])) useMaskEditorStore.setState(next);
    if (this.saver.unsaved) this.saver.schedule();
  }

  /** Resolves when the last stroke is committed and every queued redraw is on screen. */
  async whenDrawn(): Promise<void> {
    while (this.painter.committing) await new Promise((r) => setTimeout(r, 4));
    await this.renderer?.whenIdle();
  }

  /**
   * Ends the stroke: a slice of its commit now, the rest in later tasks, so
   * the pointerup of a long stroke on a 12-megapixel photo is not one long task.
   */
  endStroke(): void {
    this.painter.endStroke(COMMIT_SLICE_MS);
    const step = () => {
      this.commitTimer = null;
      if (!this.painter.continueCommit(COMMIT_SLICE_MS)) this.commitTimer = setTimeout(step, 0);
    };
    if (this.painter.committing && !this.commitTimer) this.commitTimer = setTimeout(step, 0);
  }

  /** Commits the stroke in progress, saves and closes the editor (selection keeps the subject). */
  close(): void {
    this.painter.finishCommit();
    void this.saver.flush().catch(() => undefined);
    const { selection, actions } = useSubjectsStore.getState();
    if (selection?.imageId === this.image.id) actions.select(this.subjectId, null);
  }

  /** Releases the photo; a change not saved yet is saved first. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.painter.finishCommit();
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.renderer?.dispose();
    this.renderer = null;
    // Saves read the mask, never the photo: the bitmap's memory can go at once.
    void this.saver.flush().catch(() => undefined);
    this.photo.close();
  }
}
