/**
 * The text stage: prompt -> ids and concept positions (the pack's tokenizer
 * through the prompt compiler) -> the text graph's per-row embeddings and
 * pooled vector, cached by ids (LRU, bounded in bytes).
 */
import * as ort from 'onnxruntime-web';
import { ByteLru } from '../byte-lru';
import { GraphRunner } from './graph-runner';

/** A tokenized prompt: ids padded to the encoder length, and each subject's concept token positions. */
export interface TokenizedPrompt {
  ids: number[];
  concepts: { subject: string; positions: number[] }[];
}

export type Tokenize = (prompt: string, subjects: { name: string; placeholder: string; classWord: string }[]) => TokenizedPrompt;

export interface TextEncoding {
  /** [rows, textDim]: one row per token for the project's MM-DiT, 77 + 256 for SD3. */
  embeddings: Float32Array;
  pooled: Float32Array;
}

export class TextConditioner {
  private readonly cache: ByteLru<TextEncoding>;

  constructor(
    private readonly runner: GraphRunner,
    private readonly tokenize: Tokenize,
    private readonly packId: string,
    limitBytes: number,
  ) {
    this.cache = new ByteLru(limitBytes, (t) => t.embeddings.byteLength + t.pooled.byteLength);
  }

  get entries(): number {
    return this.cache.size;
  }

  get bytes(): number {
    return this.cache.bytes;
  }

  clear(): void {
    this.cache.clear();
  }

  /** Encodes tokenized text, cached by (pack, ids). */
  async encodeIds(ids: number[]): Promise<TextEncoding> {
    const key = `${this.packId}\u0000${ids.join(',')}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const out = await this.runner.run('text_encoder', {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [1, ids.length]),
    });
    const enc = { embeddings: await GraphRunner.read(out.text_embeddings!), pooled: await GraphRunner.read(out.pooled!) };
    this.cache.set(key, enc);
    return enc;
  }

  async encodeText(prompt: string, subjects: { name: string; placeholder: string; classWord: string }[] = []): Promise<TextEncoding & TokenizedPrompt> {
    const tok = this.tokenize(prompt, subjects);
    return { ...tok, ...(await this.encodeIds(tok.ids)) };
  }

  /** The text rows the transformer sees (SD3: 77 CLIP rows and 256 rows of the absent T5). */
  static rows(enc: TextEncoding, textDim: number): number {
    return enc.embeddings.length / textDim;
  }
}
