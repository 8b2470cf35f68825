import { describe, expect, it } from 'vitest';
import { fuseColumns } from './models/dit';
import { linear, Rng, type Linear } from './params';
import { compactLinear, storedLinear } from './stored-linear';

const parts = (seed: number): Linear[] => [linear(new Rng(seed), 64, 48), linear(new Rng(seed + 1), 64, 48), linear(new Rng(seed + 2), 64, 32)];

describe('stored linears', () => {
  for (const p of [{ matmul: 'int4', blockSize: 16 }, { matmul: 'int8', blockSize: 32 }] as const) {
    it(`${p.matmul}: parts compacted when read fuse to exactly the stored form of the fused fp32 matrix`, () => {
      const reference = storedLinear(fuseColumns(parts(3), p), p);
      const compacted = parts(3).map((l) => compactLinear(l, p));
      expect(compacted.every((l) => l.w === null)).toBe(true);
      expect(storedLinear(fuseColumns(compacted, p), p)).toEqual(reference);
      // Every graph that fuses the same parts gets the same bytes (fused once, shared), not a copy each.
      expect(storedLinear(fuseColumns(compacted, p), p)).toBe(storedLinear(fuseColumns(compacted, p), p));
    });
  }

  it('a compacted layer refuses another precision with a clear error', () => {
    const lin = compactLinear(linear(new Rng(9), 64, 16), { matmul: 'int4', blockSize: 32 });
    expect(() => storedLinear(lin, { matmul: 'int8', blockSize: 32 })).toThrow(/compacted to int4\/32 when it was read; it cannot be stored as int8/);
  });
});
