/**
 * Generation through the page's engine worker, on the project's backend:
 * two subjects, a run cancelled midway, and a run after it.
 */
import { expect, test } from './fixtures';
import type { TestGenerateRequest, TestGenerateResult } from '../src/engine-client/test-hook';

function run(page: import('@playwright/test').Page, req: TestGenerateRequest): Promise<TestGenerateResult> {
  return page.evaluate((r) => window.__subjectStudio!.generate(r), req);
}

const twoSubjects: TestGenerateRequest['subjects'] = [
  { name: 'mochi', classWord: 'cat', imageSeeds: [1, 2], maskHalf: true },
  { name: 'teddy', classWord: 'bear', strength: 1.5, imageSeeds: [3] },
];

test('generates with two subjects, cancels a run midway, then generates again', async ({ studio, backend, page }) => {
  test.setTimeout(240_000);
  await studio.open();
  const status = await studio.status();
  expect(status.backend).toBe(backend);
  console.log(`[${backend}] attention probe: ${JSON.stringify(status.attentionProbe?.cases.map((c) => ({ withBias: c.withBias, fusedError: c.fusedError, fusedMatches: c.fusedMatches })))}; chosen ${JSON.stringify(status.attentionChoice)}`);

  // A step of SwiftShader's WebGPU takes ~5 s on these machines: fewer steps there, each checked the same way.
  const steps = backend === 'webgpu' ? 2 : 4;
  const first = await run(page, { prompt: '@mochi and @teddy on a stack of books, watercolor', subjects: twoSubjects, steps, seed: 7 });
  expect(first.error).toBeNull();
  expect([first.width, first.height]).toEqual([128, 128]);
  const kinds = first.events.map((e) => e.kind);
  expect(kinds.at(-1)).toBe('done');
  expect(first.events.filter((e) => e.kind === 'step').map((e) => e.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
  expect(first.events.filter((e) => e.kind === 'step').every((e) => e.preview !== null)).toBe(true);
  expect(kinds.indexOf('decoding')).toBeGreaterThan(kinds.lastIndexOf('step'));
  // Both subjects' three reference images were encoded.
  expect(first.events.filter((e) => e.kind === 'encoding' && e.what === 'references').at(-1)).toMatchObject({ done: 3, total: 3 });
  expect(first.std).toBeGreaterThan(5); // an image, not a flat field
  console.log(`[${backend}] ${steps} steps, two subjects: median step ${[...first.stepMs].sort((a, b) => a - b)[Math.floor(steps / 2)]!.toFixed(1)} ms`);

  const cancelled = await run(page, { prompt: '@mochi and @teddy in the snow', subjects: twoSubjects, steps: 30, seed: 8, cancelAtStep: 2 });
  expect(cancelled.error).toMatch(/cancelled/);
  expect(cancelled.errorCode).toBe('cancelled');
  expect(cancelled.events.at(-1)?.kind).toBe('cancelled');
  const stepsBeforeCancel = cancelled.events.filter((e) => e.kind === 'step').length;
  expect(stepsBeforeCancel).toBeGreaterThanOrEqual(2);
  expect(stepsBeforeCancel).toBeLessThanOrEqual(3); // cancel takes effect within one step

  const again = await run(page, { prompt: '@mochi and @teddy on a stack of books, watercolor', subjects: twoSubjects, steps, seed: 7 });
  expect(again.error).toBeNull();
  expect(again.events.at(-1)?.kind).toBe('done');
  // Same seed, same backend: the same image.
  expect(again.mean).toBe(first.mean);
  expect(again.std).toBe(first.std);

  const full = await run(page, { prompt: '@mochi and @teddy on a stack of books, watercolor', subjects: twoSubjects, steps: 2, seed: 7, refMode: 'full' });
  expect(full.error).toBeNull();
  expect(full.events.at(-1)?.kind).toBe('done');
});

test('a corrupt reference image fails with a clear message, and the engine keeps working', async ({ studio, page }) => {
  test.setTimeout(120_000);
  await studio.open();
  const broken = await run(page, { prompt: '@mochi asleep', subjects: [{ name: 'mochi', classWord: 'cat', imageSeeds: [1], corrupt: true }], steps: 2, seed: 1 });
  expect(broken.error).toMatch(/image 1 of @mochi could not be decoded as an image .*corrupt or not an image/);
  expect(broken.errorCode).toBe('bad-input');
  expect(broken.events.at(-1)).toMatchObject({ kind: 'error' });
  const ok = await run(page, { prompt: '@mochi asleep', subjects: [{ name: 'mochi', classWord: 'cat', imageSeeds: [1] }], steps: 2, seed: 1 });
  expect(ok.error).toBeNull();
  expect(ok.events.at(-1)?.kind).toBe('done');
});
