import { useLayoutEffect, useRef, useState, type DragEvent } from 'react';
import { useSubjectsStore } from '../../state/subjects-store';
import { SubjectCard, type MoveButton } from './SubjectCard';
import { useSubjectsUi } from './ui-store';
import { deleteSubject } from './undo';

/** The drag data type of a subject being reordered; the window's file drop ignores it (it only takes "Files"). */
const SUBJECT_DRAG_TYPE = 'application/x-subject-studio-subject';

const cardSelector = (id: string) => `[data-subject-id="${CSS.escape(id)}"]`;

/** The subjects in order, reorderable by dragging a card's handle or with its move buttons and arrow keys. */
export function SubjectList({ fileDropTargetId }: { fileDropTargetId: string | null }) {
  const subjects = useSubjectsStore((s) => s.subjects);
  const selectedId = useSubjectsStore((s) => s.selection?.subjectId ?? null);
  const move = useSubjectsStore((s) => s.actions.move);
  const announce = useSubjectsUi((s) => s.actions.announce);
  const list = useRef<HTMLOListElement>(null);
  const [dragging, setDragging] = useState<string | null>(null);
  const [mark, setMark] = useState<{ id: string; where: 'before' | 'after' } | null>(null);
  // React re-inserts moved list items, and a node taken out of the document loses focus: put it back after the move.
  const refocus = useRef<{ id: string; control: MoveButton } | null>(null);

  useLayoutEffect(() => {
    const want = refocus.current;
    if (!want) return;
    refocus.current = null;
    const card = list.current?.querySelector(cardSelector(want.id));
    const control = card?.querySelector<HTMLElement>(`[data-testid="${want.control}"]:not(:disabled)`) ?? card?.querySelector<HTMLElement>('[data-testid="subject.handle"]');
    control?.focus();
  }, [subjects]);

  const moveTo = (id: string, toIndex: number, control: MoveButton | null) => {
    const from = subjects.findIndex((s) => s.id === id);
    const to = Math.max(0, Math.min(subjects.length - 1, toIndex));
    if (from < 0 || from === to) return;
    move(id, to);
    refocus.current = control && { id, control };
    announce(`Moved @${subjects[from]!.name} to position ${to + 1} of ${subjects.length}.`);
  };

  const endDrag = () => {
    setDragging(null);
    setMark(null);
  };

  const dragOver = (id: string) => (e: DragEvent<HTMLElement>) => {
    if (!dragging || !e.dataTransfer.types.includes(SUBJECT_DRAG_TYPE)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'move';
    const box = e.currentTarget.getBoundingClientRect();
    const where = e.clientY < box.top + box.height / 2 ? 'before' : 'after';
    if (mark?.id !== id || mark.where !== where) setMark({ id, where });
  };

  const drop = (index: number) => (e: DragEvent<HTMLElement>) => {
    const id = e.dataTransfer.getData(SUBJECT_DRAG_TYPE);
    if (!id || !mark) return;
    e.preventDefault();
    const from = subjects.findIndex((s) => s.id === id);
    // The index in the list without the dragged card, which is what move() expects.
    let to = mark.where === 'before' ? index : index + 1;
    if (from < to) to -= 1;
    moveTo(id, to, null);
    endDrag();
  };

  return (
    <ol className="subject-list" ref={list} aria-label="Subjects" data-dragging={dragging ? true : undefined}>
      {subjects.map((subject, index) => (
        <SubjectCard
          key={subject.id}
          subject={subject}
          index={index}
          count={subjects.length}
          selected={subject.id === selectedId}
          fileDropTarget={subject.id === fileDropTargetId}
          insertMark={dragging && dragging !== subject.id && mark?.id === subject.id ? mark.where : null}
          onMove={(delta, control) => moveTo(subject.id, index + delta, control)}
          onDelete={() => deleteSubject(subject.id)}
          onHandleDragStart={(e) => {
            e.dataTransfer.setData(SUBJECT_DRAG_TYPE, subject.id);
            e.dataTransfer.effectAllowed = 'move';
            const card = list.current?.querySelector(cardSelector(subject.id));
            if (card) e.dataTransfer.setDragImage(card, 24, 24);
            setDragging(subject.id);
          }}
          onDragEnd={endDrag}
          onCardDragOver={dragOver(subject.id)}
          onCardDrop={drop(index)}
        />
      ))}
    </ol>
  );
}
