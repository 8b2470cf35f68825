import { describe, expect, it } from 'vitest';
import { ByteLru } from './byte-lru';

const bytesOf = (a: Float32Array) => a.byteLength;

describe('ByteLru', () => {
  it('evicts the least recently used entries to stay within its byte limit', () => {
    const c = new ByteLru<Float32Array>(40, bytesOf);
    c.set('a', new Float32Array(4)); // 16 bytes
    c.set('b', new Float32Array(4)); // 32
    expect(c.get('a')).toBeDefined(); // a is now the most recent
    c.set('c', new Float32Array(4)); // 48 > 40: b goes
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBeDefined();
    expect(c.get('c')).toBeDefined();
    expect(c.bytes).toBe(32);
    expect(c.evictions).toBe(1);
  });

  it('replaces an entry without counting it twice, and does not keep one larger than the limit', () => {
    const c = new ByteLru<Float32Array>(40, bytesOf);
    c.set('a', new Float32Array(4));
    c.set('a', new Float32Array(8));
    expect(c.bytes).toBe(32);
    c.set('huge', new Float32Array(100));
    expect(c.get('huge')).toBeUndefined();
    expect(c.size).toBe(1);
    c.clear();
    expect([c.size, c.bytes]).toEqual([0, 0]);
  });
});
