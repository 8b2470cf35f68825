import { describe, expect, it } from 'vitest';
import { gibToBytes, parseBudget } from './memory-budget';

describe('parseBudget', () => {
  it('reads GiB, empty for the default, and refuses nonsense with a message', () => {
    expect(parseBudget(' 6 ')).toEqual({ ok: true, gib: 6 });
    expect(parseBudget('')).toEqual({ ok: true, gib: null });
    expect(parseBudget('-2')).toEqual({ ok: false, message: '"-2" is not a memory budget: type a number of GiB, such as 6' });
    expect(parseBudget('lots').ok).toBe(false);
    expect(parseBudget('5000').ok).toBe(false);
    expect(gibToBytes(1.5)).toBe(1610612736);
  });
});
