/**
 * Writes a small BPE tokenizer in the Hugging Face tokenizer.json format
 * (CLIP-like: lowercase, whitespace pre-split, "</w>" end-of-word suffix,
 * <bos> ... <eos> template), with placeholder tokens <s1>..<sN> as added
 * tokens. Deterministic: the same word list gives the same file.
 */
export const SPECIAL_TOKENS = { pad: '<pad>', bos: '<bos>', eos: '<eos>', unk: '<unk>' } as const;

export const TEST_WORDS = `a an the of on in with and at by from to under over near beside behind inside
photo picture painting drawing sketch render portrait closeup close up shot image
cat dog mug cup toy bear teddy robot car bird fish rabbit plush figure figurine doll vase lamp chair
sleeping sitting standing running jumping flying floating lying playing wearing holding
stack books book table desk bed sofa window garden beach forest mountain city street room kitchen
snow rain sun moon night day sunset sunrise sky cloud clouds water river lake sea grass flowers tree
watercolor oil pastel pencil ink digital anime cartoon pixel art style studio lighting soft hard
red orange yellow green blue purple pink black white gray grey brown golden silver
small big tiny huge cute old new shiny wooden metal glass ceramic plastic
hat scarf sweater glasses crown cape
high quality detailed sharp blurry background foreground light dark bright warm cold`.split(/\s+/);

export interface TokenizerSpec {
  words: string[];
  placeholders: string[];
}

export function buildTokenizerJson(spec: TokenizerSpec): { json: string; vocabSize: number } {
  const vocab = new Map<string, number>();
  const add = (t: string) => {
    if (!vocab.has(t)) vocab.set(t, vocab.size);
  };
  const specials = [SPECIAL_TOKENS.pad, SPECIAL_TOKENS.bos, SPECIAL_TOKENS.eos, SPECIAL_TOKENS.unk];
  specials.forEach(add);
  spec.placeholders.forEach(add);
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789.,!?:;\'"()-@#&/'.split('');
  for (const c of chars) add(c);
  for (const c of chars) add(`${c}</w>`);
  // BPE training on the word list (each word once): merge the most frequent
  // adjacent pair (ties: the smallest pair string) until every word is one
  // symbol, so every listed word encodes to a single token.
  const words = [...new Set(spec.words.filter(Boolean))].map((w) => {
    const sym = w.split('');
    sym[sym.length - 1] += '</w>';
    return sym;
  });
  const merges: string[] = [];
  for (;;) {
    const counts = new Map<string, number>();
    for (const sym of words) for (let i = 0; i + 1 < sym.length; i++) {
      const pair = `${sym[i]} ${sym[i + 1]}`;
      counts.set(pair, (counts.get(pair) ?? 0) + 1);
    }
    if (counts.size === 0) break;
    let best = '';
    let bestCount = 0;
    for (const [pair, n] of counts) if (n > bestCount || (n === bestCount && pair < best)) [best, bestCount] = [pair, n];
    merges.push(best);
    const [a, b] = best.split(' ') as [string, string];
    add(a + b);
    for (const sym of words) for (let i = 0; i + 1 < sym.length; i++) {
      if (sym[i] === a && sym[i + 1] === b) sym.splice(i, 2, a + b);
    }
  }
  const addedToken = (content: string, special: boolean) => ({
    id: vocab.get(content)!,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special,
  });
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...specials.map((t) => addedToken(t, true)), ...spec.placeholders.map((t) => addedToken(t, false))],
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: SPECIAL_TOKENS.bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: SPECIAL_TOKENS.eos, type_id: 0 } }],
      pair: [
        { SpecialToken: { id: SPECIAL_TOKENS.bos, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: SPECIAL_TOKENS.eos, type_id: 1 } },
      ],
      special_tokens: Object.fromEntries(
        [SPECIAL_TOKENS.bos, SPECIAL_TOKENS.eos].map((t) => [t, { id: t, ids: [vocab.get(t)!], tokens: [t] }]),
      ),
    },
    decoder: { type: 'BPEDecoder', suffix: '</w>' },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: SPECIAL_TOKENS.unk,
      continuing_subword_prefix: null,
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
  return { json: JSON.stringify(json, null, 1), vocabSize: vocab.size };
}
