/**
 * What the subjects panel tells the person (import results, problems), the
 * undo toast and the import in progress. Not persisted: it describes this
 * session's latest actions. A store rather than component state because the
 * window-level drop and paste handlers and the import pipeline write to it.
 */
import { create } from 'zustand';

export interface PanelMessage {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

export interface SubjectsUiState {
  messages: PanelMessage[];
  /** "Importing 2 photos…" while an import runs. */
  busy: string | null;
  /** The last deleted subject's name while its undo toast shows. */
  toast: { name: string; at: number } | null;
  /** A short line for screen readers only (moves, restores). */
  announcement: string;
  actions: {
    say(kind: PanelMessage['kind'], text: string): void;
    dismiss(id: number): void;
    clearMessages(): void;
    setBusy(text: string | null): void;
    showToast(name: string): void;
    hideToast(): void;
    announce(text: string): void;
  };
}

/** The panel keeps this many messages; older ones scroll away. */
const KEEP = 6;
let nextId = 1;

export const useSubjectsUi = create<SubjectsUiState>()((set, get) => ({
  messages: [],
  busy: null,
  toast: null,
  announcement: '',
  actions: {
    say: (kind, text) => set({ messages: [...get().messages, { id: nextId++, kind, text }].slice(-KEEP) }),
    dismiss: (id) => set({ messages: get().messages.filter((m) => m.id !== id) }),
    clearMessages: () => set({ messages: [] }),
    setBusy: (busy) => set({ busy }),
    showToast: (name) => set({ toast: { name, at: Date.now() } }),
    hideToast: () => set({ toast: null }),
    // A trailing space toggle makes a repeated identical line still count as a change for screen readers.
    announce: (text) => set({ announcement: get().announcement === text ? `${text}\u00a0` : text }),
  },
}));
