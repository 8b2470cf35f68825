/**
 * A cache bounded by bytes, evicting the least recently used entries: the
 * engine's text encodings, reference latents and reference K/V, whose sizes
 * range from kilobytes (the test pack) to hundreds of megabytes (a reference
 * of a real model at 1024 px).
 */
export class ByteLru<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private total = 0;
  /** Entries dropped to stay within the limit, since creation. */
  evictions = 0;

  constructor(
    readonly maxBytes: number,
    private readonly sizeOf: (v: V) => number,
  ) {
    if (!(maxBytes > 0)) throw new Error(`a cache limit must be positive, got ${maxBytes}`);
  }

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    // Most recently used goes last.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  /**
   * Stores `value`, then evicts the oldest entries until the total fits. An
   * entry larger than the whole limit is not kept (the caller still has it).
   */
  set(key: string, value: V): void {
    const old = this.entries.get(key);
    if (old) {
      this.total -= old.bytes;
      this.entries.delete(key);
    }
    const bytes = this.sizeOf(value);
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    for (const [k, e] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(k);
      this.total -= e.bytes;
      this.evictions++;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.total;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }
}
