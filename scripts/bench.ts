/**
 * `npm run bench`: the generation pipeline on the built-in test pack in Node
 * (onnxruntime-web, WASM, one thread). Prints medians and ratios measured in
 * this one run; the machine is shared and noisy, so compare ratios, not
 * absolute milliseconds, across runs.
 */
import type { GenerateRequest, SubjectSpec } from '../workers/pipeline/engine';
import { nodeEngine, syntheticReference } from '../workers/pipeline/testing/nodeEngine';

const W = 128;
const H = 128;
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const subject = (key: string): SubjectSpec => ({ name: 'mochi', classWord: 'cat', placeholder: '<s1>', gamma: 1, references: [syntheticReference(key, W, H, 3)] });
const request = (over: Partial<GenerateRequest>): GenerateRequest => ({
  prompt: '@mochi sleeping on a stack of books, watercolor',
  negativePrompt: '',
  subjects: [subject('bench-ref')],
  width: W,
  height: H,
  steps: 8,
  seed: 1,
  textGuidance: 4,
  refGuidance: 2,
  dropRatio: 0,
  dropSchedule: 'random',
  refMode: 'cached',
  previewEvery: 0,
  ...over,
});

async function main(): Promise<void> {
  const rows: [string, string][] = [];
  const attention = process.env.BENCH_ATTENTION === 'mha' ? 'mha' : 'decomposed';
  const { engine } = await nodeEngine(attention);
  // Warm up both step graphs (session creation is not a step cost).
  await engine.generate(request({ steps: 1 }));
  await engine.generate(request({ steps: 1, refMode: 'full' }));

  // 1. Per-step time, cached vs full, one reference: image tokens = reference tokens = 64.
  // The two modes alternate so that load from elsewhere on the machine hits both alike.
  const stepTimes = { cached: [] as number[], full: [] as number[] };
  for (let i = 0; i < REPEATS; i++) {
    for (const refMode of ['cached', 'full'] as const) stepTimes[refMode].push(...(await engine.generate(request({ refMode, seed: i }))).timings.stepMs);
  }
  const cached = median(stepTimes.cached);
  const full = median(stepTimes.full);
  rows.push(['step, cached reference mode (64 image + 64 ref tokens, 3 branches)', `${cached.toFixed(2)} ms`]);
  rows.push(['step, full reference mode (same tokens)', `${full.toFixed(2)} ms`]);
  rows.push(['full / cached per step', `${(full / cached).toFixed(2)}x`]);

  // 2. Share of wall time outside session runs.
  const shares: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t = (await engine.generate(request({ seed: 100 + i }))).timings;
    shares.push(1 - t.sessionMs / t.totalMs);
  }
  rows.push(['wall time outside session.run (cached, 8 steps)', `${(100 * median(shares)).toFixed(1)} %`]);

  // 3. Prompt-only edit vs cold generation.
  const colds: number[] = [];
  const coldCaches: number[] = [];
  const edits: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    const fresh = (await nodeEngine(attention)).engine; // new sessions, empty caches: what a new page load pays
    await fresh.generate(request({ subjects: [subject(`cold-${i}`)], seed: 7 }));
    colds.push(performance.now() - t0);
    engine.clearCaches(); // sessions exist, caches empty
    coldCaches.push((await engine.generate(request({ subjects: [subject(`cold-${i}`)], seed: 7 }))).timings.totalMs);
    const edited = await engine.generate(request({ subjects: [subject(`cold-${i}`)], seed: 7, prompt: `@mochi on a wooden table, pencil sketch ${i}` }));
    edits.push(edited.timings.totalMs);
  }
  rows.push(['cold generation (new engine: sessions + encodings + 8 steps)', `${median(colds).toFixed(1)} ms`]);
  rows.push(['generation with empty caches (sessions already made)', `${median(coldCaches).toFixed(1)} ms`]);
  rows.push(['re-generation after a prompt-only edit', `${median(edits).toFixed(1)} ms`]);
  rows.push(['cold / prompt edit', `${(median(colds) / median(edits)).toFixed(2)}x`]);
  rows.push(['empty caches / prompt edit', `${(median(coldCaches) / median(edits)).toFixed(2)}x`]);

  const wide = Math.max(...rows.map((r) => r[0].length));
  console.log(`\nSubject Studio benchmark: test pack, Node ${process.version}, onnxruntime-web WASM (1 thread), ${attention} attention, ${W}x${H}, medians of ${REPEATS} runs\n`);
  console.log(`| ${'measure'.padEnd(wide)} | value      |`);
  console.log(`| ${'-'.repeat(wide)} | ---------- |`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(wide)} | ${v.padStart(10)} |`);
}

await main();
