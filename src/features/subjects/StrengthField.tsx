import { useId, useState } from 'react';
import { useSubjectsStore, type Subject } from '../../state/subjects-store';

export const STRENGTH_MIN = 0;
export const STRENGTH_MAX = 3;
export const STRENGTH_STEP = 0.05;
const HELP = 'How strongly the photos steer the image: 0 ignores them, 1 is as trained, and higher values copy the subject more closely at the cost of following the prompt.';

const clamp = (v: number) => Math.min(STRENGTH_MAX, Math.max(STRENGTH_MIN, Math.round(v / STRENGTH_STEP) * STRENGTH_STEP));

/** Subject strength as a slider and a number box that stay in step; the box accepts partial typing ("1.") until it leaves. */
export function StrengthField({ subject }: { subject: Subject }) {
  const id = useId();
  const setStrength = useSubjectsStore((s) => s.actions.setStrength);
  const [typed, setTyped] = useState<string | null>(null);
  const shown = subject.strength.toFixed(2);

  const commit = (raw: string) => {
    const v = Number(raw);
    if (raw.trim() !== '' && Number.isFinite(v)) setStrength(subject.id, Number(clamp(v).toFixed(2)));
    setTyped(null);
  };

  return (
    <div className="subject-field" title={HELP}>
      <label htmlFor={id} className="subject-label">
        Strength
      </label>
      <div className="subject-strength">
        <input
          id={id}
          type="range"
          data-testid="subject.strength"
          min={STRENGTH_MIN}
          max={STRENGTH_MAX}
          step={STRENGTH_STEP}
          value={subject.strength}
          aria-valuetext={shown}
          aria-describedby={`${id}-help`}
          onChange={(e) => setStrength(subject.id, Number(e.target.value))}
        />
        <input
          type="number"
          data-testid="subject.strength-number"
          aria-label={`Strength of @${subject.name}`}
          min={STRENGTH_MIN}
          max={STRENGTH_MAX}
          step={STRENGTH_STEP}
          value={typed ?? shown}
          onChange={(e) => {
            setTyped(e.target.value);
            // Arrow keys and complete numbers apply at once; the box is tidied (clamped, rounded) when it loses focus.
            const v = Number(e.target.value);
            if (e.target.value.trim() !== '' && v >= STRENGTH_MIN && v <= STRENGTH_MAX) setStrength(subject.id, v);
          }}
          onBlur={(e) => commit(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && commit(e.currentTarget.value)}
        />
      </div>
      <p id={`${id}-help`} className="visually-hidden">
        {HELP}
      </p>
    </div>
  );
}
