/**
 * The subjects panel: each subject's @name, class word, strength and its
 * reference photos (as many as the pack takes) with their masks; photos come in by dropping them anywhere
 * on the window, pasting, or a per-subject file picker (import.ts). Below:
 * storage use and "Clear all saved data".
 */
import { useRef, useState } from 'react';
import { useLoadedPack } from '../models/pack-hooks';
import { tryExample } from './example';
import { useSubjectsStore } from '../../state/subjects-store';
import { DropOverlay } from './DropOverlay';
import { Icon } from './icons';
import { Messages } from './Messages';
import { StorageErrorBanner, StorageSection } from './StorageSection';
import { SubjectList } from './SubjectList';
import { UndoToast } from './UndoToast';
import { useUndoDeleteShortcut } from './undo';
import { useWindowImport } from './useWindowImport';
import './subjects.css';

export function SubjectsPanel() {
  const count = useSubjectsStore((s) => s.subjects.length);
  const max = useSubjectsStore((s) => s.limits.maxSubjects);
  const addSubject = useSubjectsStore((s) => s.actions.addSubject);
  const drag = useWindowImport();
  // The toy-world pack (it lists its vocabulary) comes with example subjects of its world.
  const toyWorld = useLoadedPack().summary?.vocabulary != null;
  const [exampleBusy, setExampleBusy] = useState(false);
  const panel = useRef<HTMLElement>(null);
  useUndoDeleteShortcut();

  const add = () => {
    const subject = addSubject();
    // Straight to naming it: focus and select the suggested name once the card is in the document.
    requestAnimationFrame(() => {
      const input = panel.current?.querySelector<HTMLInputElement>(`[data-subject-id="${CSS.escape(subject.id)}"] [data-testid="subject.name"]`);
      input?.focus();
      input?.select();
    });
  };

  return (
    <section className="panel subjects-panel" aria-labelledby="subjects-title" ref={panel}>
      <StorageErrorBanner />
      <header className="subjects-header">
        <h2 id="subjects-title">Subjects</h2>
        <span className="muted" data-testid="subjects.count">
          {count} of {max}
        </span>
        <button
          type="button"
          className="subjects-add"
          data-testid="subjects.add"
          disabled={count >= max}
          title={count >= max ? `The studio holds at most ${max} subjects` : 'Add an empty subject'}
          onClick={add}
        >
          <Icon name="plus" size={14} /> Add subject
        </button>
        {toyWorld && (
          <button
            type="button"
            className="subjects-example"
            data-testid="subjects.example"
            disabled={exampleBusy}
            title="Add two subjects of the toy world (a photo and a mask each) and a prompt that puts them in a new scene"
            onClick={() => {
              setExampleBusy(true);
              void tryExample().finally(() => setExampleBusy(false));
            }}
          >
            Try an example
          </button>
        )}
      </header>
      {count === 0 ? (
        <p className="subjects-empty" data-testid="subjects.empty">
          No subjects yet. Drop photos of your subject (a pet, a mug) anywhere on the page, paste one with Ctrl+V, or add a subject. Then use it in the prompt as
          @name.
        </p>
      ) : (
        <SubjectList fileDropTargetId={drag?.overSubjectId ?? null} />
      )}
      <Messages />
      <UndoToast />
      <StorageSection />
      {drag && <DropOverlay drag={drag} />}
    </section>
  );
}
