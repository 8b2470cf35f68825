/**
 * GenerateRequest.initialNoise: the seeded noise passed explicitly gives the
 * seeded run's bytes; other noise changes the output; a wrong size is refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine, GenerateRequest } from './engine';
import { gaussianNoise } from './schedule';
import { mochiSubject, nodeEngine, syntheticReference, testRequest } from './testing/nodeEngine';

const W = 128;
const H = 128;
let engine: Engine;
let dims: { C: number; h: number; w: number };

beforeAll(async () => {
  engine = (await nodeEngine()).engine;
  const { channels, downsample } = engine.ctx.manifest.latent;
  dims = { C: channels, h: H / downsample, w: W / downsample };
});

const request = (over: Partial<GenerateRequest> = {}): GenerateRequest =>
  testRequest({ subjects: [mochiSubject('noise-ref', { references: [syntheticReference('noise-ref', W, H, 3)] })], width: W, height: H, seed: 77, ...over });

describe('initial noise', () => {
  it('the seeded noise given explicitly reproduces the seeded run byte for byte; other noise changes it', async () => {
    const seeded = await engine.generate(request());
    // The engine's own noise: gaussianNoise(C * h * w, seed).
    const noise = gaussianNoise(dims.C * dims.h * dims.w, 77);
    // A different seed field must not matter once the noise is given.
    const given = await engine.generate(request({ initialNoise: noise.slice(), seed: 5 }));
    expect(Buffer.from(given.latents.buffer).equals(Buffer.from(seeded.latents.buffer))).toBe(true);
    expect(Buffer.from(given.rgba.buffer).equals(Buffer.from(seeded.rgba.buffer))).toBe(true);

    const other = await engine.generate(request({ initialNoise: gaussianNoise(noise.length, 78) }));
    let diff = 0;
    for (let i = 0; i < other.latents.length; i++) diff = Math.max(diff, Math.abs(other.latents[i]! - seeded.latents[i]!));
    expect(diff).toBeGreaterThan(1e-2);
  });

  it('refuses noise of the wrong size, naming both sizes', async () => {
    const n = dims.C * dims.h * dims.w;
    await expect(engine.generate(request({ initialNoise: new Float32Array(n - 1) }))).rejects.toThrow(
      `initial noise must be [${dims.C}, ${dims.h}, ${dims.w}] = ${n} values at ${W}x${H}, got ${n - 1}`,
    );
  });
});
