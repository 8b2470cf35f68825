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
  /** Tokens before padding (the text encoder's attention mask is 1 on these, 0 after). */
  attentionLength: number;
  concepts: { subject: string; positions: number[] }[];
}

export type Tokenize = (prompt: string, subjects: { name: string; placeholder: string; classWord: string }[]) => TokenizedPrompt;

export interface TextEncoding {
  /** [rows, textDim]: one row per token for the project's MM-DiT, 77 + 256 for SD3, 512 for FLUX.2. */
  embeddings: Float32Array;
  /** Empty for a family without a pooled vector (FLUX.2). */
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

  /**
   * Encodes tokenized text, cached by (pack, ids, length). The attention mask (1 on the first
   * `attentionLength` ids) goes to encoders that take one (FLUX.2's Qwen3); CLIP's causal
   * attention needs none.
   */
  async encodeIds(ids: number[], attentionLength = ids.length): Promise<TextEncoding> {
    const key = `${this.packId}\u0000${ids.join(',')}\u0000${attentionLength}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const mask = BigInt64Array.from(ids, (_, i) => (i < attentionLength ? 1n : 0n));
    const out = await this.runner.run('text_encoder', {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [1, ids.length]),
      attention_mask: new ort.Tensor('int64', mask, [1, ids.length]),
    });
    const enc = { embeddings: await GraphRunner.read(out.text_embeddings!), pooled: out.pooled ? await GraphRunner.read(out.pooled) : new Float32Array(0) };
    this.cache.set(key, enc);
    return enc;
  }

  async encodeText(prompt: string, subjects: { name: string; placeholder: string; classWord: string }[] = []): Promise<TextEncoding & TokenizedPrompt> {
    const tok = this.tokenize(prompt, subjects);
    return { ...tok, ...(await this.encodeIds(tok.ids, tok.attentionLength)) };
  }

  /** The text rows the transformer sees (SD3: 77 CLIP rows and 256 rows of the absent T5). */
  static rows(enc: TextEncoding, textDim: number): number {
    return enc.embeddings.length / textDim;
  }
}
