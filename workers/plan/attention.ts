/**
 * Bounded attention: the planner assumes every attention runs over chunks of
 * queries, so that one layer's scores never exceed a limit, and that the bias
 * is never expanded per head (it broadcasts over heads, docs/pack-format.md 7.5).
 */

export const FP32 = 4;
export const MIB = 2 ** 20;
export const GIB = 2 ** 30;

/** The default bound on one layer's attention bytes (the bound at 1024 px). */
export const DEFAULT_ATTENTION_LIMIT_BYTES = 512 * MIB;

/**
 * Bytes one layer's attention holds for a chunk of `chunk` queries against
 * `keys` keys: the fp32 logits and the fp32 softmax output of every head
 * (Softmax is not in place, so both are live), plus the chunk's rows of the
 * bias, one copy for all heads:
 * `(2 * heads + 1) * batch * chunk * keys * 4`.
 */
export function attentionBytes(batch: number, heads: number, chunk: number, keys: number): number {
  return (2 * heads + 1) * batch * chunk * keys * FP32;
}

export interface QueryChunk {
  /** Queries per chunk: all of them when they fit, else the largest power of two that fits. */
  chunk: number;
  /** attentionBytes at that chunk. */
  bytes: number;
  /** False when even a chunk of one query exceeds the limit. */
  withinLimit: boolean;
}

/**
 * The query chunk of one attention: every query at once when that stays under
 * `limitBytes`; otherwise the largest power of two (at most `queries`) that
 * does; 1 (and withinLimit false) when nothing does.
 */
export function chooseQueryChunk(batch: number, heads: number, queries: number, keys: number, limitBytes: number): QueryChunk {
  const at = (chunk: number) => attentionBytes(batch, heads, chunk, keys);
  if (at(queries) <= limitBytes) return { chunk: queries, bytes: at(queries), withinLimit: true };
  let chunk = 2 ** Math.floor(Math.log2(queries));
  while (chunk > 1 && at(chunk) > limitBytes) chunk /= 2;
  return { chunk, bytes: at(chunk), withinLimit: at(chunk) <= limitBytes };
}
