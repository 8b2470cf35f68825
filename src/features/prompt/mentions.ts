/**
 * Pure prompt-editor logic: which parts of the prompt are @mentions (known or
 * not), which mention the caret is in, which subjects match what was typed,
 * and the text after accepting a suggestion. Mentions come from the prompt
 * compiler's own parser, so what the editor highlights is what the engine
 * will compile.
 */
import { findSubjectIndex, parseMentions } from '../../../workers/pipeline/text/prompt';

export { findSubjectIndex };

export interface MentionSubject {
  name: string;
  classWord: string;
}

export type Segment =
  | { kind: 'text'; text: string; start: number; end: number }
  /** A mention of an existing subject; `index` is the subject's position in the list. */
  | { kind: 'mention'; text: string; start: number; end: number; name: string; index: number }
  | { kind: 'unknown'; text: string; start: number; end: number; name: string };

/** The prompt cut into plain text, known mentions and unknown mentions, covering every character in order. */
export function highlightSegments(prompt: string, subjects: readonly MentionSubject[]): Segment[] {
  const out: Segment[] = [];
  let cursor = 0;
  for (const m of parseMentions(prompt)) {
    if (m.start > cursor) out.push({ kind: 'text', text: prompt.slice(cursor, m.start), start: cursor, end: m.start });
    const text = prompt.slice(m.start, m.end);
    const index = findSubjectIndex(m.name, subjects);
    out.push(index >= 0 ? { kind: 'mention', text, start: m.start, end: m.end, name: m.name, index } : { kind: 'unknown', text, start: m.start, end: m.end, name: m.name });
    cursor = m.end;
  }
  if (cursor < prompt.length) out.push({ kind: 'text', text: prompt.slice(cursor), start: cursor, end: prompt.length });
  return out;
}

/** Names mentioned with no such subject, each once, in order of first mention; the mention starting at `pendingAt` (still being typed) is left out. */
export function unknownNames(prompt: string, subjects: readonly MentionSubject[], pendingAt: number | null = null): string[] {
  const seen = new Set<string>();
  for (const m of parseMentions(prompt)) if (m.start !== pendingAt && findSubjectIndex(m.name, subjects) < 0) seen.add(m.name);
  return [...seen];
}

export interface ActiveMention {
  /** Index of the `@`. */
  start: number;
  /** Index just past the name (which may go on after the caret). */
  end: number;
  /** What was typed between the `@` and the caret. */
  query: string;
}

/**
 * The mention being typed at the caret, or null. A bare "@" counts when the
 * compiler would read it as a mention once a letter follows: the check runs
 * the compiler's parser with a letter put in at the caret, so e-mail
 * addresses ("a@b") and "@1" never open suggestions.
 */
export function mentionAtCaret(prompt: string, caret: number): ActiveMention | null {
  if (caret < 1 || caret > prompt.length) return null;
  const probe = `${prompt.slice(0, caret)}x${prompt.slice(caret)}`;
  const hit = parseMentions(probe).find((m) => m.start < caret && m.end > caret);
  if (!hit) return null;
  return { start: hit.start, end: hit.end - 1, query: prompt.slice(hit.start + 1, caret) };
}

/** Subjects whose name starts with the query, then those that contain it, ignoring case. */
export function matchSubjects<S extends MentionSubject>(query: string, subjects: readonly S[], limit = 8): S[] {
  const q = query.toLowerCase();
  const prefix = subjects.filter((s) => s.name.toLowerCase().startsWith(q));
  const inner = subjects.filter((s) => !s.name.toLowerCase().startsWith(q) && s.name.toLowerCase().includes(q));
  return [...prefix, ...inner].slice(0, limit);
}

export interface Completion {
  /** The prompt after accepting. */
  text: string;
  /** What replaces prompt.slice(mention.start, mention.end). */
  insert: string;
  /** Where the caret goes. */
  caret: number;
}

/**
 * The start of the mention being typed at the caret while it can still become
 * a subject's name (some subject matches it), else null: such a mention is not
 * flagged as unknown yet, as "@mo" on its way to "@mochi".
 */
export function pendingMention(prompt: string, caret: number | null, subjects: readonly MentionSubject[]): number | null {
  const m = caret === null ? null : mentionAtCaret(prompt, caret);
  return m && matchSubjects(m.query, subjects, 1).length > 0 ? m.start : null;
}

/** Replaces the mention with `@name`; at the end of the prompt a space follows, ready for the next word. */
export function completeMention(prompt: string, mention: Pick<ActiveMention, 'start' | 'end'>, name: string): Completion {
  const insert = `@${name}${mention.end >= prompt.length ? ' ' : ''}`;
  return {
    text: prompt.slice(0, mention.start) + insert + prompt.slice(mention.end),
    insert,
    caret: mention.start + insert.length,
  };
}
