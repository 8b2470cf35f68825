/**
 * Photos dropped anywhere on the window or pasted (Ctrl+V) go into subjects.
 * Listeners sit on window in the bubble phase and skip events another
 * handler already took (defaultPrevented), so a feature with its own drop
 * zone or paste handling wins inside its own area.
 */
import { useEffect, useState } from 'react';
import { importPhotos } from './import';
import { isTextEntry } from '../../app/keyboard';

export interface FileDrag {
  /** The subject card under the pointer, which the drop would go to; null: chooseTarget decides. */
  overSubjectId: string | null;
}

const carriesFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;

function subjectUnder(e: Event): string | null {
  const el = e.target instanceof Element ? e.target.closest('[data-subject-id]') : null;
  return el?.getAttribute('data-subject-id') ?? null;
}

/**
 * Browsers send dragover every few hundred ms while a drag is over the page;
 * when they stop without a dragleave or drop (a drag cancelled outside the
 * window), the overlay hides after this long.
 */
const DRAG_IDLE_MS = 1500;

export function useWindowImport(): FileDrag | null {
  const [drag, setDrag] = useState<FileDrag | null>(null);

  useEffect(() => {
    let idle = 0;
    const hide = () => {
      window.clearTimeout(idle);
      setDrag(null);
    };
    const over = (e: DragEvent) => {
      if (!carriesFiles(e) || e.defaultPrevented) return;
      // Without this the browser refuses the drop (or opens the file in the tab).
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
      const overSubjectId = subjectUnder(e);
      setDrag((d) => (d?.overSubjectId === overSubjectId ? d : { overSubjectId }));
      window.clearTimeout(idle);
      idle = window.setTimeout(hide, DRAG_IDLE_MS);
    };
    // relatedTarget is null only when the drag leaves the window itself, not when it crosses between elements.
    const leave = (e: DragEvent) => e.relatedTarget === null && hide();
    const drop = (e: DragEvent) => {
      hide();
      if (!carriesFiles(e) || e.defaultPrevented) return;
      e.preventDefault();
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length > 0) void importPhotos(files, { subjectId: subjectUnder(e) });
    };
    const paste = (e: ClipboardEvent) => {
      if (e.defaultPrevented || !e.clipboardData) return;
      const files = [...e.clipboardData.files];
      // In a text field only images are taken, so pasting text (and a file's name along with it) still types.
      const wanted = isTextEntry(document.activeElement) ? files.filter((f) => f.type.startsWith('image/')) : files;
      if (wanted.length === 0) return;
      e.preventDefault();
      void importPhotos(wanted);
    };
    window.addEventListener('dragenter', over);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    window.addEventListener('dragend', hide);
    window.addEventListener('paste', paste);
    return () => {
      window.clearTimeout(idle);
      window.removeEventListener('dragenter', over);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
      window.removeEventListener('dragend', hide);
      window.removeEventListener('paste', paste);
    };
  }, []);

  return drag;
}
