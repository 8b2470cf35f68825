/**
 * `npm run bench`: the generation pipeline on the built-in test pack in Node
 * (onnxruntime-web, WASM, one thread). Prints medians and ratios measured in
 * this one run; the machine is shared and noisy, so compare ratios, not
 * absolute milliseconds, across runs.
 */
import type { GenerateRequest, SubjectSpec } from '../workers/pipeline/engine';
import { nodeEngine, syntheticReference } from '../workers/pipeline/testing/nodeEngine';
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createNodeEngine, loadPackFromDir, chooseGraphs } from '../workers/node/engine';
import { loadPack } from '../workers/pack/loader';
import { parseManifest } from '../workers/pack/manifest';
import { MemoryBlobStore } from '../workers/pack/store/blob-store';
import { archFromManifest } from '../workers/plan/fromManifest';
import { planMemory } from '../workers/plan/planner';
import { kleinRows } from './bench-klein';
import { ensureStandinPack } from './build-standin';
import { median, sec } from '../workers/node/timing';

const W = 128;
const H = 128;
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);


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
  watchWasmMemory();
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

  // The real-width stand-in (SD3 Medium widths, 2 layers); BENCH_STANDIN=0 skips it.
  if (process.env.BENCH_STANDIN !== '0') printSection(await standinRows());
  // The klein-4B-width stand-in (FLUX.2, 1 + 1 blocks): cached vs full reference mode; BENCH_KLEIN=0 skips it.
  if (process.env.BENCH_KLEIN !== '0') printSection(await kleinRows());
}

/** A stand-in section: its title, its table in the format above, then its notes. */
function printSection({ title, rows, notes }: { title: string; rows: [string, string][]; notes: string[] }): void {
  const w = Math.max(...rows.map((r) => r[0].length));
  const wv = Math.max(10, ...rows.map((r) => r[1].length));
  console.log(`\n${title}\n`);
  console.log(`| ${'measure'.padEnd(w)} | ${'value'.padEnd(wv)} |`);
  console.log(`| ${'-'.repeat(w)} | ${'-'.repeat(wv)} |`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v.padStart(wv)} |`);
  for (const n of notes) console.log(`\n${n}`);
}

// ---------------------------------------------------------------------------
// The real-width stand-in (workers/packbuild/standin.ts), 512 px, one subject.

/** Every WebAssembly.Memory instantiated from now on (onnxruntime-web's heap is the largest). */
const wasmMemories: WebAssembly.Memory[] = [];

function watchWasmMemory(): void {
  const original = WebAssembly.instantiate.bind(WebAssembly) as (...a: unknown[]) => Promise<unknown>;
  const collect = (o: unknown) => {
    if (o && typeof o === 'object') for (const v of Object.values(o)) if (v instanceof WebAssembly.Memory) wasmMemories.push(v);
  };
  (WebAssembly as { instantiate: unknown }).instantiate = async (...args: unknown[]) => {
    const r = (await original(...args)) as { instance?: WebAssembly.Instance } & WebAssembly.Instance;
    collect((r.instance ?? r).exports);
    const imports = args[1];
    if (imports && typeof imports === 'object') for (const ns of Object.values(imports)) collect(ns);
    return r;
  };
}

/** The largest wasm heap (bytes). A wasm memory only grows, so its size is its peak. */
const wasmHeapBytes = () => Math.max(0, ...wasmMemories.map((m) => m.buffer.byteLength));

/** A static server for a folder on 127.0.0.1 with `Range: bytes=a-[b]` support. */
async function serveFolder(dir: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      const name = decodeURIComponent((req.url ?? '/').split('?')[0]!.slice(1));
      if (!/^[A-Za-z0-9._-]+$/.test(name)) return void res.writeHead(404).end();
      const bytes = await readFile(join(dir, name)).catch(() => null);
      if (!bytes) return void res.writeHead(404).end();
      const type = name.endsWith('.json') ? 'application/json' : 'application/octet-stream';
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (range) {
        const from = Number(range[1]);
        const to = range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
        if (from > to) return void res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
        res.writeHead(206, { 'content-type': type, 'content-length': to - from + 1, 'content-range': `bytes ${from}-${to}/${bytes.length}`, 'accept-ranges': 'bytes' });
        return void res.end(bytes.subarray(from, to + 1));
      }
      res.writeHead(200, { 'content-type': type, 'content-length': bytes.length, 'accept-ranges': 'bytes' });
      res.end(bytes);
    })();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no server address');
  return { url: `http://127.0.0.1:${addr.port}`, server };
}

const MB = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

async function standinRows(): Promise<{ title: string; rows: [string, string][]; notes: string[] }> {
  const SW = 512;
  const steps = Number(process.env.BENCH_STANDIN_STEPS ?? 2);
  const loadRepeats = Number(process.env.BENCH_STANDIN_LOADS ?? 3);
  const rows: [string, string][] = [];
  const t0 = performance.now();
  const dir = await ensureStandinPack();
  const buildMs = performance.now() - t0;
  const manifest = parseManifest(await readFile(join(dir, 'manifest.json'), 'utf8'));
  let packBytes = 0;
  for (const f of [manifest.tokenizer, ...manifest.graphs.flatMap((g) => [g, ...g.externalData])]) packBytes += (await stat(join(dir, f.file))).size;

  const sSubject = (key: string): SubjectSpec => ({ name: 'mochi', classWord: 'cat', placeholder: '<s1>', gamma: 1, references: [syntheticReference(key, SW, SW, 3)] });
  const sRequest = (over: Partial<GenerateRequest>) => request({ width: SW, height: SW, steps, subjects: [sSubject('standin-ref')], ...over });

  // 1. Cold generation, with the memory it takes: a new engine on the loaded pack, sessions made on first use.
  const pack = await loadPackFromDir(dir);
  const heap0 = wasmHeapBytes();
  const mem0 = process.memoryUsage();
  let peakRss = mem0.rss;
  let peakAb = mem0.arrayBuffers;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakAb = Math.max(peakAb, m.arrayBuffers);
  };
  const maxRss0 = process.resourceUsage().maxRSS * 1024;
  const tc = performance.now();
  const node = await createNodeEngine(pack);
  const cold = await node.engine.generate(sRequest({ seed: 7 }), sample);
  const coldMs = performance.now() - tc;
  sample();
  const maxRssGrowth = Math.max(0, process.resourceUsage().maxRSS * 1024 - maxRss0);
  const heapGrowth = wasmHeapBytes() - heap0;
  const plan = planMemory(archFromManifest(manifest), { width: SW, height: SW, subjects: 1, referencesPerSubject: 1, refMode: 'cached', budgetBytes: 64 * 2 ** 30 });

  // 2. Prompt-only edit: same engine, references and their K/V cached.
  const edit = await node.engine.generate(sRequest({ seed: 7, prompt: '@mochi on a wooden table, pencil sketch' }));
  // The first step of the cold run also made the step session: the later steps are clean.
  const cachedSteps = [...cold.timings.stepMs.slice(1), ...edit.timings.stepMs];

  // 3. Full mode: its session made beforehand (it releases the cached step's, same weights), then clean steps.
  await node.sessions.get('dit_step_full', 'decomposed');
  const full = await node.engine.generate(sRequest({ seed: 7, refMode: 'full' }));
  await node.dispose();
  const cachedStep = median(cachedSteps);
  const fullStep = median(full.timings.stepMs);
  rows.push([`step, cached mode (1024 image + 1024 ref tokens + 77 text, 3 branches; median of ${cachedSteps.length})`, sec(cachedStep)]);
  rows.push([`step, full mode (same tokens; median of ${full.timings.stepMs.length})`, sec(fullStep)]);
  rows.push(['full / cached per step', `${(fullStep / cachedStep).toFixed(2)}x`]);
  rows.push([`cold generation (new engine: sessions + encodings + reference pass + ${steps} steps + decode)`, sec(coldMs)]);
  rows.push([`re-generation after a prompt-only edit (${steps} steps)`, sec(edit.timings.totalMs)]);
  rows.push(['cold / prompt edit', `${(coldMs / edit.timings.totalMs).toFixed(2)}x`]);

  // 4. Loading: from the cache (a MemoryBlobStore already holding every file: each is re-hashed) vs over
  // HTTP into an empty store, both through the studio's loader and a local static server.
  const { url, server } = await serveFolder(dir);
  const fromCache: number[] = [];
  const fromServer: number[] = [];
  try {
    const warmStore = new MemoryBlobStore();
    await loadPack(url, { store: warmStore, choose: (m) => chooseGraphs(m) });
    for (let i = 0; i < loadRepeats; i++) {
      let t = performance.now();
      await loadPack(url, { store: warmStore, choose: (m) => chooseGraphs(m) });
      fromCache.push(performance.now() - t);
      t = performance.now();
      await loadPack(url, { store: new MemoryBlobStore(), choose: (m) => chooseGraphs(m) });
      fromServer.push(performance.now() - t);
    }
  } finally {
    server.close();
  }
  rows.push([`load from the cache (${MB(pack.summary.loadedBytes)}, every file re-hashed)`, sec(median(fromCache))]);
  rows.push(['load from a local server (127.0.0.1, empty cache)', sec(median(fromServer))]);
  rows.push(['server / cache load', `${(median(fromServer) / median(fromCache)).toFixed(2)}x`]);

  // 5. Memory of the cold generation vs the plan.
  rows.push(['wasm heap growth during the cold generation (= its peak: wasm memory only grows)', MB(heapGrowth)]);
  rows.push(['wasm heap size after it', MB(wasmHeapBytes())]);
  rows.push(['rss growth during it (highest at its progress events)', MB(peakRss - mem0.rss)]);
  rows.push(['process peak rss (maxRSS) growth during it', MB(maxRssGrowth)]);
  rows.push(['arrayBuffers growth during it (highest at its progress events)', MB(peakAb - mem0.arrayBuffers)]);
  rows.push(['planner: peak GPU bytes (cached mode, 1 subject x 1 photo, all resident)', MB(plan.peakBytes)]);
  rows.push(['wasm heap growth / planner peak', `${(heapGrowth / plan.peakBytes).toFixed(2)}x`]);

  const title = `real-width stand-in (SD3 Medium widths, 2 layers), ${SW} px: ${manifest.name}, ${(packBytes / 1e6).toFixed(0)} MB, int4, ${steps} steps per generation, loads x${loadRepeats}`;
  const notes = [
    `stand-in ${buildMs > 5000 ? `built in ${sec(buildMs)}` : 'from the cache'} (${dir}); section wall time ${sec(performance.now() - t0)}.`,
    `Memory: growth from just before the engine is made (pack loaded: rss ${MB(mem0.rss)}, arrayBuffers ${MB(mem0.arrayBuffers)}, wasm heap ${MB(heap0)}) to the end of the cold generation. The wasm heap is onnxruntime-web's WebAssembly.Memory (caught by wrapping WebAssembly.instantiate); rss and arrayBuffers are process.memoryUsage(), sampled at each progress event (the event loop is blocked during a run, so a peak inside a run is missed), and maxRSS is the process's peak so far (it hides growth below an earlier peak). The planner's peak is GPU memory for the same pack, size and subject, every session resident.`,
  ];
  return { title, rows, notes };
}

await main();
