/**
 * A Hugging Face tokenizer.json for the CLIP tokenizers of an SD3 folder, which ship only
 * vocab.json + merges.txt (tokenizer/ and tokenizer_2/, no tokenizer.json). The pipeline is the one
 * transformers builds for CLIPTokenizer with the tokenizers backend (its CLIPConverter):
 *   normalizer   NFC, every whitespace run -> one space, lowercase
 *   pre-tokenizer CLIP's split regex (matches kept, the rest dropped), then byte-level characters
 *   model        BPE, "</w>" appended to the last symbol of each word, unknown -> <|endoftext|>
 *   template     <|startoftext|> $A <|endoftext|>
 * Padding and truncation are not in the file: the prompt compiler pads to maxText itself.
 *
 * Placeholders (<s1>, ...) become added tokens with ids after the vocabulary. They are matched on the
 * raw text (normalized: false), so they always encode to one id and the text around them is
 * normalized and split as usual; "<S1>" is not a placeholder.
 *
 * `padToken`: a pad token other than <|endoftext|> (SD3's tokenizer_2/ pads with "!") is a special
 * token to transformers, matched before BPE, so every "!" typed in a prompt encodes to the pad id (0)
 * instead of BPE's "!</w>" (256) or a merge. Pass it to reproduce tokenizer_2/ exactly; a pack that
 * encodes with tokenizer/ only leaves it out (and the text conditioner maps the ids for CLIP-G).
 */
export const CLIP_BOS = '<|startoftext|>';
export const CLIP_EOS = '<|endoftext|>';

/**
 * CLIP's word split. The transformers converter follows it with ByteLevel(use_regex=true), whose
 * GPT-2 regex never splits one of these pieces again (none holds whitespace, and a punctuation run
 * never contains the letters of a contraction), so use_regex is off here: same pieces, one regex.
 */
const CLIP_SPLIT = String.raw`'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`;

export interface ClipTokenizerJson {
  json: string;
  /** Ids in use: the vocabulary plus the placeholders (the rows a token embedding table needs). */
  vocabSize: number;
  bos: number;
  eos: number;
  placeholderIds: number[];
}

function parseVocab(vocabJson: string): Map<string, number> {
  const parsed: unknown = JSON.parse(vocabJson);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('vocab.json is not an object of token -> id');
  const vocab = new Map<string, number>();
  const seen = new Set<number>();
  for (const [token, id] of Object.entries(parsed)) {
    if (!Number.isSafeInteger(id) || (id as number) < 0) throw new Error(`vocab.json: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}`);
    if (seen.has(id as number)) throw new Error(`vocab.json: id ${id as number} is used twice`);
    seen.add(id as number);
    vocab.set(token, id as number);
  }
  return vocab;
}

/** merges.txt: an optional "#version" first line, then one "left right" pair per line, in rank order. */
function parseMerges(mergesTxt: string): [string, string][] {
  const merges: [string, string][] = [];
  mergesTxt.split(/\r?\n/).forEach((line, i) => {
    if (line.length === 0 || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new Error(`merges.txt line ${i + 1} is not a pair: ${JSON.stringify(line)}`);
    merges.push([parts[0], parts[1]]);
  });
  return merges;
}

const addedToken = (id: number, content: string, special: boolean, normalized: boolean) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized,
  special,
});

export interface ClipTokenizerOptions {
  placeholders: string[];
  padToken?: string;
}

export function buildClipTokenizerJson(vocabJson: string, mergesTxt: string, opts: ClipTokenizerOptions): ClipTokenizerJson {
  const vocab = parseVocab(vocabJson);
  const merges = parseMerges(mergesTxt);
  const bos = vocab.get(CLIP_BOS);
  const eos = vocab.get(CLIP_EOS);
  if (bos === undefined || eos === undefined) throw new Error(`vocab.json has no ${bos === undefined ? CLIP_BOS : CLIP_EOS}: not a CLIP vocabulary`);
  const base = Math.max(...vocab.values()) + 1;
  if (new Set(opts.placeholders).size !== opts.placeholders.length) throw new Error('a placeholder is listed twice');
  for (const p of opts.placeholders) {
    if (p.length === 0) throw new Error('a placeholder is empty');
    if (vocab.has(p)) throw new Error(`placeholder ${JSON.stringify(p)} is already in the vocabulary`);
  }
  const placeholderIds = opts.placeholders.map((_, i) => base + i);
  const padAdded = [];
  if (opts.padToken !== undefined && opts.padToken !== CLIP_EOS) {
    const padId = vocab.get(opts.padToken);
    if (padId === undefined) throw new Error(`pad token ${JSON.stringify(opts.padToken)} is not in the vocabulary`);
    padAdded.push(addedToken(padId, opts.padToken, true, false));
  }
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      // As special_tokens_map.json declares them in the SD3 folders: normalized, special.
      addedToken(bos, CLIP_BOS, true, true),
      addedToken(eos, CLIP_EOS, true, true),
      ...padAdded,
      ...opts.placeholders.map((p, i) => addedToken(placeholderIds[i]!, p, false, false)),
    ],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: String.raw`\s+` }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'RobertaProcessing', sep: [CLIP_EOS, eos], cls: [CLIP_BOS, bos], trim_offsets: false, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: CLIP_EOS,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
  return { json: JSON.stringify(json), vocabSize: base + placeholderIds.length, bos, eos, placeholderIds };
}
