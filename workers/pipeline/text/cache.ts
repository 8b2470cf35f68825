/**
 * A small least-recently-used cache keyed by string, used for text encodings
 * (key: textEncodingKey(packId, expandedText)). A Map keeps insertion order,
 * so re-inserting on every hit keeps the least recently used entry first.
 * Pure TypeScript.
 */

export class LruCache<V> {
  private readonly map = new Map<string, V>();
  private hitCount = 0;
  private missCount = 0;

  /**
   * @param maxEntries entries kept; the least recently used one goes when a new key would exceed it.
   * @param onEvict called with each entry that leaves by eviction, delete or clear (to free tensors); not on overwrite with the same value.
   */
  constructor(
    readonly maxEntries: number,
    private readonly onEvict?: (key: string, value: V) => void,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`LruCache maxEntries must be a positive integer, got ${maxEntries}`);
  }

  get size(): number {
    return this.map.size;
  }

  get hits(): number {
    return this.hitCount;
  }

  get misses(): number {
    return this.missCount;
  }

  /** The value, marking it most recently used; counts a hit or a miss. */
  get(key: string): V | undefined {
    if (!this.map.has(key)) {
      this.missCount++;
      return undefined;
    }
    const value = this.map.get(key) as V;
    this.map.delete(key);
    this.map.set(key, value);
    this.hitCount++;
    return value;
  }

  /** Whether the key is cached; does not change recency or the counts. */
  has(key: string): boolean {
    return this.map.has(key);
  }

  /** The value without marking it used or counting; undefined if absent. */
  peek(key: string): V | undefined {
    return this.map.get(key);
  }

  /** Stores the value as most recently used, evicting the least recently used entries beyond maxEntries. */
  set(key: string, value: V): this {
    if (this.map.has(key)) {
      const old = this.map.get(key) as V;
      this.map.delete(key);
      if (old !== value) this.onEvict?.(key, old);
    }
    this.map.set(key, value);
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value as string;
      const v = this.map.get(oldest) as V;
      this.map.delete(oldest);
      this.onEvict?.(oldest, v);
    }
    return this;
  }

  /**
   * The cached value, or make() stored and returned. With a promise-valued
   * cache this also shares one in-flight computation between callers; a
   * rejected promise is removed so the next call retries.
   */
  getOrSet(key: string, make: () => V): V {
    if (this.map.has(key)) return this.get(key) as V;
    this.missCount++;
    const value = make();
    this.set(key, value);
    if (value instanceof Promise) {
      value.catch(() => {
        if (this.map.get(key) === value) this.map.delete(key);
      });
    }
    return value;
  }

  delete(key: string): boolean {
    if (!this.map.has(key)) return false;
    const v = this.map.get(key) as V;
    this.map.delete(key);
    this.onEvict?.(key, v);
    return true;
  }

  clear(): void {
    const entries = [...this.map];
    this.map.clear();
    for (const [k, v] of entries) this.onEvict?.(k, v);
  }

  /** Keys from least to most recently used. */
  keys(): string[] {
    return [...this.map.keys()];
  }
}

/** The cache key of a text encoding: the pack and the exact text the encoder saw. */
export function textEncodingKey(packId: string, expandedText: string): string {
  return `${packId}\u0000${expandedText}`;
}
