import { useEffect, useRef } from 'react';
import { Icon } from './icons';
import { useSubjectsUi } from './ui-store';
import { restoreLastDeleted } from './undo';

/** How long the toast stays; it stays longer while it has focus or the pointer (WCAG 2.2.1: enough time). */
const SHOW_MS = 10_000;

/** "Deleted @x — Undo" after a delete. Ctrl+Z does the same while focus is not in a text field. */
export function UndoToast() {
  const toast = useSubjectsUi((s) => s.toast);
  const hideToast = useSubjectsUi((s) => s.actions.hideToast);
  const box = useRef<HTMLDivElement>(null);
  const undo = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!toast) return;
    // The delete button went away with its card: hand focus to Undo instead of dropping it on <body>.
    if (document.activeElement === document.body || document.activeElement === null) undo.current?.focus();
    let timer = 0;
    const arm = () => {
      timer = window.setTimeout(() => {
        if (box.current?.matches(':hover, :focus-within')) arm();
        else hideToast();
      }, SHOW_MS);
    };
    arm();
    return () => window.clearTimeout(timer);
  }, [toast, hideToast]);

  return (
    <div className="subjects-toast-region" role="status" aria-live="polite">
      {toast && (
        <div className="subjects-toast" ref={box} data-testid="subject.toast">
          <span>Deleted @{toast.name}</span>
          <span aria-hidden="true">—</span>
          <button ref={undo} type="button" className="link-button" data-testid="subject.undo" aria-keyshortcuts="Control+Z" onClick={restoreLastDeleted}>
            Undo
          </button>
          <button type="button" className="icon-button" aria-label="Dismiss" onClick={hideToast}>
            <Icon name="close" size={14} />
          </button>
        </div>
      )}
    </div>
  );
}
