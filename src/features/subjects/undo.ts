/**
 * Deleting subjects and taking deletions back. The subject's photos stay in
 * storage until the next start's garbage collection, so an undo restores
 * them too.
 */
import { useEffect } from 'react';
import { isTextEntry } from '../../app/keyboard';
import { useSubjectsStore } from '../../state/subjects-store';
import { useSubjectsUi } from './ui-store';

export function deleteSubject(id: string): void {
  const { subjects, actions } = useSubjectsStore.getState();
  const subject = subjects.find((s) => s.id === id);
  if (!subject) return;
  actions.remove(id);
  useSubjectsUi.getState().actions.showToast(subject.name);
}

/** Restores the last deleted subject, selects it and moves focus to its card; returns whether there was one. */
export function restoreLastDeleted(): boolean {
  const { trash, actions } = useSubjectsStore.getState();
  const last = trash.at(-1);
  const restored = actions.undoRemove();
  const ui = useSubjectsUi.getState().actions;
  ui.hideToast();
  if (!last || !restored) return false;
  actions.select(restored.id);
  ui.announce(
    restored.name === last.subject.name ? `Restored @${restored.name}.` : `Restored @${last.subject.name} as @${restored.name}: another subject has taken its name.`,
  );
  // Focus the card, not a text field in it, so a second Ctrl+Z restores the next deletion instead of undoing typing.
  requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-subject-id="${CSS.escape(restored.id)}"]`)?.focus());
  return true;
}

/**
 * Ctrl+Z (Cmd+Z) restores the last deleted subject when focus is not in a
 * text field, no dialog is open, the mask editor (open on a selected image)
 * is closed, and no other handler took the key first.
 */
export function useUndoDeleteShortcut(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.repeat || e.shiftKey || e.altKey || !(e.ctrlKey || e.metaKey) || e.key.toLowerCase() !== 'z') return;
      if (isTextEntry(document.activeElement) || document.querySelector('dialog[open]')) return;
      const { trash, selection } = useSubjectsStore.getState();
      if (trash.length === 0 || selection?.imageId) return;
      e.preventDefault();
      restoreLastDeleted();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
