/**
 * What the mask editor's controls show: the brush (kept between openings,
 * as painters expect their brush to stay put) and the state of the open
 * session (undo/redo, zoom, saving), which the session writes.
 */
import { create } from 'zustand';

export type Tool = 'brush' | 'eraser';

export type SaveState = { kind: 'saved' } | { kind: 'pending' } | { kind: 'saving' } | { kind: 'error'; message: string };

export interface MaskEditorUi {
  tool: Tool;
  /** Brush diameter in photo pixels. */
  size: number;
  /** The largest size for the open photo. */
  sizeMax: number;
  /** 0 (soft edge over the whole radius) to 1 (hard edge). */
  hardness: number;
  overlayColor: string;
  /** 0..1: how strongly the mask tints the photo. */
  overlayOpacity: number;
  canUndo: boolean;
  canRedo: boolean;
  undoLabel: string | null;
  redoLabel: string | null;
  /** CSS pixels per photo pixel. */
  zoom: number;
  save: SaveState;
  /** True while space or the middle button pans. */
  panning: boolean;
}

export const MIN_SIZE = 1;
export const SIZE_STEP = 1.25;
export const HARDNESS_STEP = 0.1;

export const useMaskEditorStore = create<MaskEditorUi>(() => ({
  tool: 'brush',
  size: 40,
  sizeMax: 1000,
  hardness: 0.8,
  overlayColor: '#ff3b6b',
  overlayOpacity: 0.5,
  canUndo: false,
  canRedo: false,
  undoLabel: null,
  redoLabel: null,
  zoom: 1,
  save: { kind: 'saved' },
  panning: false,
}));

const set = useMaskEditorStore.setState;
const get = useMaskEditorStore.getState;

export function setSize(size: number): void {
  if (!Number.isFinite(size)) return;
  set({ size: Math.round(Math.min(get().sizeMax, Math.max(MIN_SIZE, size))) });
}

/** One step of [ or ]: multiplicative, so it is as useful at 4 px as at 400, and never less than a pixel. */
export function stepSize(direction: 1 | -1): void {
  const s = get().size;
  setSize(direction > 0 ? Math.max(s + 1, s * SIZE_STEP) : Math.min(s - 1, s / SIZE_STEP));
}

export function setHardness(hardness: number): void {
  if (!Number.isFinite(hardness)) return;
  set({ hardness: Math.round(Math.min(1, Math.max(0, hardness)) * 100) / 100 });
}

export function stepHardness(direction: 1 | -1): void {
  setHardness(get().hardness + direction * HARDNESS_STEP);
}

/**
 * Fits the brush to a newly opened photo: the size range follows its long
 * side, and a size that would be useless there (a 300 px brush on a 450 px
 * photo, a 4 px one on a 4000 px photo) goes back to 1/16 of that side.
 */
export function fitBrushTo(width: number, height: number): void {
  const long = Math.max(width, height);
  const sizeMax = Math.max(8, Math.min(2000, long));
  const { size } = get();
  const usable = size <= long / 4 && size >= long / 400;
  set({ sizeMax, size: usable ? Math.min(size, sizeMax) : Math.max(MIN_SIZE, Math.round(long / 16)) });
}
