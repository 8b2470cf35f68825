/**
 * window.__maskEditor: a typed hook for end-to-end tests and the console. It
 * reads the open editor's state and performs registry actions; it never
 * paints (tests paint with the real pointer), and what is stored is checked
 * through window.__subjectStudio.readBlob, not here. Only test builds (and
 * the dev server) load it: see src/test-hooks.ts.
 */
import { contentId, getBlob, putBlob } from '../../state/storage';
import { getAction, isActionId, performAction } from './actions';
import { useMaskEditorStore, type SaveState, type Tool } from './editor-store';
import { currentSession } from './current-session';
import type { View } from './viewport';

export interface MaskEditorState {
  subjectId: string;
  imageId: string;
  width: number;
  height: number;
  tool: Tool;
  size: number;
  hardness: number;
  canUndo: boolean;
  canRedo: boolean;
  /** Undo steps held. */
  undoSteps: number;
  /** Bytes the undo history holds. */
  historyBytes: number;
  version: number;
  unsaved: boolean;
  save: SaveState;
  view: View;
}

export interface MaskEditorTestHook {
  /** Stores a blob under its content id (a photo or mask to seed a test with); returns the id. */
  storeBlob(blob: Blob): Promise<string>;
  /** The open editor, or null while none is open (or it is still loading). */
  state(): MaskEditorState | null;
  /** Client (window) coordinates of a photo pixel's centre in the open editor. */
  imageToClient(x: number, y: number): { x: number; y: number } | null;
  /** Performs a registered action by id, as its button would; false if none is open, unknown or disabled. */
  perform(actionId: string): boolean;
  /** Saves now and resolves once the mask is stored. */
  flush(): Promise<void>;
  /** Resolves when the last stroke is committed and every pending redraw is on screen. */
  whenDrawn(): Promise<void>;
  /** The live (not yet necessarily saved) mask at these photo pixels. */
  pixels(points: [number, number][]): number[] | null;
  /** A stored mask blob's bytes at these pixels (reads only those, for 12-megapixel masks). */
  storedPixels(maskId: string, width: number, points: [number, number][]): Promise<number[] | null>;
}

declare global {
  interface Window {
    __maskEditor?: MaskEditorTestHook;
  }
}

const hook: MaskEditorTestHook = {
  async storeBlob(blob) {
    const id = await contentId(blob);
    await putBlob(id, blob);
    return id;
  },
  state() {
    const current = currentSession();
    if (!current) return null;
    const ui = useMaskEditorStore.getState();
    const { painter, saver } = current;
    return {
      subjectId: current.subjectId,
      imageId: current.image.id,
      width: painter.width,
      height: painter.height,
      tool: ui.tool,
      size: ui.size,
      hardness: ui.hardness,
      canUndo: ui.canUndo,
      canRedo: ui.canRedo,
      undoSteps: painter.history.steps,
      historyBytes: painter.history.bytes,
      version: painter.version,
      // A stroke still being committed is a change not saved yet.
      unsaved: saver.unsaved || painter.committing,
      save: ui.save,
      view: current.getView(),
    };
  },
  imageToClient: (x, y) => currentSession()?.imageToClient(x + 0.5, y + 0.5) ?? null,
  perform(actionId) {
    const current = currentSession();
    if (!current || !isActionId(actionId)) return false;
    return performAction(getAction(actionId), current);
  },
  flush: () => currentSession()?.saver.flush() ?? Promise.resolve(),
  whenDrawn: () => currentSession()?.whenDrawn() ?? Promise.resolve(),
  pixels(points) {
    const current = currentSession();
    if (!current) return null;
    const { mask, width } = current.painter;
    return points.map(([x, y]) => mask[y * width + x]!);
  },
  async storedPixels(maskId, width, points) {
    const blob = await getBlob(maskId);
    if (!blob) return null;
    return Promise.all(points.map(async ([x, y]) => new Uint8Array(await blob.slice(y * width + x, y * width + x + 1).arrayBuffer())[0]!));
  },
};

export function installMaskTestHook(target: Window): void {
  target.__maskEditor = hook;
}
