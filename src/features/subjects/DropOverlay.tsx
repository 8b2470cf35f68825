import { useSubjectsStore } from '../../state/subjects-store';
import { chooseTarget } from './import';
import type { FileDrag } from './useWindowImport';

/**
 * Covers the window while files are dragged over it and says where they will
 * go. It lets the pointer through (pointer-events: none), so the card under
 * the pointer is what the drop lands on.
 */
export function DropOverlay({ drag }: { drag: FileDrag }) {
  const subjects = useSubjectsStore((s) => s.subjects);
  const selectedId = useSubjectsStore((s) => s.selection?.subjectId ?? null);
  const limits = useSubjectsStore((s) => s.limits);
  const target = chooseTarget(subjects, selectedId, drag.overSubjectId, limits);
  const name = (id: string) => subjects.find((s) => s.id === id)?.name ?? '';
  const where =
    target.kind === 'existing' ? `Drop to add photos to @${name(target.subjectId)}` : target.kind === 'new' ? 'Drop to add photos as a new subject' : target.reason;
  return (
    <div className="subjects-drop-overlay" data-testid="subjects.drop-overlay" data-refused={target.kind === 'refuse' ? true : undefined} aria-hidden="true">
      <div className="subjects-drop-box">
        <strong>{where}</strong>
        <span>
          JPEG, PNG, WebP, GIF or AVIF · up to {limits.maxImagesPerSubject} per subject · drop on a subject to choose it
        </span>
      </div>
    </div>
  );
}
