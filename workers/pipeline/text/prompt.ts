/**
 * The prompt compiler (METHOD.md section 6): `@name` mentions become the
 * subject's placeholder token and class word (`@mochi` -> `<s1> cat`), and the
 * token positions of each expansion are recorded as the subject's concept rows
 * (METHOD.md section 2).
 *
 * Positions come from the tokenizer, never from string guessing: the prompt is
 * cut into segments (the text between mentions, and each mention's
 * expansion), each segment is encoded on its own without special tokens, and
 * the ids are concatenated, so every id is known to come from exactly one
 * segment. The result is checked against encoding the whole expanded text in
 * one go; if a junction would change the tokenization (two segments that the
 * pre-tokenizer would have merged into one word), the expansion is set off by
 * spaces and the check is repeated.
 *
 * Pure TypeScript: runs in the engine worker and in Node tests.
 */
import type { Tokenizer } from '@huggingface/tokenizers';
import type { PackManifest } from '../../pack/manifest';

export interface PromptSubject {
  /** What the user types after `@` (see isValidSubjectName). */
  name: string;
  /** The subject's placeholder token, one of the pack's `tokenizer.placeholders` (e.g. "<s1>"). */
  placeholder: string;
  /** The class word that carries the meaning while the placeholder is untuned ("cat"); may be several words or empty. */
  classWord: string;
}

export interface Mention {
  name: string;
  /** Index of the `@` in the prompt. */
  start: number;
  /** Index just past the name. */
  end: number;
}

export interface CompiledConcept {
  subject: string;
  /** Indices into `ids` of the placeholder and class-word tokens, every mention, ascending. */
  positions: number[];
}

export interface PromptTruncation {
  /** Tokens kept, bos and eos included (= maxText). */
  keptTokens: number;
  /** Tokens cut (tokenCount - keptTokens). */
  droppedTokens: number;
  /** The part of the original prompt that was cut, from the first word (or mention) that lost a token. */
  droppedText: string;
  /**
   * True when the first word (or mention) of droppedText lost only some of its
   * tokens: the cut fell inside it, so its first tokens are still encoded.
   */
  cutInsideWord: boolean;
  /** Subjects that lost at least one concept position (a subject that lost all of them is absent from `concepts`). */
  cutSubjects: string[];
}

export interface CompiledPrompt {
  /** Exactly tokens.maxText ids: bos, the prompt, eos, then pad. */
  ids: number[];
  /** Tokens before padding (bos and eos included). */
  attentionLength: number;
  /** The text that was encoded: mentions replaced by "placeholder classWord". */
  expandedText: string;
  /** One entry per mentioned subject that kept a token, in order of first mention. */
  concepts: CompiledConcept[];
  /** Mentions with no such subject: left in the text as typed. */
  unknownNames: Mention[];
  /** Reserved token strings (bos/eos/pad/placeholders, the tokenizer's added tokens) typed into the prompt; they are blanked out, not encoded. */
  strippedTokens: { text: string; start: number; end: number }[];
  truncation: PromptTruncation | null;
  /** Tokens before truncation, bos and eos included. */
  tokenCount: number;
}

type TextManifest = Pick<PackManifest, 'tokenizer' | 'tokens'>;

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const NAME_START = /[A-Za-z]/;
const NAME_CHAR = /[A-Za-z0-9_-]/;
/** A word character before `@` makes it not a mention (e-mail addresses, "a@b"). Unicode-aware. */
const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;

/** The rule for what may follow `@`: a letter, then letters, digits, `_` or `-`. */
export function isValidSubjectName(name: string): boolean {
  return NAME_RE.test(name);
}

/** Every `@name` in the prompt that is not preceded by a word character. */
export function parseMentions(prompt: string): Mention[] {
  const out: Mention[] = [];
  for (let i = 0; i < prompt.length; i++) {
    if (prompt[i] !== '@') continue;
    if (i > 0 && WORD_CHAR.test(prevChar(prompt, i))) continue;
    const first = prompt[i + 1];
    if (first === undefined || !NAME_START.test(first)) continue;
    let end = i + 2;
    while (end < prompt.length && NAME_CHAR.test(prompt[end]!)) end++;
    out.push({ name: prompt.slice(i + 1, end), start: i, end });
    i = end - 1;
  }
  return out;
}

/** The code point ending just before index i (handles surrogate pairs). */
function prevChar(s: string, i: number): string {
  const lo = s.charCodeAt(i - 1);
  if (i >= 2 && lo >= 0xdc00 && lo <= 0xdfff) {
    const hi = s.charCodeAt(i - 2);
    if (hi >= 0xd800 && hi <= 0xdbff) return s.slice(i - 2, i);
  }
  return s.slice(i - 1, i);
}

export interface SpecialIds {
  bos: number;
  eos: number;
  pad: number;
  /** Placeholder token -> id. */
  placeholders: Map<string, number>;
}

/** Looks up the manifest's special and placeholder tokens in the tokenizer's vocabulary; throws if one is missing. */
export function resolveSpecialIds(tokenizer: Tokenizer, manifest: TextManifest): SpecialIds {
  const need = (token: string, what: string): number => {
    const id = tokenizer.token_to_id(token);
    if (id === undefined) throw new Error(`the pack's tokenizer has no ${what} token ${JSON.stringify(token)}`);
    return id;
  };
  const t = manifest.tokenizer;
  return {
    bos: need(t.bos, 'bos'),
    eos: need(t.eos, 'eos'),
    pad: need(t.pad, 'pad'),
    placeholders: new Map(t.placeholders.map((p) => [p, need(p, 'placeholder')])),
  };
}

/** The unconditional prompt: bos eos pad ... (maxText ids). */
export function emptyPrompt(tokenizer: Tokenizer, manifest: TextManifest): CompiledPrompt {
  return compilePrompt(tokenizer, manifest, '', []);
}

interface Segment {
  /** Text to encode (plain text is blanked where reserved tokens were typed). */
  text: string;
  /** The original prompt range this segment stands for. */
  start: number;
  end: number;
  /** Set for a known mention: the subject's name. */
  subject?: string;
  ids: number[];
}

function encodeIds(tokenizer: Tokenizer, text: string): number[] {
  if (text.length === 0) return [];
  return tokenizer.encode(text, { add_special_tokens: false }).ids;
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function reservedStrings(tokenizer: Tokenizer, manifest: TextManifest): string[] {
  const set = new Set<string>([manifest.tokenizer.bos, manifest.tokenizer.eos, manifest.tokenizer.pad, ...manifest.tokenizer.placeholders]);
  for (const t of tokenizer.get_added_tokens_decoder().values()) set.add(t.content);
  set.delete('');
  // Longest first, so "<s10>" is found before "<s1>".
  return [...set].sort((a, b) => b.length - a.length);
}

/** Replaces every reserved token string by spaces of the same length (so character positions still line up). */
function blankReserved(
  text: string,
  offset: number,
  reserved: readonly string[],
  found: CompiledPrompt['strippedTokens'],
): string {
  let out = text;
  for (let i = 0; i < out.length; i++) {
    for (const r of reserved) {
      if (out.startsWith(r, i)) {
        found.push({ text: r, start: offset + i, end: offset + i + r.length });
        out = out.slice(0, i) + ' '.repeat(r.length) + out.slice(i + r.length);
        i += r.length - 1;
        break;
      }
    }
  }
  return out;
}

function validateSubjects(subjects: readonly PromptSubject[], special: SpecialIds, tokenizer: Tokenizer): void {
  const names = new Set<string>();
  const placeholders = new Set<string>();
  for (const s of subjects) {
    if (!isValidSubjectName(s.name)) throw new Error(`invalid subject name ${JSON.stringify(s.name)}: use a letter, then letters, digits, "_" or "-"`);
    const key = s.name.toLowerCase();
    if (names.has(key)) throw new Error(`two subjects are named ${JSON.stringify(s.name)} (names are case-insensitive)`);
    names.add(key);
    if (placeholders.has(s.placeholder)) throw new Error(`two subjects share the placeholder ${JSON.stringify(s.placeholder)}`);
    placeholders.add(s.placeholder);
    if (!special.placeholders.has(s.placeholder)) {
      throw new Error(`subject ${s.name}: ${JSON.stringify(s.placeholder)} is not one of the pack's placeholders (${[...special.placeholders.keys()].join(', ')})`);
    }
    const enc = encodeIds(tokenizer, s.placeholder);
    if (enc.length !== 1 || enc[0] !== special.placeholders.get(s.placeholder)) {
      throw new Error(`subject ${s.name}: the tokenizer does not encode ${JSON.stringify(s.placeholder)} as one token`);
    }
  }
}

/**
 * The subject a mention names, as an index into `subjects` (-1: none): the
 * exact name first, then ignoring case (names are unique case-insensitively).
 * The one lookup the compiler, the prompt editor and the request builder share.
 */
export function findSubjectIndex(name: string, subjects: readonly { name: string }[]): number {
  const exact = subjects.findIndex((s) => s.name === name);
  if (exact >= 0) return exact;
  const folded = name.toLowerCase();
  return subjects.findIndex((s) => s.name.toLowerCase() === folded);
}

function expansionOf(s: PromptSubject): string {
  const cls = s.classWord.trim().replace(/\s+/g, ' ');
  return cls ? `${s.placeholder} ${cls}` : s.placeholder;
}

const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c);

/**
 * The content ids in the encoder's frame, padded to maxText: bos content eos (CLIP: the content
 * is cut so that eos stays), or the pack's chat template around the content (FLUX.2's Qwen3: the
 * whole templated sequence cut at maxText, as transformers truncates the rendered template, so a
 * long prompt loses the template's tail too). The template parts are encoded on their own; the
 * model sees exactly these ids.
 */
function frame(
  tokenizer: Tokenizer,
  manifest: TextManifest,
  special: SpecialIds,
  content: readonly number[],
): { ids: number[]; tokenCount: number; keptContent: number; attentionLength: number; offset: number } {
  const maxText = manifest.tokens.maxText;
  const template = manifest.tokenizer.template;
  const prefix = template ? encodeIds(tokenizer, template.prefix) : [special.bos];
  const suffix = template ? encodeIds(tokenizer, template.suffix) : [special.eos];
  if (prefix.length >= maxText) throw new Error(`tokens.maxText ${maxText} leaves no room for the prompt after the template's ${prefix.length} tokens`);
  const tokenCount = prefix.length + content.length + suffix.length;
  const keptContent = Math.min(content.length, template ? maxText - prefix.length : maxText - 2);
  const ids = template
    ? [...prefix, ...content, ...suffix].slice(0, maxText)
    : [special.bos, ...content.slice(0, keptContent), special.eos];
  const attentionLength = ids.length;
  while (ids.length < maxText) ids.push(special.pad);
  return { ids, tokenCount, keptContent, attentionLength, offset: prefix.length };
}

/**
 * Compiles a prompt for the text encoder: ids (exactly tokens.maxText), the
 * concept positions of every mentioned subject, and what was cut or not
 * understood.
 */
export function compilePrompt(
  tokenizer: Tokenizer,
  manifest: TextManifest,
  prompt: string,
  subjects: readonly PromptSubject[],
): CompiledPrompt {
  const maxText = manifest.tokens.maxText;
  if (maxText < 2) throw new Error(`tokens.maxText ${maxText} leaves no room for bos and eos`);
  const special = resolveSpecialIds(tokenizer, manifest);
  validateSubjects(subjects, special, tokenizer);
  const find = (name: string): PromptSubject | undefined => subjects[findSubjectIndex(name, subjects)];
  const reserved = reservedStrings(tokenizer, manifest);

  const unknownNames: Mention[] = [];
  const strippedTokens: CompiledPrompt['strippedTokens'] = [];
  const plain = (start: number, end: number): Segment => ({
    text: blankReserved(prompt.slice(start, end), start, reserved, strippedTokens),
    start,
    end,
    ids: [],
  });

  // Segments: plain text between known mentions, and each known mention.
  const segments: Segment[] = [];
  let cursor = 0;
  for (const m of parseMentions(prompt)) {
    const s = find(m.name);
    if (!s) {
      unknownNames.push(m);
      continue;
    }
    if (m.start > cursor) segments.push(plain(cursor, m.start));
    segments.push({ text: expansionOf(s), start: m.start, end: m.end, subject: s.name, ids: [] });
    cursor = m.end;
  }
  if (cursor < prompt.length || segments.length === 0) segments.push(plain(cursor, prompt.length));

  for (const seg of segments) seg.ids = encodeIds(tokenizer, seg.text);

  // Junction check: the segment-wise ids must equal the whole expanded text's.
  let pieces = segments.map((s) => s.text);
  let expandedText = pieces.join('');
  if (!sameIds(segments.flatMap((s) => s.ids), encodeIds(tokenizer, expandedText))) {
    // Set each expansion off by spaces where it touches other text, and retry.
    pieces = segments.map((s, i) => {
      if (s.subject === undefined) return s.text;
      const before = i > 0 && !isSpace(segments[i - 1]!.text.at(-1)) ? ' ' : '';
      const after = i < segments.length - 1 && !isSpace(segments[i + 1]!.text[0]) ? ' ' : '';
      return before + s.text + after;
    });
    expandedText = pieces.join('');
    if (!sameIds(segments.flatMap((s) => s.ids), encodeIds(tokenizer, expandedText))) {
      throw new Error(
        'the pack tokenizer does not encode the prompt segment by segment the way it encodes it whole, so concept positions cannot be found; its pre-tokenizer must split on whitespace',
      );
    }
  }

  const content = segments.flatMap((s) => s.ids);
  const { ids, tokenCount, keptContent, attentionLength, offset } = frame(tokenizer, manifest, special, content);

  // Concept positions (index in ids = offset + index in content), in order of first mention.
  const conceptMap = new Map<string, { kept: number[]; cut: number }>();
  let at = 0;
  for (const seg of segments) {
    if (seg.subject !== undefined) {
      let c = conceptMap.get(seg.subject);
      if (!c) conceptMap.set(seg.subject, (c = { kept: [], cut: 0 }));
      for (let k = 0; k < seg.ids.length; k++) {
        if (at + k < keptContent) c.kept.push(offset + at + k);
        else c.cut++;
      }
    }
    at += seg.ids.length;
  }
  const concepts = [...conceptMap].filter(([, c]) => c.kept.length > 0).map(([subject, c]) => ({ subject, positions: c.kept }));

  let truncation: PromptTruncation | null = null;
  if (keptContent < content.length) {
    const cut = locateCut(tokenizer, prompt, segments, keptContent);
    truncation = {
      keptTokens: maxText,
      droppedTokens: tokenCount - maxText,
      droppedText: prompt.slice(cut.char),
      cutInsideWord: cut.inside,
      cutSubjects: [...conceptMap].filter(([, c]) => c.cut > 0).map(([s]) => s),
    };
  }

  return { ids, attentionLength, expandedText, concepts, unknownNames, strippedTokens, truncation, tokenCount };
}

/**
 * Where in the original prompt the first dropped token begins. Without token
 * offsets, a plain segment is searched for a character cut that splits its
 * encoding exactly after `k` tokens (encode(left) ++ encode(right) equals the
 * segment's ids); when the token cut falls inside a word no such character
 * exists, and the word's start is returned with inside = true.
 */
function locateCut(tokenizer: Tokenizer, prompt: string, segments: readonly Segment[], keptContent: number): { char: number; inside: boolean } {
  let at = 0;
  for (const seg of segments) {
    const n = seg.ids.length;
    if (at + n <= keptContent) {
      at += n;
      continue;
    }
    const k = keptContent - at; // tokens of this segment that are kept, 0 <= k < n
    if (seg.subject !== undefined) return { char: seg.start, inside: k > 0 };
    const local = locateInPlain(tokenizer, seg, k);
    return { char: skipSpaces(prompt, seg.start + local.char, seg.end), inside: local.inside };
  }
  return { char: prompt.length, inside: false };
}

function skipSpaces(s: string, i: number, end: number): number {
  while (i < end && isSpace(s[i])) i++;
  return i;
}

function locateInPlain(tokenizer: Tokenizer, seg: Segment, k: number): { char: number; inside: boolean } {
  if (k === 0) return { char: 0, inside: false };
  const text = seg.text;
  // Narrow to whitespace-separated chunks first (cheap), if they encode independently.
  const chunks: { start: number; end: number; ids: number[] }[] = [];
  for (const m of text.matchAll(/\S+/g)) {
    chunks.push({ start: m.index, end: m.index + m[0].length, ids: encodeIds(tokenizer, m[0]) });
  }
  let lo = 0;
  let hi = text.length;
  let base = 0; // tokens before `lo`
  if (sameIds(chunks.flatMap((c) => c.ids), seg.ids)) {
    let before = 0;
    for (const c of chunks) {
      if (before + c.ids.length > k) {
        if (before === k) return { char: c.start, inside: false };
        lo = c.start;
        hi = c.end;
        base = before;
        break;
      }
      before += c.ids.length;
    }
  }
  // Character search inside [lo, hi): the first exact split after k tokens,
  // else the last valid split before them (the cut is inside a word).
  let best = { char: lo, inside: true };
  const head = seg.ids.slice(0, base);
  for (let c = lo + 1; c < hi; c++) {
    const left = [...head, ...encodeIds(tokenizer, text.slice(lo, c))];
    if (left.length > k) continue;
    if (!sameIds([...left, ...encodeIds(tokenizer, text.slice(c))], seg.ids)) continue;
    if (left.length === k) return { char: c, inside: false };
    best = { char: c, inside: true };
  }
  return best;
}
