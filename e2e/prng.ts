import { mulberry32 } from '../workers/pipeline/schedule';

/** `count` values uniform in [-1, 1), rounded to float32 so both sides start from identical numbers. */
export function seededUniform(seed: number, count: number): number[] {
  const next = mulberry32(seed);
  return Array.from(Float32Array.from({ length: count }, () => next() * 2 - 1));
}
