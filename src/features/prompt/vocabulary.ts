/**
 * A small model knows only its own words (the toy world's pack lists them in its manifest): the
 * prompt editor suggests them and gently notes the words of a prompt outside them. Pure.
 */
import { parseMentions } from '../../../workers/pipeline/text/prompt';

/** Words and punctuation of a prompt with its @mentions taken out, lower-cased, as the tokenizer splits them. */
export function promptWords(prompt: string): string[] {
  let text = '';
  let at = 0;
  for (const m of parseMentions(prompt)) {
    text += `${prompt.slice(at, m.start)} `;
    at = m.end;
  }
  text += prompt.slice(at);
  return text.toLowerCase().match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? [];
}

/** The prompt's words outside the vocabulary, each once, in the order they first appear. */
export function wordsOutsideVocabulary(prompt: string, vocabulary: readonly string[]): string[] {
  const known = new Set(vocabulary.map((w) => w.toLowerCase()));
  const out: string[] = [];
  for (const w of promptWords(prompt)) if (!known.has(w) && !out.includes(w)) out.push(w);
  return out;
}
