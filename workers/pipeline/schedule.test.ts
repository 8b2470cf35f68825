import { describe, expect, it } from 'vitest';
import { diffusersFlowSigmas, droppedSteps, flowSigmas, gaussianNoise, guidanceWeights, scheduleSigmas } from './schedule';

describe('flow-matching schedule', () => {
  it('goes from 1 to 0 with the SD3 shift', () => {
    const s = flowSigmas(4, 3);
    expect(s.length).toBe(5);
    expect(s[0]).toBe(1);
    expect(s[4]).toBe(0);
    // t = 0.5: 1.5 / 2 = 0.75
    expect(s[2]).toBeCloseTo(0.75, 12);
    for (let i = 1; i < s.length; i++) expect(s[i]!).toBeLessThan(s[i - 1]!);
    // shift 1 is linear
    expect(Array.from(flowSigmas(4, 1))).toEqual([1, 0.75, 0.5, 0.25, 0]);
  });
  it('rejects a bad step count', () => {
    expect(() => flowSigmas(0, 3)).toThrow(/positive integer/);
  });
});

describe('drop schedule', () => {
  it('drops round(ratio * steps) steps, placed by the schedule', () => {
    expect(droppedSteps(8, 0.25, 'early', 1)).toEqual([true, true, false, false, false, false, false, false]);
    expect(droppedSteps(8, 0.25, 'late', 1)).toEqual([false, false, false, false, false, false, true, true]);
    const r = droppedSteps(20, 0.3, 'random', 42);
    expect(r.filter(Boolean).length).toBe(6);
    expect(droppedSteps(20, 0.3, 'random', 42)).toEqual(r); // seeded
    expect(droppedSteps(20, 0.3, 'random', 43)).not.toEqual(r);
    expect(droppedSteps(5, 1, 'random', 3).every(Boolean)).toBe(true);
    expect(droppedSteps(5, 0, 'late', 3).some(Boolean)).toBe(false);
  });
  it('rejects a ratio outside [0, 1]', () => {
    expect(() => droppedSteps(4, 1.5, 'early', 0)).toThrow(/\[0, 1\]/);
  });
});

describe('noise and guidance', () => {
  it('noise is reproducible and roughly standard normal', () => {
    const a = gaussianNoise(10000, 7);
    expect(gaussianNoise(10000, 7)).toEqual(a);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const v = a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(v - 1)).toBeLessThan(0.05);
  });
  it('cross-guidance weights reproduce v0 + s_t (vt - v0) + s_r (vtr - vt)', () => {
    const [v0, vt, vtr] = [0.3, -1.2, 2.5];
    const [a, b, c] = guidanceWeights(4, 2, 3);
    expect(a! * v0 + b! * vt + c! * vtr).toBeCloseTo(v0 + 4 * (vt - v0) + 2 * (vtr - vt), 12);
    const [d, e] = guidanceWeights(4, 0, 2);
    expect(d! * v0 + e! * vt).toBeCloseTo(v0 + 4 * (vt - v0), 12);
  });
});

describe('diffusersFlowSigmas (SD3 packs)', () => {
  it("equals diffusers' FlowMatchEulerDiscreteScheduler on the committed SD3 fixture (4 steps, shift 3)", async () => {
    const { readFile } = await import('node:fs/promises');
    const index = JSON.parse(await readFile(new URL('../../fixtures/sd3/sd3/reference/index.json', import.meta.url), 'utf8')) as { schedule: { num_inference_steps: number; shift: number; sigmas: number[] } };
    const { num_inference_steps: steps, shift, sigmas } = index.schedule;
    const ours = scheduleSigmas({ type: 'flow-match-euler-discrete', shift, trainTimesteps: 1000 }, steps);
    expect(ours.length).toBe(sigmas.length);
    // diffusers computes them in float32.
    ours.forEach((s, i) => expect(Math.abs(s - sigmas[i]!)).toBeLessThan(1e-6));
  });

  it('gives the documented 28-step values of SD3 Medium and differs from the uniform schedule', () => {
    const s = diffusersFlowSigmas(28, 3, 1000);
    expect(s[0]).toBe(1);
    expect(s[1]).toBeCloseTo(0.987381, 5);
    expect(s[26]).toBeCloseTo(0.110906, 5);
    expect(s[27]).toBeCloseTo(0.008929, 5);
    expect(s[28]).toBe(0);
    expect(Math.abs(flowSigmas(28, 3)[27]! - s[27]!)).toBeGreaterThan(0.05);
  });
});
