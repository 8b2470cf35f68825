/**
 * The engine on the test pack in Node (WASM): METHOD.md section 8 (the shared
 * method suite), caches, progress and cancel.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, type Engine, type GenerateRequest, type SubjectSpec } from './engine';
import { progressProblems, type GenerateProgress } from './progress';
import { methodSuite } from './testing/method-suite';
import { mochiSubject, nodeEngine, syntheticReference, testRequest } from './testing/nodeEngine';

let engine: Engine;

beforeAll(async () => {
  engine = (await nodeEngine()).engine;
});

methodSuite('test pack', async () => (await nodeEngine()).engine, { size: 128, grid: 8 });

const W = 128;
const H = 128;
const TOKENS = 64; // (128 / 8 / 2)^2
const mochi = (over: Partial<SubjectSpec> = {}): SubjectSpec => mochiSubject('mochi-1', over);
const request = (over: Partial<GenerateRequest> = {}): GenerateRequest =>
  testRequest({ prompt: '@mochi sleeping on a stack of books, watercolor', subjects: [mochi()], steps: 4, seed: 1234, ...over });

const gen = async (over: Partial<GenerateRequest> = {}) => (await engine.generate(request(over))).latents;

describe('caches', () => {
  it('a prompt-only edit reuses reference latents and K/V, and encodes only the new prompt', async () => {
    engine.clearCaches();
    const first = await engine.generate(request());
    const before = engine.cacheSizes();
    expect(before.referenceKV).toBe(2); // the subject's reference and the black (dropped) one
    // Counted: one reference pass each, both VAE-encoded once; one step graph run per step (the branches are batched).
    expect(first.graphRuns).toMatchObject({ dit_reference: 2, vae_encoder: 2, dit_step: 4, vae_decoder: 1 });
    expect(first.graphRuns.dit_step_full).toBeUndefined();
    const edited = await engine.generate(request({ prompt: '@mochi on a wooden table, pencil' }));
    expect(edited.graphRuns.dit_reference).toBeUndefined();
    expect(edited.graphRuns.vae_encoder).toBeUndefined();
    const after = engine.cacheSizes();
    expect(after.referenceKV).toBe(before.referenceKV);
    expect(after.latents).toBe(before.latents);
    expect(after.text).toBe(before.text + 1);
    // A new mask is new content: new latents and K/V.
    await gen({ subjects: [mochi({ references: [syntheticReference('mochi-1|mask:abc', W, H, 3, new Float32Array(TOKENS).fill(0.5))] })] });
    expect(engine.cacheSizes().referenceKV).toBe(before.referenceKV + 1);
  });

  it('text guidance 1 neither encodes the negative prompt nor runs the unconditional branch (its weight is 0)', async () => {
    engine.clearCaches();
    // The prompt, and the reference prompt this family's reference pass reads.
    const plain = await engine.generate(request({ textGuidance: 1 }));
    expect(plain.graphRuns.text_encoder).toBe(2);
    engine.clearCaches();
    // Any other guidance runs it: the negative prompt is encoded too.
    const guided = await engine.generate(request({ textGuidance: 1.5 }));
    expect(guided.graphRuns.text_encoder).toBe(3);
    // The skipped branch is the term (1 - s) v_u: as s -> 1 the image tends to the one without it.
    const near = await engine.generate(request({ textGuidance: 1 + 1e-6 }));
    const diff = Math.max(...plain.latents.map((v, i) => Math.abs(v - near.latents[i]!)));
    const scale = Math.max(...plain.latents.map(Math.abs));
    expect(diff / scale).toBeLessThan(1e-4);
    expect(Math.max(...plain.latents.map((v, i) => Math.abs(v - guided.latents[i]!))) / scale).toBeGreaterThan(1e-3);
  });

  it('the branches share one black and one real reference set, kept on the device across a prompt edit', async () => {
    engine.clearCaches();
    await gen();
    const uploads = engine.referenceUploads;
    // [2 layers, 2 sets (black, real), 64 tokens, 64] for K and for V: 131,072 bytes. A copy per
    // branch (uncond + black, cond + black, cond + real) would be 3 sets: 196,608.
    expect(engine.cacheSizes().residentReferenceBytes).toBe(2 * (2 * 2 * TOKENS * 64 * 4));
    await gen({ prompt: '@mochi on a wooden table, pencil' });
    expect(engine.referenceUploads).toBe(uploads);
    await gen({ subjects: [mochi({ references: [syntheticReference('mochi-1|mask:def', W, H, 3, new Float32Array(TOKENS).fill(0.5))] })] });
    expect(engine.referenceUploads).toBe(uploads + 1);
    expect(engine.cacheSizes().residentReferenceBytes).toBe(2 * (2 * 2 * TOKENS * 64 * 4));
    // Without subjects nothing of the references is kept but one zero set.
    await gen({ prompt: 'a cat', subjects: [] });
    expect(engine.cacheSizes().residentReferenceBytes).toBe(2 * (2 * 1 * 1 * 64 * 4));
  });

  it('encodeSubject warms the cache so generation runs no reference pass', async () => {
    engine.clearCaches();
    const tokens = await engine.encodeSubject(mochi(), W, H);
    expect(tokens).toBe(TOKENS);
    const warm = engine.cacheSizes();
    await gen();
    expect(engine.cacheSizes().referenceKV).toBe(warm.referenceKV);
  });
});

describe('progress and cancel', () => {
  it('progress is a valid sequence ending in done, with previews when asked', async () => {
    const events: GenerateProgress[] = [];
    await engine.generate(request({ previewEvery: 2 }), (e) => events.push(e));
    expect(progressProblems(events)).toEqual([]);
    const steps = events.filter((e) => e.kind === 'step');
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4]);
    expect(steps.map((e) => e.preview !== null)).toEqual([false, true, false, true]);
  });

  it('cancel takes effect within one step and ends with a cancelled event', async () => {
    const events: GenerateProgress[] = [];
    const ctrl = new AbortController();
    const run = engine.generate(request({ steps: 8 }), (e) => {
      events.push(e);
      if (e.kind === 'step' && e.step === 3) ctrl.abort();
    }, ctrl.signal);
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(progressProblems(events)).toEqual([]);
    expect(events.at(-1)).toEqual({ kind: 'cancelled', atStep: 3 });
    expect(events.filter((e) => e.kind === 'step').length).toBe(3);
    // ...and the engine generates again afterwards.
    expect((await engine.generate(request())).rgba.length).toBe(W * H * 4);
  });

  it('bad requests fail with a clear message and an error event', async () => {
    const events: GenerateProgress[] = [];
    await expect(engine.generate(request({ width: 100 }), (e) => events.push(e))).rejects.toThrow(/size 100x128 is not one this pack supports/);
    expect(events.at(-1)?.kind).toBe('error');
  });
});
