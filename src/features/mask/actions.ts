/**
 * Every operation of the mask editor, registered once (as excalidraw's action
 * registry): the toolbar renders its buttons from here, the keyboard handler
 * finds the action whose key test matches, undo history records the id of
 * the action that made each step, and tests perform actions by id. A new
 * operation is one entry here, and it is reachable every way at once.
 */
import type { Painter } from './painter';
import { stepHardness, stepSize, useMaskEditorStore, type MaskEditorUi } from './editor-store';

/** The fields of a KeyboardEvent a key test reads (tests pass plain objects). */
export type KeyInput = Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey'>;

/** What actions act on: the open session. */
export interface MaskEditorApi {
  readonly painter: Painter;
  zoomBy(factor: number): void;
  fit(): void;
  actualSize(): void;
  close(): void;
}

export interface ActionContext {
  editor: MaskEditorApi;
  ui: MaskEditorUi;
}

export type ActionGroup = 'tool' | 'brush' | 'history' | 'mask' | 'view' | 'editor';

export interface MaskAction {
  id: string;
  label: string;
  group: ActionGroup;
  /** The shortcut as shown in tooltips ("Ctrl+Z"); absent for actions without one. */
  shortcut?: string;
  /** aria-keyshortcuts value. */
  ariaKeys?: string;
  /** Whether a key press triggers this action. */
  keys?(e: KeyInput): boolean;
  /** Also fires while a text field has focus (only Escape). */
  inTextFields?: boolean;
  /** A one-line description for the tooltip. */
  description: string;
  perform(ctx: ActionContext): void;
  enabled?(ui: MaskEditorUi): boolean;
  /** For toggles (tools): whether it is on. */
  pressed?(ui: MaskEditorUi): boolean;
}

const noMods = (e: KeyInput) => !e.ctrlKey && !e.metaKey && !e.altKey;
const mod = (e: KeyInput) => (e.ctrlKey || e.metaKey) && !e.altKey;
const letter = (e: KeyInput, l: string) => e.key.toLowerCase() === l;

export const MASK_ACTIONS = [
  {
    id: 'tool.brush',
    label: 'Brush',
    group: 'tool',
    shortcut: 'B',
    ariaKeys: 'B',
    description: 'Paint the subject: painted pixels are kept.',
    keys: (e) => noMods(e) && !e.shiftKey && letter(e, 'b'),
    perform: () => useMaskEditorStore.setState({ tool: 'brush' }),
    pressed: (ui) => ui.tool === 'brush',
  },
  {
    id: 'tool.eraser',
    label: 'Eraser',
    group: 'tool',
    shortcut: 'E',
    ariaKeys: 'E',
    description: 'Erase the mask where the photo is not the subject.',
    keys: (e) => noMods(e) && !e.shiftKey && letter(e, 'e'),
    perform: () => useMaskEditorStore.setState({ tool: 'eraser' }),
    pressed: (ui) => ui.tool === 'eraser',
  },
  {
    id: 'tool.swap',
    label: 'Swap brush and eraser',
    group: 'tool',
    shortcut: 'X',
    ariaKeys: 'X',
    description: 'Switch between the brush and the eraser.',
    keys: (e) => noMods(e) && !e.shiftKey && letter(e, 'x'),
    perform: ({ ui }) => useMaskEditorStore.setState({ tool: ui.tool === 'brush' ? 'eraser' : 'brush' }),
  },
  {
    id: 'brush.smaller',
    label: 'Smaller brush',
    group: 'brush',
    shortcut: '[',
    ariaKeys: '[',
    description: 'Make the brush smaller.',
    keys: (e) => noMods(e) && !e.shiftKey && e.key === '[',
    perform: () => stepSize(-1),
  },
  {
    id: 'brush.larger',
    label: 'Larger brush',
    group: 'brush',
    shortcut: ']',
    ariaKeys: ']',
    description: 'Make the brush larger.',
    keys: (e) => noMods(e) && !e.shiftKey && e.key === ']',
    perform: () => stepSize(1),
  },
  {
    id: 'brush.softer',
    label: 'Softer brush',
    group: 'brush',
    shortcut: 'Shift+[',
    ariaKeys: 'Shift+[',
    description: 'Make the brush edge softer.',
    // Shift+[ types "{" on US keyboards; other layouts may report "[" with Shift held.
    keys: (e) => noMods(e) && (e.key === '{' || (e.shiftKey && e.key === '[')),
    perform: () => stepHardness(-1),
  },
  {
    id: 'brush.harder',
    label: 'Harder brush',
    group: 'brush',
    shortcut: 'Shift+]',
    ariaKeys: 'Shift+]',
    description: 'Make the brush edge harder.',
    keys: (e) => noMods(e) && (e.key === '}' || (e.shiftKey && e.key === ']')),
    perform: () => stepHardness(1),
  },
  {
    id: 'history.undo',
    label: 'Undo',
    group: 'history',
    shortcut: 'Ctrl+Z',
    ariaKeys: 'Control+Z Meta+Z',
    description: 'Undo the last stroke, fill, clear or invert.',
    keys: (e) => mod(e) && !e.shiftKey && letter(e, 'z'),
    perform: ({ editor }) => void editor.painter.undo(),
    enabled: (ui) => ui.canUndo,
  },
  {
    id: 'history.redo',
    label: 'Redo',
    group: 'history',
    shortcut: 'Ctrl+Shift+Z',
    ariaKeys: 'Control+Shift+Z Control+Y Meta+Shift+Z',
    description: 'Redo what was undone.',
    keys: (e) => mod(e) && ((e.shiftKey && letter(e, 'z')) || (!e.shiftKey && letter(e, 'y'))),
    perform: ({ editor }) => void editor.painter.redo(),
    enabled: (ui) => ui.canRedo,
  },
  {
    id: 'mask.fill',
    label: 'Fill all',
    group: 'mask',
    shortcut: 'Shift+F',
    ariaKeys: 'Shift+F',
    description: 'Mark the whole photo as the subject.',
    keys: (e) => noMods(e) && e.shiftKey && letter(e, 'f'),
    perform: ({ editor }) => void editor.painter.fillAll('mask.fill', 'Fill all'),
  },
  {
    id: 'mask.clear',
    label: 'Clear',
    group: 'mask',
    shortcut: 'Delete',
    ariaKeys: 'Delete Backspace',
    description: 'Erase the whole mask (no mask: the whole photo is the subject).',
    keys: (e) => noMods(e) && (e.key === 'Delete' || e.key === 'Backspace'),
    perform: ({ editor }) => void editor.painter.clearAll('mask.clear', 'Clear'),
  },
  {
    id: 'mask.invert',
    label: 'Invert',
    group: 'mask',
    shortcut: 'Ctrl+I',
    ariaKeys: 'Control+I Meta+I',
    description: 'Swap subject and background.',
    keys: (e) => mod(e) && !e.shiftKey && letter(e, 'i'),
    perform: ({ editor }) => void editor.painter.invertAll('mask.invert', 'Invert'),
  },
  {
    id: 'view.zoomIn',
    label: 'Zoom in',
    group: 'view',
    shortcut: '+',
    ariaKeys: '+ =',
    description: 'Magnify the photo (or use the mouse wheel).',
    keys: (e) => noMods(e) && (e.key === '+' || e.key === '='),
    perform: ({ editor }) => editor.zoomBy(1.25),
  },
  {
    id: 'view.zoomOut',
    label: 'Zoom out',
    group: 'view',
    shortcut: '-',
    ariaKeys: '-',
    description: 'Shrink the photo (or use the mouse wheel).',
    keys: (e) => noMods(e) && (e.key === '-' || e.key === '_'),
    perform: ({ editor }) => editor.zoomBy(1 / 1.25),
  },
  {
    id: 'view.fit',
    label: 'Fit',
    group: 'view',
    shortcut: '0',
    ariaKeys: '0',
    description: 'Show the whole photo.',
    keys: (e) => noMods(e) && e.key === '0',
    perform: ({ editor }) => editor.fit(),
  },
  {
    id: 'view.actual',
    label: '100%',
    group: 'view',
    shortcut: '1',
    ariaKeys: '1',
    description: 'One photo pixel per screen pixel.',
    keys: (e) => noMods(e) && e.key === '1',
    perform: ({ editor }) => editor.actualSize(),
  },
  {
    id: 'editor.close',
    label: 'Close',
    group: 'editor',
    shortcut: 'Esc',
    ariaKeys: 'Escape',
    description: 'Save the mask and close the editor.',
    keys: (e) => e.key === 'Escape',
    inTextFields: true,
    perform: ({ editor }) => editor.close(),
  },
] as const satisfies readonly MaskAction[];

export type MaskActionId = (typeof MASK_ACTIONS)[number]['id'];

const byId = new Map<string, MaskAction>(MASK_ACTIONS.map((a) => [a.id, a]));

export function getAction(id: MaskActionId): MaskAction {
  return byId.get(id)!;
}

export function isActionId(id: string): id is MaskActionId {
  return byId.has(id);
}

/** The action a key press triggers, if any. `inTextField`: focus is in a field that types text. */
export function actionForKey(e: KeyInput, inTextField = false): MaskAction | undefined {
  return MASK_ACTIONS.find((a: MaskAction) => (!inTextField || a.inTextFields) && a.keys?.(e));
}

/** Performs an action unless it is disabled; returns whether it ran. */
export function performAction(action: MaskAction, editor: MaskEditorApi): boolean {
  const ui = useMaskEditorStore.getState();
  if (action.enabled && !action.enabled(ui)) return false;
  action.perform({ editor, ui });
  return true;
}

/** The tooltip of an action: its description and shortcut. */
export function actionTitle(a: MaskAction): string {
  return a.shortcut ? `${a.label} (${a.shortcut}): ${a.description}` : `${a.label}: ${a.description}`;
}
