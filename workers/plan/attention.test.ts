import { describe, expect, it } from 'vitest';
import { attentionBytes, chooseQueryChunk, MIB } from './attention';

describe('attentionBytes', () => {
  it('counts the chunk bias rows once and two pieces of scores: (2 headsPerPiece + 1) B c K 4', () => {
    expect(attentionBytes(3, 1, 1108, 12621)).toBe(3 * 3 * 1108 * 12621 * 4);
    expect(attentionBytes(2, 4, 10, 20)).toBe(9 * 2 * 10 * 20 * 4);
  });
});

describe('chooseQueryChunk', () => {
  it('takes every query in one chunk when they fit, one head per piece by default', () => {
    expect(chooseQueryChunk(1, 4, 80, 144, 512 * MIB)).toEqual({ chunk: 80, queryChunks: 1, headsPerPiece: 1, bytes: 3 * 80 * 144 * 4, withinLimit: true });
  });

  it('otherwise the fewest chunks under the limit (SD3 Medium, 1024 px, 2 subjects)', () => {
    // 3 branches, one head per piece, 4429 queries, 12621 keys: 3 * 3 * c * 12621 * 4 <= 512 MiB gives c <= 1181,
    // so 4 chunks of at most ceil(4429 / 4) = 1108 queries: 480.1 MiB.
    const c = chooseQueryChunk(3, 24, 4429, 12621, 512 * MIB);
    expect(c).toMatchObject({ chunk: 1108, queryChunks: 4, headsPerPiece: 1, withinLimit: true });
    expect(c.bytes).toBe(attentionBytes(3, 1, 1108, 12621));
    expect(c.bytes / MIB).toBeCloseTo(480.1, 1);
    expect(attentionBytes(3, 1, Math.ceil(4429 / 3), 12621)).toBeGreaterThan(512 * MIB);
    // Without query chunks, one head of the 3 branches alone is 640 MiB of scores.
    expect(chooseQueryChunk(3, 24, 4429, 12621, 512 * MIB, { queryChunks: 1 })).toMatchObject({ chunk: 4429, withinLimit: false });
  });

  it("a graph's own chunk count and heads per piece, where known", () => {
    expect(chooseQueryChunk(3, 24, 4429, 12621, 512 * MIB, { queryChunks: 20, headsPerPiece: 2 })).toEqual({
      chunk: 222,
      queryChunks: 20,
      headsPerPiece: 2,
      bytes: 5 * 3 * 222 * 12621 * 4,
      withinLimit: true,
    });
    // headsPerPiece is capped at the head count.
    expect(chooseQueryChunk(1, 4, 80, 144, 512 * MIB, { headsPerPiece: 64 }).headsPerPiece).toBe(4);
  });

  it('says so when even one query is too much', () => {
    expect(chooseQueryChunk(1, 1, 10, 10, 100)).toMatchObject({ chunk: 1, queryChunks: 10, withinLimit: false });
  });
});
