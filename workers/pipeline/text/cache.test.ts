import { describe, expect, it } from 'vitest';
import { LruCache, textEncodingKey } from './cache';

describe('LruCache', () => {
  it('evicts the least recently used entry', () => {
    const evicted: string[] = [];
    const c = new LruCache<number>(2, (k) => evicted.push(k));
    c.set('a', 1).set('b', 2);
    expect(c.get('a')).toBe(1); // a is now most recent
    c.set('c', 3); // evicts b
    expect(evicted).toEqual(['b']);
    expect(c.keys()).toEqual(['a', 'c']);
    expect(c.get('b')).toBeUndefined();
    c.set('d', 4); // evicts a
    expect(evicted).toEqual(['b', 'a']);
    expect(c.keys()).toEqual(['c', 'd']);
    expect(c.size).toBe(2);
  });

  it('counts hits and misses; has and peek do not touch recency', () => {
    const c = new LruCache<string>(2);
    c.set('x', 'X').set('y', 'Y');
    expect(c.get('x')).toBe('X');
    expect(c.get('nope')).toBeUndefined();
    expect([c.hits, c.misses]).toEqual([1, 1]);
    expect(c.has('y')).toBe(true);
    expect(c.peek('y')).toBe('Y');
    expect([c.hits, c.misses]).toEqual([1, 1]);
    c.set('z', 'Z'); // y is still least recent
    expect(c.keys()).toEqual(['x', 'z']);
  });

  it('overwriting refreshes recency and hands the old value to onEvict', () => {
    const evicted: [string, number][] = [];
    const c = new LruCache<number>(2, (k, v) => evicted.push([k, v]));
    c.set('a', 1).set('b', 2).set('a', 10);
    expect(c.keys()).toEqual(['b', 'a']);
    expect(evicted).toEqual([['a', 1]]);
    c.set('a', 10); // same value: not evicted
    expect(evicted).toHaveLength(1);
    c.delete('b');
    c.clear();
    expect(evicted).toEqual([
      ['a', 1],
      ['b', 2],
      ['a', 10],
    ]);
    expect(c.size).toBe(0);
  });

  it('getOrSet computes once and shares a promise; a rejected promise is forgotten', async () => {
    const c = new LruCache<Promise<number>>(4);
    let calls = 0;
    const make = () => Promise.resolve(++calls);
    const p1 = c.getOrSet('k', make);
    const p2 = c.getOrSet('k', make);
    expect(p1).toBe(p2);
    expect(await p1).toBe(1);
    expect([c.hits, c.misses]).toEqual([1, 1]);

    const bad = c.getOrSet('bad', () => Promise.reject(new Error('boom')));
    await expect(bad).rejects.toThrow('boom');
    expect(c.has('bad')).toBe(false);
  });

  it('rejects a non-positive size', () => {
    expect(() => new LruCache(0)).toThrow();
    expect(() => new LruCache(1.5)).toThrow();
  });

  it('keys text encodings by pack and expanded text', () => {
    expect(textEncodingKey('test-pack@1.0.0', '<s1> cat')).toBe('test-pack@1.0.0\u0000<s1> cat');
    expect(textEncodingKey('a', 'b c')).not.toBe(textEncodingKey('a b', 'c'));
  });
});
