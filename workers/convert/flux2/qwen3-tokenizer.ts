/**
 * FLUX.2 klein's prompt tokenization, as Flux2KleinPipeline._get_qwen3_prompt_embeds does it:
 *   text = tokenizer.apply_chat_template([{role: user, content: prompt}], tokenize=False,
 *                                        add_generation_prompt=True, enable_thinking=False)
 *   tokenizer(text, padding='max_length', truncation=True, max_length=max_sequence_length)
 * The folder's tokenizer.json (Qwen2TokenizerFast: NFC, the Qwen split regex, byte-level BPE, the
 * <|...|> and <think> added tokens matched before BPE, no BOS/EOS added) is run as it is by the
 * studio's tokenizer library. The chat template is not interpreted (no Jinja here): for one user
 * message with those arguments the Qwen3 template renders one fixed form (qwen3ChatText), and the
 * folder's template is checked to be one that does (checkQwen3ChatTemplate). Truncation keeps the
 * first max_length ids (the template's tail is cut, as transformers does on the right); padding is
 * on the right with the pad token (<|endoftext|>), attention mask 1 for tokens and 0 for padding.
 *
 * Placeholders (<s1>, ...) become added tokens with ids after the text encoder's embedding rows
 * (vocab_size, vocab_size + 1, ...: the rows loadQwen3TextEncoder appends with placeholderRows),
 * matched on the raw text, so each is one id and the text around it is encoded as usual.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { ConvertError } from '../errors';

export const QWEN3_PAD = '<|endoftext|>';

const CONFIG_FILE = 'tokenizer/tokenizer_config.json';
const TOKENIZER_FILE = 'tokenizer/tokenizer.json';

/** The fixed form the Qwen3 template renders for one user message, add_generation_prompt, thinking off. */
export function qwen3ChatText(prompt: string): string {
  return `<|im_start|>user\n${prompt}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n`;
}

/**
 * The parts of the Qwen3 chat template that render qwen3ChatText, as Jinja source (the quoted
 * '\n' are the two characters backslash and n). Whitespace inside the tags may vary.
 */
const TEMPLATE_PARTS: readonly { what: string; pattern: RegExp }[] = [
  {
    what: "a user message rendered as '<|im_start|>' + role + '\\n' + content + '<|im_end|>\\n'",
    pattern: /\{\{-?\s*'<\|im_start\|>'\s*\+\s*message\.role\s*\+\s*'\\n'\s*\+\s*content\s*\+\s*'<\|im_end\|>'\s*\+\s*'\\n'\s*-?\}\}/,
  },
  {
    what: "the generation prompt '<|im_start|>assistant\\n'",
    pattern: /\{%-?\s*if\s+add_generation_prompt\s*-?%\}\s*\{\{-?\s*'<\|im_start\|>assistant\\n'\s*-?\}\}/,
  },
  {
    what: "the empty think block '<think>\\n\\n</think>\\n\\n' when enable_thinking is false",
    pattern: /\{%-?\s*if\s+enable_thinking\s+is\s+defined\s+and\s+enable_thinking\s+is\s+false\s*-?%\}\s*\{\{-?\s*'<think>\\n\\n<\/think>\\n\\n'\s*-?\}\}/,
  },
  {
    // Qwen2.5's template adds a default system message ("You are Qwen, ...") when there is none.
    what: 'a system message only when the messages start with one',
    pattern: /\{%-?\s*if\s+messages\[0\]\.role\s*==\s*'system'\s*-?%\}/,
  },
];

/**
 * Refuses a template that would not render qwen3ChatText (another model's, a Qwen3 "2507"
 * instruct template without the thinking switch, a default system prompt), naming what is missing.
 */
export function checkQwen3ChatTemplate(template: unknown): void {
  const refuse = (why: string) =>
    new ConvertError('wrong-model', `${CONFIG_FILE}: the chat template is not the Qwen3 one FLUX.2 klein uses (${why}); the studio renders that template's form itself`, { file: CONFIG_FILE });
  if (typeof template !== 'string') throw refuse(`chat_template is ${template === undefined ? 'missing' : JSON.stringify(template)}`);
  for (const part of TEMPLATE_PARTS) if (!part.pattern.test(template)) throw refuse(`no ${part.what}`);
  // A system turn with literal text in it (Qwen2.5's "You are Qwen, ..."), not only messages[0].content.
  if (/'<\|im_start\|>system\\n[^']/.test(template)) throw refuse('it writes a default system prompt');
}

export interface Qwen3TokenizerFiles {
  /** tokenizer/tokenizer.json, as text. */
  tokenizerJson: string;
  /** tokenizer/tokenizer_config.json, as text (chat template, pad token, padding and truncation sides). */
  tokenizerConfigJson: string;
}

export interface Qwen3TokenizerOptions {
  /** text_encoder/config.json's vocab_size: the embedding rows; placeholder ids follow them. */
  vocabSize: number;
  placeholders?: readonly string[];
}

export interface Qwen3Tokenizer {
  tokenizer: Tokenizer;
  /** tokenizer.json with the placeholders added (what a pack ships). */
  json: string;
  padId: number;
  placeholders: readonly string[];
  placeholderIds: readonly number[];
  /** Embedding rows the ids need: vocab_size plus the placeholders. */
  rows: number;
}

function parseObject(text: string, file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ConvertError('bad-json', `${file} is not valid JSON (${(cause as Error).message})`, { file, cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConvertError('bad-json', `${file} is not a JSON object`, { file });
  return parsed as Record<string, unknown>;
}

/** A token field of tokenizer_config.json: a string, or an AddedToken object { content }. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return undefined;
}

/** transformers pads and truncates on the side the config names (right by default); the pipeline relies on the right. */
function checkSides(config: Record<string, unknown>): void {
  for (const key of ['padding_side', 'truncation_side']) {
    const side = config[key] ?? 'right';
    if (side !== 'right') throw new ConvertError('wrong-model', `${CONFIG_FILE}: ${key} is ${JSON.stringify(side)}; FLUX.2 klein's prompts are padded and cut on the right`, { file: CONFIG_FILE });
  }
}

interface TokenizerJson {
  added_tokens?: { id: number; content: string }[];
  model?: { vocab?: Record<string, number> };
}

/** The largest id tokenizer.json uses (vocabulary and added tokens). */
function maxId(json: TokenizerJson): number {
  const ids = [...Object.values(json.model?.vocab ?? {}), ...(json.added_tokens ?? []).map((t) => t.id)];
  return ids.reduce((a, b) => Math.max(a, b), -1);
}

function placeholderTokens(json: TokenizerJson, placeholders: readonly string[], firstId: number) {
  if (new Set(placeholders).size !== placeholders.length) throw new Error('a placeholder is listed twice');
  const taken = new Set([...Object.keys(json.model?.vocab ?? {}), ...(json.added_tokens ?? []).map((t) => t.content)]);
  return placeholders.map((content, i) => {
    if (content.length === 0) throw new Error('a placeholder is empty');
    if (taken.has(content)) throw new Error(`placeholder ${JSON.stringify(content)} is already a token of ${TOKENIZER_FILE}`);
    return { id: firstId + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false };
  });
}

export function buildQwen3Tokenizer(files: Qwen3TokenizerFiles, opts: Qwen3TokenizerOptions): Qwen3Tokenizer {
  const config = parseObject(files.tokenizerConfigJson, CONFIG_FILE);
  checkQwen3ChatTemplate(config.chat_template);
  checkSides(config);
  const json = parseObject(files.tokenizerJson, TOKENIZER_FILE) as TokenizerJson;
  const top = maxId(json);
  if (top >= opts.vocabSize) {
    throw new ConvertError('wrong-model', `${TOKENIZER_FILE} uses id ${top}, beyond the text encoder's ${opts.vocabSize} embedding rows (vocab_size)`, { file: TOKENIZER_FILE });
  }
  const placeholders = opts.placeholders ?? [];
  const added = placeholderTokens(json, placeholders, opts.vocabSize);
  const withPlaceholders = { ...json, added_tokens: [...(json.added_tokens ?? []), ...added] };
  const tokenizer = new Tokenizer(withPlaceholders, config);
  const pad = tokenText(config.pad_token) ?? QWEN3_PAD;
  const padId = tokenizer.token_to_id(pad);
  if (padId === undefined) throw new ConvertError('wrong-model', `${CONFIG_FILE}: the pad token ${JSON.stringify(pad)} is not a token of ${TOKENIZER_FILE}`, { file: CONFIG_FILE });
  return {
    tokenizer,
    json: JSON.stringify(withPlaceholders),
    padId,
    placeholders,
    placeholderIds: added.map((t) => t.id),
    rows: opts.vocabSize + added.length,
  };
}

export interface Qwen3PlaceholderPositions {
  placeholder: string;
  id: number;
  /** Indices into `ids` (ascending); a placeholder cut off by truncation has none. */
  positions: number[];
}

export interface Qwen3EncodedPrompt {
  /** Exactly maxLength ids: the templated prompt, cut or padded. */
  ids: number[];
  /** 1 for a token, 0 for padding. */
  attentionMask: number[];
  /** Ids of the templated prompt before truncation. */
  tokenCount: number;
  /** One entry per placeholder of the tokenizer, in its order. */
  placeholders: Qwen3PlaceholderPositions[];
}

/** The pipeline's input_ids and attention_mask for one prompt, and where each placeholder landed. */
export function encodeQwen3Prompt(tok: Qwen3Tokenizer, prompt: string, maxLength: number): Qwen3EncodedPrompt {
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) throw new Error(`maxLength ${maxLength} is not a positive whole number`);
  const all = tok.tokenizer.encode(qwen3ChatText(prompt)).ids;
  const kept = all.slice(0, maxLength);
  const padding = maxLength - kept.length;
  const ids = [...kept, ...new Array<number>(padding).fill(tok.padId)];
  return {
    ids,
    attentionMask: [...new Array<number>(kept.length).fill(1), ...new Array<number>(padding).fill(0)],
    tokenCount: all.length,
    placeholders: tok.placeholders.map((placeholder, i) => {
      const id = tok.placeholderIds[i]!;
      return { placeholder, id, positions: kept.flatMap((x, at) => (x === id ? [at] : [])) };
    }),
  };
}
