import { useId, type DragEvent, type KeyboardEvent } from 'react';
import { useSubjectsStore, type Subject } from '../../state/subjects-store';
import { Icon } from './icons';
import { NameField } from './NameField';
import { PhotoStrip } from './PhotoStrip';
import { StrengthField } from './StrengthField';

export type MoveButton = 'subject.moveUp' | 'subject.moveDown' | 'subject.handle';

interface Props {
  subject: Subject;
  index: number;
  count: number;
  selected: boolean;
  /** Files being dragged over the window would land on this card. */
  fileDropTarget: boolean;
  /** Where a subject being dragged would go relative to this card. */
  insertMark: 'before' | 'after' | null;
  onMove(delta: number, from: MoveButton): void;
  onDelete(): void;
  onHandleDragStart(e: DragEvent<HTMLElement>): void;
  onDragEnd(): void;
  onCardDragOver(e: DragEvent<HTMLElement>): void;
  onCardDrop(e: DragEvent<HTMLElement>): void;
}

/** One subject: name, class word, strength, photos, and its order and delete controls. */
export function SubjectCard(props: Props) {
  const { subject, index, count, selected } = props;
  const classId = useId();
  const { select, setClassWord } = useSubjectsStore((s) => s.actions);
  // Focus or a click anywhere in the card selects it; "Edit mask" selects an image too, so never override a selection of this subject.
  const selectThis = () => {
    if (useSubjectsStore.getState().selection?.subjectId !== subject.id) select(subject.id);
  };
  const handleKeys = (e: KeyboardEvent<HTMLElement>) => {
    if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
      e.preventDefault();
      props.onMove(e.key === 'ArrowUp' ? -1 : 1, 'subject.handle');
    }
  };
  const classes = ['subject-card', selected && 'is-selected', props.fileDropTarget && 'is-drop-target', props.insertMark && `insert-${props.insertMark}`];

  return (
    <li
      className={classes.filter(Boolean).join(' ')}
      data-testid="subject.card"
      data-subject-id={subject.id}
      aria-label={`Subject @${subject.name}`}
      aria-current={selected ? 'true' : undefined}
      tabIndex={-1}
      onClick={selectThis}
      onFocus={selectThis}
      onDragOver={props.onCardDragOver}
      onDrop={props.onCardDrop}
    >
      <div className="subject-rail">
        <button type="button" className="icon-button" data-testid="subject.moveUp" aria-label={`Move @${subject.name} up`} title="Move up" disabled={index === 0} onClick={() => props.onMove(-1, 'subject.moveUp')}>
          <Icon name="up" size={14} />
        </button>
        <span
          className="drag-handle"
          role="button"
          tabIndex={0}
          draggable
          data-testid="subject.handle"
          aria-label={`Reorder @${subject.name}: drag, or press the up and down arrow keys`}
          title="Drag to reorder (or focus and press ↑ / ↓)"
          onDragStart={props.onHandleDragStart}
          onDragEnd={props.onDragEnd}
          onKeyDown={handleKeys}
        >
          <Icon name="grip" />
        </span>
        <button type="button" className="icon-button" data-testid="subject.moveDown" aria-label={`Move @${subject.name} down`} title="Move down" disabled={index === count - 1} onClick={() => props.onMove(1, 'subject.moveDown')}>
          <Icon name="down" size={14} />
        </button>
      </div>
      <div className="subject-card-top">
        <NameField subject={subject} />
        <button type="button" className="icon-button danger" data-testid="subject.delete" aria-label={`Delete @${subject.name}`} title="Delete (you can undo)" onClick={props.onDelete}>
          <Icon name="trash" />
        </button>
      </div>
      <div className="subject-field">
        <label htmlFor={classId} className="subject-label">
          Class word
        </label>
        <input
          id={classId}
          data-testid="subject.class"
          value={subject.classWord}
          placeholder="e.g. cat"
          autoComplete="off"
          title="The ordinary word for what the subject is (cat, mug): it carries the meaning next to @name in the prompt."
          onChange={(e) => setClassWord(subject.id, e.target.value)}
        />
      </div>
      <StrengthField subject={subject} />
      <PhotoStrip subject={subject} />
    </li>
  );
}
