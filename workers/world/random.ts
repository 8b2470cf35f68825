/**
 * Seeded draws for the world. Every attribute is drawn from its own stream
 * (seed mixed with a label), so adding an attribute later does not shift the
 * values of the others, and a scene is a pure function of its seed.
 */
import { mulberry32 } from '../pipeline/schedule';

/** murmur3's 32-bit finaliser: spreads every input bit over the output. */
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A 32-bit mix of a seed and a stream label (FNV-1a over the label, then fmix32). */
export function streamSeed(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

export class Draw {
  private readonly next: () => number;
  constructor(seed: number, label: string) {
    this.next = mulberry32(streamSeed(seed, label));
  }
  /** Uniform in [0, 1). */
  unit(): number {
    return this.next();
  }
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}
