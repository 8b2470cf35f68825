/** Flow-matching Euler schedule (METHOD.md section 7), the drop-ratio schedule (section 3), and seeded noise. */

/** sigma(t) = shift t / (1 + (shift - 1) t) for t from 1 to 0 over `steps` steps: steps + 1 values. */
export function flowSigmas(steps: number, shift: number): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`);
  return Float64Array.from({ length: steps + 1 }, (_, i) => {
    const t = 1 - i / steps;
    return (shift * t) / (1 + (shift - 1) * t);
  });
}

const shifted = (t: number, shift: number) => (shift * t) / (1 + (shift - 1) * t);

/**
 * diffusers' FlowMatchEulerDiscreteScheduler.set_timesteps as SD3 runs it
 * (static shift, no dynamic shifting): t uniform from 1 to the smallest
 * training sigma as the scheduler stores it (shifted once at init: shift(1 / trainTimesteps)),
 * each t shifted again, then a final 0. 4 steps, shift 3: 1, 0.857692, 0.602151,
 * 0.008929, 0.
 */
export function diffusersFlowSigmas(steps: number, shift: number, trainTimesteps: number): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`);
  const tMin = shifted(1 / trainTimesteps, shift);
  return Float64Array.from({ length: steps + 1 }, (_, i) => {
    if (i === steps) return 0;
    const t = steps === 1 ? 1 : 1 + ((tMin - 1) * i) / (steps - 1);
    return shifted(t, shift);
  });
}

/** The sigmas of a pack's scheduler for `steps` steps (steps + 1 values, the last 0). */
export function scheduleSigmas(scheduler: { type: 'flow-matching-euler' | 'flow-match-euler-discrete' | 'flow-match-empirical-mu'; shift: number; trainTimesteps: number }, steps: number): Float64Array {
  if (scheduler.type === 'flow-match-empirical-mu') throw new Error("FLUX.2's schedule depends on the image size: its family computes it (flux2Sigmas)");
  return scheduler.type === 'flow-match-euler-discrete' ? diffusersFlowSigmas(steps, scheduler.shift, scheduler.trainTimesteps) : flowSigmas(steps, scheduler.shift);
}

export type DropSchedule = 'random' | 'early' | 'late';

/** A deterministic 32-bit generator (mulberry32). */
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

/**
 * Which steps drop the reference: round(ratio * steps) of them, the first
 * ones (early), the last ones (late) or a seeded random choice.
 */
export function droppedSteps(steps: number, ratio: number, schedule: DropSchedule, seed: number): boolean[] {
  if (!(ratio >= 0 && ratio <= 1)) throw new Error(`drop ratio must be in [0, 1], got ${ratio}`);
  const count = Math.round(ratio * steps);
  const out = new Array<boolean>(steps).fill(false);
  if (schedule === 'early') for (let i = 0; i < count; i++) out[i] = true;
  else if (schedule === 'late') for (let i = steps - count; i < steps; i++) out[i] = true;
  else {
    // Fisher-Yates on step indices with a generator derived from the seed.
    const rand = mulberry32(seed ^ 0x5eed_d209);
    const idx = Array.from({ length: steps }, (_, i) => i);
    for (let i = steps - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    for (let i = 0; i < count; i++) out[idx[i]!] = true;
  }
  return out;
}

/** Standard normal noise from a seed (Box-Muller on mulberry32): the same seed gives the same bytes. */
export function gaussianNoise(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/**
 * Cross-guidance weights (METHOD.md section 3) over the batched predictions:
 * v = v0 + sText (vt - v0) + sRef (vtr - vt), written as a weighted sum.
 * With two predictions (no reference branch) it is plain CFG.
 */
export function guidanceWeights(sText: number, sRef: number, branches: 2 | 3): number[] {
  return branches === 3 ? [1 - sText, sText - sRef, sRef] : [1 - sText, sText];
}
