/**
 * A textarea for the prompt with @mentions shown as chips. The chips are drawn
 * by a mirror layer behind the textarea (same font, padding and wrapping), so
 * the textarea stays a native one: typing, IME, spell-check, selection and undo
 * all work as usual. Typing "@" opens an ARIA combobox list of subjects.
 */
import { useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode, type RefObject, type SyntheticEvent } from 'react';
import { completeMention, highlightSegments, matchSubjects, mentionAtCaret, pendingMention, type MentionSubject, type Segment } from './mentions';

interface Props {
  id: string;
  value: string;
  /** The caret (null while the field is not focused or has a selection); the editor owns it to know which mention is being typed. */
  caret: number | null;
  onCaretChange(caret: number | null): void;
  subjects: readonly MentionSubject[];
  onChange(value: string): void;
  /** Runs after the field's own keys (suggestion navigation); not called for keys the list used. */
  onKeyDown?(e: KeyboardEvent<HTMLTextAreaElement>): void;
  describedBy?: string;
  placeholder?: string;
  testId?: string;
}

const CHIP_COLOURS = 6;

/** The mirror's content: segments as spans, with an empty anchor span at `anchorAt` to place the list under. */
function renderMirror(segments: Segment[], anchorAt: number | null, pendingAt: number | null, anchor: RefObject<HTMLSpanElement | null>): ReactNode[] {
  const out: ReactNode[] = [];
  const anchorSpan = <span key="anchor" ref={anchor} className="mention-anchor" />;
  for (const s of segments) {
    if (anchorAt !== null && anchorAt >= s.start && anchorAt < s.end && s.kind === 'text') {
      out.push(s.text.slice(0, anchorAt - s.start), anchorSpan, s.text.slice(anchorAt - s.start));
      continue;
    }
    if (anchorAt === s.start && s.kind !== 'text') out.push(anchorSpan);
    if (s.kind === 'text') out.push(s.text);
    else if (s.kind === 'mention')
      out.push(
        <span key={s.start} className={`mention-chip c${s.index % CHIP_COLOURS}`} data-testid="prompt.chip" data-subject={s.name}>
          {s.text}
        </span>,
      );
    else
      out.push(
        s.start === pendingAt ? (
          <span key={s.start}>{s.text}</span>
        ) : (
          <span key={s.start} className="mention-unknown" data-testid="prompt.unknown-mention" data-name={s.name}>
            {s.text}
          </span>
        ),
      );
  }
  return out;
}

export function MentionField({ id, value, caret, onCaretChange: setCaret, subjects, onChange, onKeyDown, describedBy, placeholder, testId }: Props) {
  const textarea = useRef<HTMLTextAreaElement>(null);
  const mirror = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const anchor = useRef<HTMLSpanElement>(null);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const [active, setActive] = useState({ query: '', index: 0 });

  const mention = caret === null ? null : mentionAtCaret(value, caret);
  const matches = mention ? matchSubjects(mention.query, subjects) : [];
  const open = mention !== null && matches.length > 0 && dismissedAt !== mention.start;
  // The highlighted option resets whenever the query changes.
  const activeIndex = open && active.query === mention.query ? Math.min(active.index, matches.length - 1) : 0;
  const listId = `${id}-suggestions`;
  const optionId = (i: number) => `${id}-option-${i}`;

  /** Tracks the caret (only a collapsed selection can complete a mention). */
  const sync = (el: HTMLTextAreaElement) => {
    const at = el.selectionStart === el.selectionEnd ? el.selectionStart : null;
    setCaret(at);
    const m = at === null ? null : mentionAtCaret(el.value, at);
    if (m?.start !== dismissedAt) setDismissedAt(null);
  };

  const syncScroll = () => {
    if (mirror.current && textarea.current) mirror.current.scrollTop = textarea.current.scrollTop;
    place();
  };

  /** Puts the list under the mention's "@" (the mirror's anchor span), kept inside the field. */
  const place = () => {
    const a = anchor.current;
    const l = list.current;
    const t = textarea.current;
    if (!a || !l || !t) return;
    const lineHeight = parseFloat(getComputedStyle(t).lineHeight) || 20;
    const top = Math.min(a.offsetTop + lineHeight - t.scrollTop, t.offsetHeight);
    l.style.top = `${Math.max(0, top) + 4}px`;
    l.style.left = `${Math.max(0, Math.min(a.offsetLeft, t.offsetWidth - l.offsetWidth))}px`;
  };
  useLayoutEffect(place);

  const accept = (name: string) => {
    const el = textarea.current;
    if (!el || !mention) return;
    const c = completeMention(value, mention, name);
    el.focus();
    el.setSelectionRange(mention.start, mention.end);
    // insertText goes through the browser's editing, so Ctrl+Z undoes the completion like typing would.
    const inserted = document.execCommand('insertText', false, c.insert);
    if (!inserted || el.value !== c.text) {
      onChange(c.text);
      requestAnimationFrame(() => el.setSelectionRange(c.caret, c.caret));
    }
    setCaret(c.caret);
  };

  const handleKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // Keys that confirm an IME composition belong to the IME.
    if (e.nativeEvent.isComposing || e.keyCode === 229) return;
    // Ctrl+Space brings back a list closed with Escape (it stays closed for that mention until then).
    if (e.key === ' ' && e.ctrlKey && mention) {
      e.preventDefault();
      setDismissedAt(null);
      return;
    }
    if (open) {
      const n = matches.length;
      const plain = !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const step = e.key === 'ArrowDown' ? 1 : n - 1;
        setActive({ query: mention.query, index: (activeIndex + step) % n });
        return;
      }
      if ((e.key === 'Enter' || e.key === 'Tab') && plain) {
        e.preventDefault();
        accept(matches[activeIndex]!.name);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        setDismissedAt(mention.start);
        return;
      }
    }
    onKeyDown?.(e);
  };

  const onSelect = (e: SyntheticEvent<HTMLTextAreaElement>) => sync(e.currentTarget);
  const segments = highlightSegments(value, subjects);

  return (
    <div className="mention-field">
      <div ref={mirror} className="mention-mirror" aria-hidden="true">
        {renderMirror(segments, open ? mention.start : null, pendingMention(value, caret, subjects), anchor)}
        {/* A trailing newline needs a character after it to take up its line, as it does in the textarea. */}
        {value.endsWith('\n') ? ' ' : null}
      </div>
      <textarea
        ref={textarea}
        id={id}
        className="mention-input"
        data-testid={testId}
        value={value}
        placeholder={placeholder}
        rows={3}
        spellCheck
        role="combobox"
        aria-multiline="true"
        aria-autocomplete="list"
        aria-expanded={open}
        aria-controls={listId}
        aria-activedescendant={open ? optionId(activeIndex) : undefined}
        aria-describedby={describedBy}
        onChange={(e) => {
          onChange(e.target.value);
          sync(e.target);
        }}
        onSelect={onSelect}
        onClick={onSelect}
        onFocus={onSelect}
        onBlur={() => setCaret(null)}
        onScroll={syncScroll}
        onKeyDown={handleKeyDown}
      />
      <ul ref={list} id={listId} role="listbox" aria-label="Subjects" className="mention-suggestions" data-testid="prompt.suggestions" hidden={!open}>
        {open &&
          matches.map((s, i) => (
            <li
              key={s.name}
              id={optionId(i)}
              role="option"
              aria-selected={i === activeIndex}
              data-testid="prompt.suggestion"
              // mousedown would blur the textarea and close the list before the click lands.
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => accept(s.name)}
              onMouseMove={() => i !== activeIndex && setActive({ query: mention.query, index: i })}
            >
              <span className="mention-name">@{s.name}</span>
              {s.classWord && <span className="mention-class">{s.classWord}</span>}
            </li>
          ))}
      </ul>
    </div>
  );
}
