import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import type { PackManifest } from '../../pack/manifest';
import { compilePrompt, emptyPrompt, isValidSubjectName, parseMentions, resolveSpecialIds, type CompiledPrompt, type PromptSubject } from './prompt';

const tokenizerJson = JSON.parse(readFileSync(new URL('../../../public/packs/test/tokenizer.json', import.meta.url), 'utf8')) as object;
const manifest = JSON.parse(readFileSync(new URL('../../../public/packs/test/manifest.json', import.meta.url), 'utf8')) as Pick<
  PackManifest,
  'tokenizer' | 'tokens'
>;
const tok = new Tokenizer(tokenizerJson, {});
const MAX = manifest.tokens.maxText;
const BOS = 1;
const EOS = 2;
const PAD = 0;

const mochi: PromptSubject = { name: 'mochi', placeholder: '<s1>', classWord: 'cat' };
const teddy: PromptSubject = { name: 'Teddy', placeholder: '<s2>', classWord: 'teddy bear' };

const id = (token: string) => {
  const v = tok.token_to_id(token);
  if (v === undefined) throw new Error(`no token ${token}`);
  return v;
};
const enc = (text: string) => tok.encode(text, { add_special_tokens: false }).ids;
const tokensAt = (r: CompiledPrompt, positions: number[]) => positions.map((p) => tok.id_to_token(r.ids[p]!));

/** Invariants every compiled prompt must satisfy. */
function checkInvariants(r: CompiledPrompt): void {
  expect(r.ids).toHaveLength(MAX);
  expect(r.ids[0]).toBe(BOS);
  expect(r.attentionLength).toBe(Math.min(r.tokenCount, MAX));
  expect(r.ids[r.attentionLength - 1]).toBe(EOS);
  expect(r.ids.slice(r.attentionLength).every((v) => v === PAD)).toBe(true);
  // Segment-wise ids equal encoding the whole expanded text with the tokenizer's own template.
  const whole = tok.encode(r.expandedText, { add_special_tokens: true }).ids;
  expect(whole).toHaveLength(r.tokenCount);
  if (r.truncation === null) expect(r.ids.slice(0, r.attentionLength)).toEqual(whole);
  else expect(r.ids.slice(0, MAX - 1)).toEqual(whole.slice(0, MAX - 1));
  for (const c of r.concepts) {
    expect(c.positions.length).toBeGreaterThan(0);
    for (const p of c.positions) {
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThan(r.attentionLength - 1);
    }
  }
}

describe('parseMentions / isValidSubjectName', () => {
  it('finds @names with their ranges', () => {
    expect(parseMentions('@mochi and @Teddy_2-b, @x!')).toEqual([
      { name: 'mochi', start: 0, end: 6 },
      { name: 'Teddy_2-b', start: 11, end: 21 },
      { name: 'x', start: 23, end: 25 },
    ]);
  });

  it('does not take e-mail addresses, bare @ or @ before a non-letter', () => {
    expect(parseMentions('mail a@b.c or me@mochi.com')).toEqual([]);
    expect(parseMentions('@ alone, @1st, @_x, trailing @')).toEqual([]);
    expect(parseMentions('café@mochi')).toEqual([]); // a Unicode letter before @ is a word character too
  });

  it('takes a mention after punctuation, and the second @ of @@', () => {
    expect(parseMentions('(@mochi),"@teddy"')).toEqual([
      { name: 'mochi', start: 1, end: 7 },
      { name: 'teddy', start: 10, end: 16 },
    ]);
    expect(parseMentions('@@mochi')).toEqual([{ name: 'mochi', start: 1, end: 7 }]);
  });

  it('validates names with the same rule', () => {
    for (const ok of ['mochi', 'M', 'teddy_bear', 'a-b-2']) expect(isValidSubjectName(ok)).toBe(true);
    for (const bad of ['', '1cat', '_x', '-x', 'with space', 'café', '@mochi']) expect(isValidSubjectName(bad)).toBe(false);
  });
});

describe('compilePrompt with the test-pack tokenizer', () => {
  it('resolves the manifest special tokens from the vocabulary', () => {
    const s = resolveSpecialIds(tok, manifest);
    expect([s.bos, s.eos, s.pad]).toEqual([BOS, EOS, PAD]);
    expect([...s.placeholders.values()]).toEqual([4, 5, 6, 7]);
  });

  it('expands @mochi to <s1> cat at positions [1, 2]', () => {
    const prompt = '@mochi sleeping on a stack of books, watercolor';
    const r = compilePrompt(tok, manifest, prompt, [mochi]);
    checkInvariants(r);
    expect(r.expandedText).toBe('<s1> cat sleeping on a stack of books, watercolor');
    expect(r.concepts).toEqual([{ subject: 'mochi', positions: [1, 2] }]);
    expect(tokensAt(r, [1, 2])).toEqual(['<s1>', 'cat</w>']);
    expect(r.ids.slice(0, 12)).toEqual([BOS, 4, id('cat</w>'), ...enc('sleeping on a stack of books, watercolor'), EOS]);
    expect(r.attentionLength).toBe(12);
    expect(r.tokenCount).toBe(12);
    expect(r.unknownNames).toEqual([]);
    expect(r.truncation).toBeNull();
  });

  it('handles two subjects, one with a two-token class word, matching names case-insensitively', () => {
    const r = compilePrompt(tok, manifest, '@mochi and @teddy on a beach', [mochi, teddy]);
    checkInvariants(r);
    expect(r.expandedText).toBe('<s1> cat and <s2> teddy bear on a beach');
    expect(r.concepts).toEqual([
      { subject: 'mochi', positions: [1, 2] },
      { subject: 'Teddy', positions: [4, 5, 6] },
    ]);
    expect(tokensAt(r, [4, 5, 6])).toEqual(['<s2>', 'teddy</w>', 'bear</w>']);
  });

  it('gives a subject mentioned twice both occurrences', () => {
    const r = compilePrompt(tok, manifest, '@mochi and @teddy on a beach, @Mochi!', [mochi, teddy]);
    checkInvariants(r);
    expect(r.expandedText).toBe('<s1> cat and <s2> teddy bear on a beach, <s1> cat!');
    expect(r.concepts).toEqual([
      { subject: 'mochi', positions: [1, 2, 11, 12] },
      { subject: 'Teddy', positions: [4, 5, 6] },
    ]);
    expect(tokensAt(r, [11, 12, 13])).toEqual(['<s1>', 'cat</w>', '!</w>']);
  });

  it('reports an unknown @name and leaves it in the text', () => {
    const r = compilePrompt(tok, manifest, '@bob with @mochi', [mochi]);
    checkInvariants(r);
    expect(r.unknownNames).toEqual([{ name: 'bob', start: 0, end: 4 }]);
    expect(r.expandedText).toBe('@bob with <s1> cat');
    const bob = enc('@bob with');
    expect(r.ids.slice(1, 1 + bob.length)).toEqual(bob);
    expect(r.concepts).toEqual([{ subject: 'mochi', positions: [bob.length + 1, bob.length + 2] }]);
  });

  it('handles a mention glued to punctuation', () => {
    for (const [prompt, expanded, positions] of [
      ['@mochi, sleeping', '<s1> cat, sleeping', [1, 2]],
      ['a photo of @mochi.', 'a photo of <s1> cat.', [4, 5]],
      ['(@mochi)', '(<s1> cat)', [2, 3]],
      ['"@mochi"!?', '"<s1> cat"!?', [2, 3]],
      ["@mochi's hat", "<s1> cat's hat", [1, 2]],
    ] as const) {
      const r = compilePrompt(tok, manifest, prompt, [mochi]);
      checkInvariants(r);
      expect(r.expandedText).toBe(expanded);
      expect(r.concepts).toEqual([{ subject: 'mochi', positions }]);
      expect(tokensAt(r, [...positions])).toEqual(['<s1>', 'cat</w>']);
    }
  });

  it('sets an expansion off by a space where gluing would change the tokenization', () => {
    // "cat.," would pre-tokenize ".," as one word; the segments give "." and ",".
    const dotted: PromptSubject = { name: 'mochi', placeholder: '<s1>', classWord: 'cat.' };
    const r = compilePrompt(tok, manifest, '@mochi, sleeping', [dotted]);
    checkInvariants(r);
    expect(r.expandedText).toBe('<s1> cat. , sleeping');
    expect(r.concepts).toEqual([{ subject: 'mochi', positions: [1, 2, 3] }]);
  });

  it('segment-wise encoding equals whole-string encoding on typical prompts', () => {
    const prompts = [
      '@mochi sleeping on a stack of books, watercolor',
      'A photo of @mochi   wearing a hat,@teddy nearby',
      '@teddy: red scarf; @mochi - oil painting!',
      'closeup of @mochi\tin the snow\n(high quality)',
      '@mochi@teddy',
      '@mochié',
      'portrait of @MOCHI, 3 cats & 2 dogs / pixel art',
    ];
    for (const p of prompts) checkInvariants(compilePrompt(tok, manifest, p, [mochi, teddy]));
  });

  it('does not take an e-mail address as a mention', () => {
    const r = compilePrompt(tok, manifest, 'mail mochi@mochi.com', [mochi]);
    checkInvariants(r);
    expect(r.expandedText).toBe('mail mochi@mochi.com');
    expect(r.concepts).toEqual([]);
    expect(r.unknownNames).toEqual([]);
  });

  it('compiles the empty prompt to bos eos pad...', () => {
    const expected = [BOS, EOS, ...new Array<number>(MAX - 2).fill(PAD)];
    for (const r of [compilePrompt(tok, manifest, '', [mochi]), emptyPrompt(tok, manifest), compilePrompt(tok, manifest, '   ', [])]) {
      checkInvariants(r);
      expect(r.ids).toEqual(expected);
      expect(r.attentionLength).toBe(2);
      expect(r.tokenCount).toBe(2);
      expect(r.concepts).toEqual([]);
      expect(r.truncation).toBeNull();
    }
  });

  it('truncates a long prompt, keeping eos last, and reports what was cut', () => {
    const prompt = 'a photo of a cat sleeping on a stack of books near a window at sunset, watercolor painting';
    const r = compilePrompt(tok, manifest, prompt, []);
    checkInvariants(r);
    expect(r.tokenCount).toBe(enc(prompt).length + 2);
    expect(r.tokenCount).toBe(21);
    expect(r.ids.at(-1)).toBe(EOS);
    expect(r.ids.slice(1, MAX - 1)).toEqual(enc('a photo of a cat sleeping on a stack of books near a window'));
    expect(r.truncation).toEqual({
      keptTokens: 16,
      droppedTokens: 5,
      droppedText: 'at sunset, watercolor painting',
      cutInsideWord: false,
      cutSubjects: [],
    });
    expect(enc(r.truncation!.droppedText)).toHaveLength(r.truncation!.droppedTokens);
  });

  it('finds a cut between a word and its punctuation', () => {
    const r = compilePrompt(tok, manifest, 'a photo of a cat sleeping on a stack of books near a window, watercolor', []);
    checkInvariants(r);
    expect(r.truncation).toMatchObject({ droppedTokens: 2, droppedText: ', watercolor', cutInsideWord: false });
  });

  it('reports a cut inside a word', () => {
    const prompt = 'a photo of a cat sleeping on a stack of books near xylophone music';
    const r = compilePrompt(tok, manifest, prompt, []);
    checkInvariants(r);
    const xylo = enc('xylophone').length; // several tokens: the cut keeps 2 of them
    expect(xylo).toBeGreaterThan(2);
    expect(r.truncation).toMatchObject({ droppedTokens: xylo - 2 + enc('music').length, droppedText: 'xylophone music', cutInsideWord: true });
    expect(r.ids.slice(MAX - 3, MAX - 1)).toEqual(enc('xylophone').slice(0, 2));
  });

  it('drops concept positions cut by truncation and says which subjects lost them', () => {
    const base = 'a photo of a cat sleeping on a stack of books near';
    // 12 tokens before the mention: <s1> fits (position 13), "cat" too (14); the rest is cut.
    const a = compilePrompt(tok, manifest, `${base} @mochi and @teddy`, [mochi, teddy]);
    checkInvariants(a);
    expect(a.concepts).toEqual([{ subject: 'mochi', positions: [13, 14] }]);
    expect(a.truncation).toMatchObject({ droppedText: 'and @teddy', cutInsideWord: false, cutSubjects: ['Teddy'], droppedTokens: 4 });

    // One more word: only <s1> fits.
    const b = compilePrompt(tok, manifest, `${base} a @mochi`, [mochi]);
    checkInvariants(b);
    expect(b.concepts).toEqual([{ subject: 'mochi', positions: [14] }]);
    expect(b.truncation).toMatchObject({ droppedTokens: 1, droppedText: '@mochi', cutInsideWord: true, cutSubjects: ['mochi'] });

    // A subject mentioned twice keeps the occurrence that fits.
    const c = compilePrompt(tok, manifest, `@mochi ${base} @mochi`, [mochi]);
    checkInvariants(c);
    expect(c.concepts).toEqual([{ subject: 'mochi', positions: [1, 2] }]);
    expect(c.truncation).toMatchObject({ droppedTokens: 2, droppedText: '@mochi', cutInsideWord: false, cutSubjects: ['mochi'] });
  });

  it('blanks reserved tokens typed into the prompt', () => {
    const r = compilePrompt(tok, manifest, 'a <s1> cat<eos> and @mochi', [mochi]);
    checkInvariants(r);
    expect(r.strippedTokens).toEqual([
      { text: '<s1>', start: 2, end: 6 },
      { text: '<eos>', start: 10, end: 15 },
    ]);
    expect(r.ids.filter((v) => v === 4)).toHaveLength(1); // only the mention's placeholder
    expect(r.concepts).toEqual([{ subject: 'mochi', positions: [4, 5] }]);
  });

  it('takes an empty class word as the placeholder alone', () => {
    const bare: PromptSubject = { name: 'mochi', placeholder: '<s1>', classWord: '  ' };
    const r = compilePrompt(tok, manifest, 'photo of @mochi', [bare]);
    checkInvariants(r);
    expect(r.expandedText).toBe('photo of <s1>');
    expect(r.concepts).toEqual([{ subject: 'mochi', positions: [3] }]);
  });

  it('rejects bad subject lists', () => {
    expect(() => compilePrompt(tok, manifest, 'x', [{ ...mochi, name: '1x' }])).toThrow(/invalid subject name/);
    expect(() => compilePrompt(tok, manifest, 'x', [mochi, { ...teddy, name: 'Mochi' }])).toThrow(/two subjects are named/);
    expect(() => compilePrompt(tok, manifest, 'x', [mochi, { ...teddy, placeholder: '<s1>' }])).toThrow(/share the placeholder/);
    expect(() => compilePrompt(tok, manifest, 'x', [{ ...mochi, placeholder: '<s9>' }])).toThrow(/not one of the pack's placeholders/);
  });

  it('always gives exactly maxText ids', () => {
    const words = ['@mochi', '@teddy', '@bob', 'cat', 'on', 'a', 'books,', 'xylophone', '!', 'watercolor', 'a@b.c', '(@mochi)'];
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let n = 0; n < 200; n++) {
      const len = Math.floor(rnd() * 20);
      const prompt = Array.from({ length: len }, () => words[Math.floor(rnd() * words.length)]).join(rnd() < 0.5 ? ' ' : '  ');
      const r = compilePrompt(tok, manifest, prompt, [mochi, teddy]);
      checkInvariants(r);
      if (r.truncation) {
        expect(r.truncation.droppedTokens).toBe(r.tokenCount - MAX);
        expect(prompt.endsWith(r.truncation.droppedText)).toBe(true);
      }
    }
  });
});
