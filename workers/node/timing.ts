/** What the benchmarks and `npm run generate` report timings with: medians (noisy shared machines) in seconds. */

/** The median (0 for no values). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Milliseconds as "1.23 s". */
export const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
