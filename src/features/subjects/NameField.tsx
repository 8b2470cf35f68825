import { useId, useState } from 'react';
import { NAME_PROBLEM_TEXT, nameProblem, useSubjectsStore, type Subject } from '../../state/subjects-store';
import { useSubjectsUi } from './ui-store';

interface Props {
  subject: Subject;
}

/**
 * The @name of a subject. Every valid keystroke renames at once (the prompt
 * editor sees the new name live); an invalid or duplicate draft stays in the
 * field, marked invalid with the reason, while the subject keeps its last
 * valid name. Leaving the field (or Escape) puts that name back.
 */
export function NameField({ subject }: Props) {
  const id = useId();
  const subjects = useSubjectsStore((s) => s.subjects);
  const rename = useSubjectsStore((s) => s.actions.rename);
  const announce = useSubjectsUi((s) => s.actions.announce);
  // The draft is only kept while it differs from the stored name (it is invalid); otherwise the field shows the store.
  const [draft, setDraft] = useState<string | null>(null);
  const value = draft ?? subject.name;
  const problem = draft === null ? null : nameProblem(draft, subjects, subject.id);

  const change = (next: string) => {
    if (rename(subject.id, next) === null) setDraft(null);
    else setDraft(next);
  };
  const revert = () => {
    if (draft === null) return;
    setDraft(null);
    announce(`Kept the name @${subject.name}.`);
  };

  return (
    <div className="subject-field subject-name-field">
      {/* The "@" in front says what this is; the label is for screen readers. */}
      <label htmlFor={id} className="visually-hidden">
        Name
      </label>
      <div className="subject-name-input" data-invalid={problem ? true : undefined}>
        <span aria-hidden="true">@</span>
        <input
          id={id}
          data-testid="subject.name"
          value={value}
          spellCheck={false}
          autoComplete="off"
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${id}-problem` : undefined}
          title="Type @name in the prompt to use this subject"
          onChange={(e) => change(e.target.value)}
          onBlur={revert}
          onKeyDown={(e) => {
            if (e.key === 'Escape') revert();
            if (e.key === 'Enter') e.currentTarget.blur();
          }}
        />
      </div>
      {problem && (
        <p id={`${id}-problem`} className="subject-field-problem" data-testid="subject.name-problem">
          {NAME_PROBLEM_TEXT[problem]}
        </p>
      )}
    </div>
  );
}
