/**
 * Labelled controls for the settings panel. Each carries a one-sentence help:
 * shown as a tooltip (title) and read by screen readers (aria-describedby).
 */
import { useId, useState, type ReactNode } from 'react';
import { isCommittable, parseNumberInput, type NumberLimit } from './limits';

interface Common {
  label: string;
  /** One sentence: what the control does. */
  help: string;
  testId?: string;
  disabled?: boolean;
}

export function Help({ id, help }: { id: string; help: string }) {
  return (
    <span id={id} className="visually-hidden">
      {help}
    </span>
  );
}

/** Rounds away binary noise (0.1 + 0.2) for display only. */
const show = (v: number) => String(Number(v.toPrecision(12)));

/**
 * A number input, with a slider when `slider` is set. Typing keeps a draft:
 * an in-range number is stored as it is typed, anything else is clamped (or,
 * if it is not a number, reverted) when the field loses focus or on Enter.
 */
export function NumberField({ label, help, testId, disabled, value, limit, onChange, slider, suffix }: Common & {
  value: number;
  limit: NumberLimit;
  onChange(v: number): void;
  slider?: boolean;
  suffix?: ReactNode;
}) {
  const id = useId();
  const [draft, setDraft] = useState<string | null>(null);
  const commit = () => {
    if (draft === null) return;
    const v = parseNumberInput(draft, limit);
    if (v !== null && v !== value) onChange(v);
    setDraft(null);
  };
  return (
    <div className="field" title={help}>
      <div className="field-row">
        <label htmlFor={id}>{label}</label>
        <span className="field-input">
          <input
            id={id}
            type="number"
            inputMode="decimal"
            data-testid={testId}
            min={limit.min}
            max={limit.max}
            step={limit.step}
            disabled={disabled}
            value={draft ?? show(value)}
            aria-describedby={`${id}-help`}
            onChange={(e) => {
              setDraft(e.target.value);
              if (isCommittable(e.target.value, limit)) onChange(Number(e.target.value));
            }}
            onBlur={commit}
            onKeyDown={(e) => {
              if (e.key === 'Enter') commit();
              if (e.key === 'Escape') setDraft(null);
            }}
          />
          {suffix}
        </span>
      </div>
      {slider && (
        <input
          type="range"
          className="field-slider"
          min={limit.min}
          max={limit.max}
          step={limit.step}
          value={value}
          disabled={disabled}
          aria-label={`${label} slider`}
          aria-describedby={`${id}-help`}
          onChange={(e) => onChange(Number(e.target.value))}
        />
      )}
      <Help id={`${id}-help`} help={help} />
    </div>
  );
}

export function SelectField<T extends string>({ label, help, testId, disabled, value, options, onChange }: Common & {
  value: T;
  options: readonly { value: T; label: string }[];
  onChange(v: T): void;
}) {
  const id = useId();
  return (
    <div className="field" title={help}>
      <div className="field-row">
        <label htmlFor={id}>{label}</label>
        <select id={id} data-testid={testId} value={value} disabled={disabled} aria-describedby={`${id}-help`} onChange={(e) => onChange(e.target.value as T)}>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </div>
      <Help id={`${id}-help`} help={help} />
    </div>
  );
}

export function CheckField({ label, help, testId, disabled, checked, onChange }: Common & { checked: boolean; onChange(v: boolean): void }) {
  const id = useId();
  return (
    <div className="field" title={help}>
      <label className="field-check" htmlFor={id}>
        <input id={id} type="checkbox" data-testid={testId} checked={checked} disabled={disabled} aria-describedby={`${id}-help`} onChange={(e) => onChange(e.target.checked)} />
        {label}
      </label>
      <Help id={`${id}-help`} help={help} />
    </div>
  );
}

/** A collapsible group of fields. */
export function Group({ title, children, testId, defaultOpen = true }: { title: ReactNode; children: ReactNode; testId?: string; defaultOpen?: boolean }) {
  return (
    <details className="settings-group" open={defaultOpen} data-testid={testId}>
      <summary>{title}</summary>
      <div className="settings-fields">{children}</div>
    </details>
  );
}

/** A button with its help as tooltip and description, like the fields. */
export function HelpButton({ help, testId, children, className, disabled, onClick, label, type = 'button' }: {
  help: string;
  type?: 'button' | 'submit';
  testId?: string;
  children: ReactNode;
  className?: string;
  disabled?: boolean;
  /** An accessible name when the visible content is an icon. */
  label?: string;
  onClick?(): void;
}) {
  const id = useId();
  return (
    <>
      <button type={type} className={className} data-testid={testId} title={help} aria-label={label} aria-describedby={id} disabled={disabled} onClick={onClick}>
        {children}
      </button>
      <Help id={id} help={help} />
    </>
  );
}
