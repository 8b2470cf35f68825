import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { empiricalMu, flux2Sigmas } from './flux2-schedule';

const INDEX = new URL('../../fixtures/flux2/klein-4b/reference/index.json', import.meta.url).pathname;

interface Schedule {
  image_tokens: number;
  steps: number;
  mu: number;
  sigmas: number[];
}

describe('FLUX.2 schedule', () => {
  it("equals the klein pipeline's mu and sigmas (both branches of compute_empirical_mu, 3 to 50 steps)", async () => {
    const { schedules } = JSON.parse(await readFile(INDEX, 'utf8')) as { schedules: Schedule[] };
    expect(schedules.some((s) => s.image_tokens > 4300)).toBe(true);
    for (const s of schedules) {
      expect(empiricalMu(s.image_tokens, s.steps), `mu at ${s.image_tokens} tokens, ${s.steps} steps`).toBeCloseTo(s.mu, 12);
      expect(Array.from(flux2Sigmas(s.steps, s.image_tokens)), `sigmas at ${s.image_tokens} tokens, ${s.steps} steps`).toEqual(s.sigmas);
    }
  });
});
