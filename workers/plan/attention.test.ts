import { describe, expect, it } from 'vitest';
import { attentionBytes, chooseQueryChunk, MIB } from './attention';

describe('chooseQueryChunk', () => {
  it('takes every query when they fit', () => {
    expect(chooseQueryChunk(1, 4, 80, 144, 512 * MIB)).toEqual({ chunk: 80, bytes: 9 * 80 * 144 * 4, withinLimit: true });
  });

  it('otherwise the largest power of two under the limit', () => {
    // 3 branches x 24 heads, 4429 queries, 12621 keys: 49 * 3 * c * 12621 * 4 <= 512 MiB gives c = 64.
    const c = chooseQueryChunk(3, 24, 4429, 12621, 512 * MIB);
    expect(c.chunk).toBe(64);
    expect(c.bytes).toBe(attentionBytes(3, 24, 64, 12621));
    expect(attentionBytes(3, 24, 128, 12621)).toBeGreaterThan(512 * MIB);
  });

  it('says so when even one query is too much', () => {
    expect(chooseQueryChunk(1, 1, 10, 10, 100)).toMatchObject({ chunk: 1, withinLimit: false });
  });
});
