/**
 * The tokenizer.json written from an SD3 folder's vocab.json + merges.txt, run by the studio's
 * tokenizer library, against the ids transformers' CLIPTokenizer gave for the fixture prompts
 * (reference/tokens.npy, tokens_2.npy and the same ids in index.json).
 */
import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { readInt64Npy } from '../testing/npy-int64';
import type { PackManifest } from '../../pack/manifest';
import { compilePrompt } from '../../pipeline/text/prompt';
import { buildClipTokenizerJson, CLIP_BOS, CLIP_EOS, type ClipTokenizerOptions } from './clip-tokenizer';

const FIXTURES = new URL('../../../fixtures/sd3/', import.meta.url).pathname;
const MAX_TEXT = 77;
const PLACEHOLDERS = ['<s1>', '<s2>', '<s3>', '<s4>'];
/** The last fixture prompt names "<s1>", which transformers tokenized as plain text (no placeholder was added). */
const PLAIN_S1 = '<s1> toy on the left';

interface ReferenceIndex {
  prompts: string[];
  token_ids: { tokenizer: string; ids: number[][] }[];
}

async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

/** An int64 .npy: [rows, cols] as numbers. */
async function readInt64Rows(path: string): Promise<number[][]> {
  const { shape, data } = await readInt64Npy(path);
  const [rows, cols] = shape as [number, number];
  return Array.from({ length: rows }, (_, r) => data.slice(r * cols, (r + 1) * cols));
}

async function tokenizerOf(model: string, folder: string, opts: ClipTokenizerOptions) {
  const built = buildClipTokenizerJson(await readText(`${FIXTURES}${model}/${folder}/vocab.json`), await readText(`${FIXTURES}${model}/${folder}/merges.txt`), opts);
  return { ...built, tokenizer: new Tokenizer(JSON.parse(built.json) as object, {}) };
}

/** As transformers pads for SD3: <bos> text <eos>, cut to 77 keeping <eos> last, then `pad`. */
function padded(tokenizer: Tokenizer, prompt: string, eos: number, pad: number): number[] {
  const ids = tokenizer.encode(prompt).ids;
  const kept = ids.length > MAX_TEXT ? [...ids.slice(0, MAX_TEXT - 1), eos] : ids;
  return [...kept, ...new Array<number>(MAX_TEXT - kept.length).fill(pad)];
}

describe.each(['sd3', 'sd3.5'])('CLIP tokenizer.json from fixtures/sd3/%s', (model) => {
  const index = async () => JSON.parse(await readText(`${FIXTURES}${model}/reference/index.json`)) as ReferenceIndex;

  it('has the same vocab.json and merges.txt in tokenizer/ and tokenizer_2/ (one tokenizer serves both encoders)', async () => {
    for (const file of ['vocab.json', 'merges.txt']) {
      expect(await readText(`${FIXTURES}${model}/tokenizer_2/${file}`), file).toBe(await readText(`${FIXTURES}${model}/tokenizer/${file}`));
    }
  });

  it('reproduces tokenizer/ (pad <|endoftext|>) and tokenizer_2/ (pad "!") for every fixture prompt', async () => {
    const { prompts, token_ids } = await index();
    for (const [folder, file, pad] of [
      ['tokenizer', 'tokens.npy', CLIP_EOS],
      ['tokenizer_2', 'tokens_2.npy', '!'],
    ] as const) {
      const t = await tokenizerOf(model, folder, { placeholders: [], padToken: pad });
      expect(t).toMatchObject({ vocabSize: 1000, bos: 998, eos: 999, placeholderIds: [] });
      const padId = t.tokenizer.token_to_id(pad)!;
      expect(padId).toBe(pad === '!' ? 0 : 999);
      const npy = await readInt64Rows(`${FIXTURES}${model}/reference/${file}`);
      const json = token_ids.find((x) => x.tokenizer === folder)!.ids;
      expect(npy).toEqual(json);
      const ours = prompts.map((p) => padded(t.tokenizer, p, t.eos, padId));
      expect(ours).toEqual(npy);
    }
  });

  it('treats the tokenizer_2 pad "!" as transformers does: a special token, id 0, not BPE "!</w>"', async () => {
    const { prompts } = await index();
    const plain = await tokenizerOf(model, 'tokenizer', { placeholders: [] });
    const withPad = await tokenizerOf(model, 'tokenizer', { placeholders: [], padToken: '!' });
    const bike = prompts.indexOf('A dog, riding a bike!');
    const enc = (t: Tokenizer) => t.encode(prompts[bike]!, { add_special_tokens: false }).ids;
    expect(enc(plain.tokenizer).at(-1)).toBe(plain.tokenizer.token_to_id('!</w>'));
    expect(enc(withPad.tokenizer).at(-1)).toBe(0);
    expect(enc(withPad.tokenizer).slice(0, -1)).toEqual(enc(plain.tokenizer).slice(0, -1));
  });

  it('gives each placeholder one new id after the vocabulary, leaving every other prompt as it was', async () => {
    const { prompts, token_ids } = await index();
    const t = await tokenizerOf(model, 'tokenizer', { placeholders: PLACEHOLDERS });
    expect(t.placeholderIds).toEqual([1000, 1001, 1002, 1003]);
    expect(t.vocabSize).toBe(1004);
    PLACEHOLDERS.forEach((p, i) => {
      expect(t.tokenizer.encode(p, { add_special_tokens: false }).ids).toEqual([t.placeholderIds[i]]);
      expect(t.tokenizer.token_to_id(p)).toBe(t.placeholderIds[i]);
    });
    // Not lowercased or split into the text around it, and matched on the raw text (case-sensitively).
    const enc = (text: string) => t.tokenizer.encode(text, { add_special_tokens: false }).ids;
    expect(enc(PLAIN_S1)).toEqual([1000, ...enc(' toy on the left')]);
    expect(enc('a <s2>toy')).toEqual([...enc('a'), 1001, ...enc('toy')]);
    expect(enc('a <S1> toy')).not.toContain(1000);
    const reference = token_ids.find((x) => x.tokenizer === 'tokenizer')!.ids;
    prompts.forEach((p, i) => {
      if (p !== PLAIN_S1) expect(padded(t.tokenizer, p, t.eos, t.eos), p).toEqual(reference[i]);
    });
    expect(() => buildClipTokenizerJson(JSON.stringify({ [CLIP_BOS]: 0, [CLIP_EOS]: 1, '<s1>': 2 }), '#version: 0.2\n', { placeholders: ['<s1>'] })).toThrow(/already in the vocabulary/);
  });

  it('runs the prompt compiler to the fixture ids (tokenizer/ and tokenizer_2/ padding)', async () => {
    const { prompts, token_ids } = await index();
    for (const [folder, pad] of [
      ['tokenizer', CLIP_EOS],
      ['tokenizer_2', '!'],
    ] as const) {
      // The compiler blanks out reserved strings (placeholders, specials) typed into a prompt, so the
      // plain-text "<s1>" prompt is compiled with a tokenizer that has no placeholders.
      for (const placeholders of [PLACEHOLDERS, []]) {
        const t = await tokenizerOf(model, folder, { placeholders, padToken: pad });
        const manifest: Pick<PackManifest, 'tokenizer' | 'tokens'> = {
          tokenizer: { file: 'tokenizer.json', bytes: t.json.length, sha256: '0'.repeat(64), bos: CLIP_BOS, eos: CLIP_EOS, pad, placeholders },
          tokens: { maxText: MAX_TEXT, maxReferencesPerSubject: 1, maxSubjects: 1 },
        };
        const reference = token_ids.find((x) => x.tokenizer === folder)!.ids;
        prompts.forEach((p, i) => {
          if ((p === PLAIN_S1) !== (placeholders.length === 0)) return;
          const compiled = compilePrompt(t.tokenizer, manifest, p, []);
          expect(compiled.truncation !== null, p).toBe(compiled.tokenCount > MAX_TEXT);
          if (pad === '!' && p.includes('!')) {
            // The compiler blanks a reserved token typed into the prompt, and tokenizer_2's pad "!" is
            // one: the pack encodes with tokenizer/ (see text-conditioner.ts), never with this one.
            expect(compiled.strippedTokens.map((x) => x.text), p).toContain('!');
            return;
          }
          expect(compiled.ids, `${folder}: ${p}`).toEqual(reference[i]);
        });
      }
    }
    // A mention compiles to the placeholder id, at the position the fixture's plain "<s1>" had.
    const t = await tokenizerOf(model, 'tokenizer', { placeholders: PLACEHOLDERS });
    const manifest: Pick<PackManifest, 'tokenizer' | 'tokens'> = {
      tokenizer: { file: 'tokenizer.json', bytes: 0, sha256: '0'.repeat(64), bos: CLIP_BOS, eos: CLIP_EOS, pad: CLIP_EOS, placeholders: PLACEHOLDERS },
      tokens: { maxText: MAX_TEXT, maxReferencesPerSubject: 1, maxSubjects: 1 },
    };
    const compiled = compilePrompt(t.tokenizer, manifest, '@duck toy on the left', [{ name: 'duck', placeholder: '<s1>', classWord: '' }]);
    expect(compiled.concepts).toEqual([{ subject: 'duck', positions: [1] }]);
    const plain = token_ids[0]!.ids[prompts.indexOf(PLAIN_S1)]!;
    const plainS1 = (await tokenizerOf(model, 'tokenizer', { placeholders: [] })).tokenizer.encode('<s1>', { add_special_tokens: false }).ids.length;
    expect(plainS1).toBeGreaterThan(1);
    expect(compiled.ids).toEqual([998, 1000, ...plain.slice(1 + plainS1), ...new Array<number>(plainS1 - 1).fill(999)]);
  });
});
