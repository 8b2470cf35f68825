/**
 * Bounded attention, as the studio's graph builder emits it
 * (workers/packbuild/nn.ts emitAttention, docs/pack-format.md section 8):
 * every attention is computed in pieces. The queries are cut into
 * `queryChunks` row ranges (a static count; chunk j is rows
 * [floor(j S / n), floor((j + 1) S / n)), so at most ceil(S / n) rows), and
 * within a chunk the heads into groups of `headsPerPiece`. For each chunk the
 * graph builds the chunk's rows of the bias [B, 1, c, K] (one copy for all
 * heads: it is never expanded per head), then, one head group after the
 * other, that group's logits, their softmax and the product with V.
 * onnxruntime frees a piece's logits and softmax output after their last
 * consumer, so at the worst moment (the bias Add, or the Softmax, of one
 * piece) one layer holds the chunk's bias rows and two pieces of scores.
 */

export const FP32 = 4;
export const MIB = 2 ** 20;
export const GIB = 2 ** 30;

/** The default bound on one layer's attention bytes (the bound at 1024 px). */
export const DEFAULT_ATTENTION_LIMIT_BYTES = 512 * MIB;

/** Heads per piece of the studio's builder (nn.ts): one head at a time. */
export const DEFAULT_HEADS_PER_PIECE = 1;

/**
 * Bytes one layer's attention holds at its worst moment, for a chunk of
 * `chunk` queries against `keys` keys and pieces of `headsPerPiece` heads:
 * two pieces of fp32 scores (the logits, or logits + bias, and the softmax
 * output: Softmax is not in place) plus the chunk's rows of the bias, one
 * copy for all heads:
 * `(2 * headsPerPiece + 1) * batch * chunk * keys * 4`.
 * It is also an upper bound for an attention without a bias (the reference
 * pass, the text encoder), which holds `2 * headsPerPiece` of those rows.
 */
export function attentionBytes(batch: number, headsPerPiece: number, chunk: number, keys: number): number {
  return (2 * headsPerPiece + 1) * batch * chunk * keys * FP32;
}

export interface QueryChunk {
  /** Queries per chunk: ceil(queries / queryChunks), all of them when queryChunks is 1. */
  chunk: number;
  /** The number of query chunks (static in a graph). */
  queryChunks: number;
  /** Heads per piece. */
  headsPerPiece: number;
  /** attentionBytes at that chunk. */
  bytes: number;
  /** False when even a chunk of one query exceeds the limit. */
  withinLimit: boolean;
}

export interface PieceOptions {
  /** Heads per piece (default DEFAULT_HEADS_PER_PIECE, capped at `heads`). */
  headsPerPiece?: number;
  /** The graph's own number of query chunks, where known; otherwise the fewest that fit the limit. */
  queryChunks?: number;
}

/**
 * The query chunks of one attention of `heads` heads over `queries` queries
 * and `keys` keys, batch `batch`. With `queryChunks` given (a graph's static
 * count), the chunk that graph runs at these sizes. Otherwise the rule the
 * builder's caller uses to pick the count for the largest case a pack must
 * run: the fewest chunks whose bytes stay within `limitBytes` (one chunk when
 * every query fits; `queries` chunks of one query, withinLimit false, when
 * nothing does).
 */
export function chooseQueryChunk(batch: number, heads: number, queries: number, keys: number, limitBytes: number, opts: PieceOptions = {}): QueryChunk {
  const headsPerPiece = Math.min(heads, opts.headsPerPiece ?? DEFAULT_HEADS_PER_PIECE);
  const at = (n: number) => {
    const chunk = Math.ceil(queries / n);
    const bytes = attentionBytes(batch, headsPerPiece, chunk, keys);
    return { chunk, queryChunks: n, headsPerPiece, bytes, withinLimit: bytes <= limitBytes };
  };
  if (opts.queryChunks !== undefined) return at(opts.queryChunks);
  const perQuery = attentionBytes(batch, headsPerPiece, 1, keys);
  const fit = Math.floor(limitBytes / perQuery); // the most queries one chunk may hold
  if (fit >= queries) return at(1);
  if (fit < 1) return at(queries);
  return at(Math.ceil(queries / fit));
}
