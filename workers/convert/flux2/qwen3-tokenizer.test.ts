/**
 * FLUX.2 klein's prompt tokenization (chat template, truncation, right padding) from the fixture
 * folders' tokenizer files, run by the studio's tokenizer library, against the ids and masks
 * transformers' Qwen2TokenizerFast gave through the pipeline's apply_chat_template + tokenizer call
 * (reference/tokens.npy, attention_mask.npy, index.json "text"), and the placeholder tokens.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readInt64Npy } from '../testing/npy-int64';
import { buildQwen3Tokenizer, checkQwen3ChatTemplate, encodeQwen3Prompt, qwen3ChatText, type Qwen3TokenizerFiles } from './qwen3-tokenizer';

const FIXTURES = new URL('../../../fixtures/flux2/', import.meta.url).pathname;
const MAX_LENGTH = 64;
const VOCAB_SIZE = 768;
const PAD = 742;
const PLACEHOLDERS = ['<s1>', '<s2>', '<s3>', '<s4>'];
/** The last fixture prompt names "<s1>", which transformers tokenized as plain text (the real tokenizer has no such token). */
const PLAIN_S1 = '<s1> toy on the left';

interface TextReference {
  prompts: string[];
  templated: string[];
  untruncated_lengths: number[];
  max_sequence_length: number;
}

async function filesOf(variant: string): Promise<Qwen3TokenizerFiles> {
  const dir = `${FIXTURES}${variant}/tokenizer`;
  return { tokenizerJson: await readFile(`${dir}/tokenizer.json`, 'utf8'), tokenizerConfigJson: await readFile(`${dir}/tokenizer_config.json`, 'utf8') };
}

async function textReference(variant: string): Promise<TextReference> {
  return (JSON.parse(await readFile(`${FIXTURES}${variant}/reference/index.json`, 'utf8')) as { text: TextReference }).text;
}

async function int64Rows(variant: string, file: string): Promise<number[][]> {
  const { shape, data } = await readInt64Npy(`${FIXTURES}${variant}/reference/${file}`);
  const [rows, cols] = shape as [number, number];
  return Array.from({ length: rows }, (_, r) => data.slice(r * cols, (r + 1) * cols));
}

/** The fixture's tokenizer_config.json with its chat template (or another field) replaced. */
async function withConfig(variant: string, edit: (config: Record<string, unknown>) => void): Promise<Qwen3TokenizerFiles> {
  const files = await filesOf(variant);
  const config = JSON.parse(files.tokenizerConfigJson) as Record<string, unknown>;
  edit(config);
  return { ...files, tokenizerConfigJson: JSON.stringify(config) };
}

describe.each(['klein-4b', 'klein-base-4b', 'klein-9b-kv'])('Qwen3 prompt tokenization of fixtures/flux2/%s', (variant) => {
  it("reproduces the pipeline's chat text, ids and attention masks for every fixture prompt", async () => {
    const ref = await textReference(variant);
    expect(ref.max_sequence_length).toBe(MAX_LENGTH);
    const ids = await int64Rows(variant, 'tokens.npy');
    const masks = await int64Rows(variant, 'attention_mask.npy');
    // Without placeholders the "<s1>" prompt is plain text, exactly as the fixture tokenized it.
    const tok = buildQwen3Tokenizer(await filesOf(variant), { vocabSize: VOCAB_SIZE });
    expect(tok.padId).toBe(PAD);
    ref.prompts.forEach((prompt, i) => {
      expect(qwen3ChatText(prompt), prompt).toBe(ref.templated[i]);
      const enc = encodeQwen3Prompt(tok, prompt, MAX_LENGTH);
      expect(enc.ids, prompt).toEqual(ids[i]);
      expect(enc.attentionMask, prompt).toEqual(masks[i]);
      expect(enc.tokenCount, prompt).toBe(ref.untruncated_lengths[i]);
    });
    // The long prompt is cut on the right: no padding, the template's tail (<|im_end|> ...) gone.
    const long = encodeQwen3Prompt(tok, ref.prompts[6]!, MAX_LENGTH);
    expect(long.tokenCount).toBeGreaterThan(MAX_LENGTH);
    expect(long.attentionMask.every((m) => m === 1)).toBe(true);
    expect(long.ids).not.toContain(tok.tokenizer.token_to_id('<|im_end|>'));
  });

  it('gives each placeholder one id after vocab_size and reports its positions; the other prompts keep their ids', async () => {
    const ref = await textReference(variant);
    const ids = await int64Rows(variant, 'tokens.npy');
    const tok = buildQwen3Tokenizer(await filesOf(variant), { vocabSize: VOCAB_SIZE, placeholders: PLACEHOLDERS });
    expect(tok.placeholderIds).toEqual([768, 769, 770, 771]);
    expect(tok.rows).toBe(772);
    PLACEHOLDERS.forEach((p, i) => expect(tok.tokenizer.encode(p).ids).toEqual([tok.placeholderIds[i]]));
    ref.prompts.forEach((prompt, i) => {
      if (prompt !== PLAIN_S1) expect(encodeQwen3Prompt(tok, prompt, MAX_LENGTH).ids, prompt).toEqual(ids[i]);
    });

    // "<s1> toy on the left": the fixture's 4 plain-text ids of "<s1>" (after <|im_start|> user \n) become one.
    const enc = encodeQwen3Prompt(tok, PLAIN_S1, MAX_LENGTH);
    const plain = ids[ref.prompts.indexOf(PLAIN_S1)]!;
    const plainTok = buildQwen3Tokenizer(await filesOf(variant), { vocabSize: VOCAB_SIZE });
    const plainLength = plainTok.tokenizer.encode('<s1>').ids.length;
    expect(plainLength).toBe(4);
    const realTokens = ref.untruncated_lengths[ref.prompts.indexOf(PLAIN_S1)]!;
    expect(enc.ids).toEqual([...plain.slice(0, 3), 768, ...plain.slice(3 + plainLength, realTokens), ...new Array<number>(MAX_LENGTH - realTokens + plainLength - 1).fill(PAD)]);
    expect(enc.tokenCount).toBe(realTokens - plainLength + 1);
    expect(enc.placeholders).toEqual([
      { placeholder: '<s1>', id: 768, positions: [3] },
      { placeholder: '<s2>', id: 769, positions: [] },
      { placeholder: '<s3>', id: 770, positions: [] },
      { placeholder: '<s4>', id: 771, positions: [] },
    ]);

    // Several mentions, next to other text; "<S1>" is not a placeholder (matched case-sensitively).
    const many = encodeQwen3Prompt(tok, '<s2> and <s1>, next to<s1>! <S1>', MAX_LENGTH);
    const pos = (p: string) => many.placeholders.find((x) => x.placeholder === p)!.positions;
    expect(pos('<s1>').map((at) => many.ids[at])).toEqual([768, 768]);
    expect(pos('<s2>')).toEqual([3]);
    expect(many.ids.filter((x) => x === 768)).toHaveLength(2);
    const prefix = (text: string) => tok.tokenizer.encode(`<|im_start|>user\n${text}`).ids.length;
    expect(pos('<s1>')).toEqual([prefix('<s2> and '), prefix('<s2> and <s1>, next to')]);
    // A placeholder cut off by truncation has no position.
    const cut = encodeQwen3Prompt(tok, `${ref.prompts[6]!} <s3>`, MAX_LENGTH);
    expect(cut.placeholders[2]!.positions).toEqual([]);
    expect(encodeQwen3Prompt(tok, `<s3> ${ref.prompts[6]!}`, MAX_LENGTH).placeholders[2]!.positions).toEqual([3]);
  });
});

describe('Qwen3 tokenizer files that the fixed template form does not fit', () => {
  it('refuses another chat template, left padding or truncation, and a placeholder that is already a token', async () => {
    const files = await filesOf('klein-4b');
    const template = (JSON.parse(files.tokenizerConfigJson) as { chat_template: string }).chat_template;
    expect(() => checkQwen3ChatTemplate(template)).not.toThrow();
    // A template without the thinking switch (Qwen3 "2507" instruct): no empty <think> block.
    const noThinking = template.replace(/\{%- if enable_thinking[^]*?\{%- endif %\}/, '');
    expect(noThinking).not.toBe(template);
    expect(() => buildQwen3Tokenizer({ ...files, tokenizerConfigJson: JSON.stringify({ ...JSON.parse(files.tokenizerConfigJson), chat_template: noThinking }) }, { vocabSize: VOCAB_SIZE })).toThrow(
      /tokenizer\/tokenizer_config\.json: the chat template is not the Qwen3 one .*empty think block/,
    );
    // Qwen2.5's default system turn.
    const qwen25 = template.replace("{%- else %}\n    {%- if messages[0].role == 'system' %}", "{%- else %}\n    {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud.<|im_end|>\\n' }}\n    {%- if messages[0].role == 'system' %}");
    expect(qwen25).not.toBe(template);
    expect(() => checkQwen3ChatTemplate(qwen25)).toThrow(/default system prompt/);
    expect(() => checkQwen3ChatTemplate(undefined)).toThrow(/chat_template is missing/);
    await expect(withConfig('klein-4b', (c) => (c.padding_side = 'left')).then((f) => buildQwen3Tokenizer(f, { vocabSize: VOCAB_SIZE }))).rejects.toThrow(/padding_side is "left"/);
    await expect(withConfig('klein-4b', (c) => (c.truncation_side = 'left')).then((f) => buildQwen3Tokenizer(f, { vocabSize: VOCAB_SIZE }))).rejects.toThrow(/truncation_side is "left"/);
    expect(() => buildQwen3Tokenizer(files, { vocabSize: VOCAB_SIZE, placeholders: ['<think>'] })).toThrow(/already a token/);
    expect(() => buildQwen3Tokenizer(files, { vocabSize: 700 })).toThrow(/beyond the text encoder's 700 embedding rows/);
  });
});
