/**
 * GPU memory holds each weight once: after whole generations (cached mode with
 * a reference pass, then full mode), the weights of the live sessions add up
 * to at most the pack's weights counted once (within 5%), because the
 * transformer's graphs are loaded and released in turn.
 */
import { describe, expect, it } from 'vitest';
import { graphBytes, weightBytesOnce } from '../pack/manifest';
import type { GenerateRequest } from './engine';
import { mochiSubject, nodeEngine, syntheticReference, testRequest } from './testing/nodeEngine';

const request = (over: Partial<GenerateRequest>): GenerateRequest =>
  testRequest({ subjects: [mochiSubject('residency')], ...over });

describe('weights resident once (test pack, WASM in Node)', () => {
  it('live sessions hold at most the pack weights counted once, in cached and in full mode', async () => {
    const { engine, sessions } = await nodeEngine();
    const once = weightBytesOnce(sessions.loadedGraphs());
    const live = () => sessions.createdSpecs().reduce((n, g) => n + graphBytes(g), 0);
    const everyGraph = sessions.loadedGraphs().reduce((n, g) => n + graphBytes(g), 0);
    // The check can fail: holding every graph at once is far more than the weights once.
    expect(everyGraph).toBeGreaterThan(once * 1.05);

    await engine.generate(request({}));
    expect(sessions.created().some((k) => k.startsWith('dit_reference/'))).toBe(false);
    expect(sessions.created().some((k) => k.startsWith('dit_step/'))).toBe(true);
    expect(live()).toBeLessThanOrEqual(once * 1.05);

    await engine.generate(request({ refMode: 'full', seed: 2 }));
    expect(sessions.created().some((k) => k.startsWith('dit_step_full/'))).toBe(true);
    expect(live()).toBeLessThanOrEqual(once * 1.05);
    // A prompt edit in cached mode after the reference pass: only the step graph comes back.
    const swapsBefore = sessions.swaps;
    await engine.generate(request({ prompt: '@mochi under a tree' }));
    await engine.generate(request({ prompt: '@mochi in the snow' }));
    expect(sessions.swaps - swapsBefore).toBe(1);
    await sessions.releaseAll();
  });
});

describe('bounded caches', () => {
  it('reference K/V beyond the byte limit evict the oldest', async () => {
    // One reference's K and V on the test pack: 2 x (2 layers x 64 tokens x 64 dims x 4 bytes) = 64 KiB.
    const kvBytes = 2 * 2 * 64 * 64 * 4;
    const { engine, sessions } = await nodeEngine('decomposed', { referenceKVBytes: 2 * kvBytes });
    const subject = (key: string) => ({ classWord: 'cat', references: [syntheticReference(key, 128, 128, 7)] });
    // Each subject also caches the black reference: 2 entries fit, the third evicts the oldest.
    await engine.encodeSubject(subject('a'), 128, 128);
    expect(engine.cacheSizes().referenceKV).toBe(2);
    await engine.encodeSubject(subject('b'), 128, 128);
    // Without the limit it would hold 3 (a, b and the shared black reference); with it, 2.
    expect(engine.cacheSizes().referenceKV).toBe(2);
    await sessions.releaseAll();
  });
});
