/** mulberry32: a small seeded PRNG, so test inputs are the same on every run and in every process. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` values uniform in [-1, 1), rounded to float32 so both sides start from identical numbers. */
export function seededUniform(seed: number, count: number): number[] {
  const next = mulberry32(seed);
  return Array.from(Float32Array.from({ length: count }, () => next() * 2 - 1));
}
