/**
 * `npm run eval`: the toy-world pack on held-out identities through the studio's own engine
 * (Node, onnxruntime-web WASM), one table of measures per knob setting (workers/world/measures.ts),
 * a contact sheet, and the numbers as JSON. `--quick` runs a few rows on few cases and fails when a
 * target's measure falls below the committed full run by more than both intervals (CI).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareSubject } from '../engine-api';
import { DEFAULT_FREQUENCY, DEFAULT_MASK_SETTINGS, type FrequencySettings, type SubjectInput } from '../generation-types';
import type { GenerateRequest, SubjectSpec } from '../pipeline/engine';
import { evalCases, type EvalCase } from '../world/eval-cases';
import { backgroundLeak, conceptPreservation, mixing, promptFollowing, segment, type Picture } from '../world/measures';
import { renderScene } from '../world/render';
import { createNodeEngine, loadPackFromDir, type NodeEngine } from './engine';
import { decodeReferencePng, encodePng } from './png';

export interface EvalRow {
  name: string;
  subjects: 0 | 1 | 2;
  gamma?: number;
  dropRatio?: number;
  mask?: boolean;
  selectiveMask?: boolean;
  refGuidance?: number;
  frequency?: Partial<FrequencySettings>;
  refMode?: 'cached' | 'full';
  blockReferences?: boolean;
}

export const ROWS: EvalRow[] = [
  { name: 'text only (no reference)', subjects: 0 },
  { name: 'default', subjects: 1 },
  ...[0.5, 2, 4].map((gamma) => ({ name: `strength ${gamma}`, subjects: 1 as const, gamma })),
  ...[0.25, 0.5, 0.75, 1].map((dropRatio) => ({ name: `drop ratio ${dropRatio}`, subjects: 1 as const, dropRatio })),
  { name: 'mask off', subjects: 1, mask: false },
  { name: 'selective mask off', subjects: 1, selectiveMask: false },
  // The pack's default reference guidance (1 for the toy world) is the default row.
  ...[2, 4].map((refGuidance) => ({ name: `reference guidance ${refGuidance}`, subjects: 1 as const, refGuidance })),
  { name: 'low band only', subjects: 1, frequency: { enabled: true, gammaOrig: 0, gammaLow: 1, gammaHigh: 0 } },
  { name: 'high band only', subjects: 1, frequency: { enabled: true, gammaOrig: 0, gammaLow: 0, gammaHigh: 1 } },
  { name: 'full mode', subjects: 1, refMode: 'full' },
  { name: 'two subjects (cached: blocked)', subjects: 2 },
  { name: 'two subjects, full, blocked', subjects: 2, refMode: 'full' },
  { name: 'two subjects, full, not blocked', subjects: 2, refMode: 'full', blockReferences: false },
];

/** The rows --quick runs: what its checks read. */
export const QUICK_ROWS = ['text only (no reference)', 'default', 'mask off', 'drop ratio 1', 'two subjects (cached: blocked)'];

/** The issue's targets, as checks on the table (higher or lower is better). */
export const TARGETS: { row: string; metric: Metric; better: 'higher' | 'lower'; target?: number }[] = [
  { row: 'default', metric: 'cp', better: 'higher', target: 0.75 },
  { row: 'default', metric: 'pf', better: 'higher', target: 0.85 },
  { row: 'text only (no reference)', metric: 'cp', better: 'lower', target: 0.35 },
  { row: 'two subjects (cached: blocked)', metric: 'cp', better: 'higher', target: 0.6 },
  { row: 'two subjects (cached: blocked)', metric: 'mixing', better: 'lower', target: 0.15 },
];

export type Metric = 'cp' | 'pf' | 'cpxpf' | 'leak' | 'mixing';
export const METRICS: Metric[] = ['cp', 'pf', 'cpxpf', 'leak', 'mixing'];

export interface Stat {
  mean: number;
  /** Half-width of the 95 % interval (1.96 s / sqrt n). */
  ci: number;
  n: number;
}

export interface RowResult {
  row: string;
  stats: Partial<Record<Metric, Stat>>;
}

export function stat(xs: number[]): Stat {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, ci: (1.96 * sd) / Math.sqrt(n), n };
}

function subjectInput(ec: EvalCase, i: number, row: EvalRow): SubjectInput {
  const s = ec.subjects[i]!;
  const r = renderScene(s.reference, 128);
  const rgba = new Uint8Array(128 * 128 * 4);
  for (let p = 0; p < 128 * 128; p++) rgba.set([r.rgb[p * 3]!, r.rgb[p * 3 + 1]!, r.rgb[p * 3 + 2]!, 255], p * 4);
  const png = encodePng({ width: 128, height: 128, data: rgba });
  return {
    name: s.name,
    classWord: s.classWord,
    strength: row.gamma ?? 1,
    images: [{ id: `eval-${ec.index}-${i}-${s.identityId}`, blob: new Blob([png as BlobPart], { type: 'image/png' }), mask: row.mask === false ? null : { width: 128, height: 128, data: r.subjectMasks[0]! } }],
    maskSettings: { ...DEFAULT_MASK_SETTINGS },
    fill: 'black',
    frequency: { ...DEFAULT_FREQUENCY, ...row.frequency },
    layerStart: 0,
    stepWindow: [0, 1],
  };
}

async function generate(node: NodeEngine, ec: EvalCase, row: EvalRow): Promise<Picture> {
  const m = node.pack.manifest;
  const specs: SubjectSpec[] = [];
  for (let i = 0; i < row.subjects; i++) specs.push(await prepareSubject(m, subjectInput(ec, i, row), i, 128, 128, decodeReferencePng));
  const req: GenerateRequest = {
    prompt: row.subjects === 0 ? ec.textOnlyPrompt : ec.prompt,
    negativePrompt: '',
    subjects: specs,
    width: 128,
    height: 128,
    steps: m.guidance.steps,
    seed: ec.seed % 1_000_000,
    textGuidance: m.guidance.text,
    refGuidance: row.refGuidance ?? m.guidance.reference,
    dropRatio: row.dropRatio ?? 0,
    dropSchedule: 'random',
    refMode: row.refMode ?? 'cached',
    previewEvery: 0,
    ...(row.selectiveMask === false ? { selectiveMask: false } : {}),
    ...(row.blockReferences === false ? { blockReferences: false } : {}),
  };
  const out = await node.engine.generate(req);
  const rgb = new Uint8Array(128 * 128 * 3);
  for (let p = 0; p < 128 * 128; p++) rgb.set([out.rgba[p * 4]!, out.rgba[p * 4 + 1]!, out.rgba[p * 4 + 2]!], p * 3);
  return { size: 128, rgb };
}

/** The measures of one generated picture of a case (CP over the case's subjects). */
export function scoreCase(pic: Picture, ec: EvalCase): Record<Metric, number> {
  const seg = segment(pic, ec.target);
  const cps = ec.subjects.map((s, i) => conceptPreservation(pic, seg.subjects[i] ?? null, s.identityId, seg.style).cp);
  const cp = cps.reduce((a, b) => a + b, 0) / cps.length;
  const pf = promptFollowing(pic, ec.target, seg).pf;
  const leak = ec.subjects.reduce((a, s) => a + backgroundLeak(pic, seg, ec.target.background, s.reference.background, seg.style), 0) / ec.subjects.length;
  const mix =
    ec.subjects.length === 2
      ? (mixing(pic, seg.subjects[1] ?? null, ec.subjects[0]!.identityId, ec.subjects[1]!.identityId, seg.style) +
          mixing(pic, seg.subjects[0] ?? null, ec.subjects[1]!.identityId, ec.subjects[0]!.identityId, seg.style)) /
        2
      : NaN;
  return { cp, pf, cpxpf: cp * pf, leak, mixing: mix };
}

export interface EvalRun {
  pack: string;
  cases: { one: number; two: number };
  rows: RowResult[];
  /** Per row, the first case's output (the contact sheet). */
  sheet: { row: string; picture: Picture }[];
  seconds: number;
}

export async function runEval(packDir: string, opts: { cases: number; rows?: string[]; log?: (s: string) => void }): Promise<EvalRun> {
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const node = await createNodeEngine(await loadPackFromDir(packDir));
  const one = evalCases(opts.cases, 1);
  const two = evalCases(Math.max(2, Math.round(opts.cases / 2)), 2);
  const rows: RowResult[] = [];
  const sheet: EvalRun['sheet'] = [];
  try {
    for (const row of ROWS.filter((r) => !opts.rows || opts.rows.includes(r.name))) {
      const cases = row.subjects === 2 ? two : one;
      const values: Record<Metric, number[]> = { cp: [], pf: [], cpxpf: [], leak: [], mixing: [] };
      for (const ec of cases) {
        const pic = await generate(node, ec, row);
        if (ec.index === 0) sheet.push({ row: row.name, picture: pic });
        const s = scoreCase(pic, ec);
        for (const k of METRICS) if (Number.isFinite(s[k])) values[k].push(s[k]);
      }
      const stats: RowResult['stats'] = {};
      for (const k of METRICS) if (values[k].length > 0 && !(row.subjects === 0 && k === 'leak')) stats[k] = stat(values[k]);
      rows.push({ row: row.name, stats });
      log(formatRow(rows[rows.length - 1]!));
    }
  } finally {
    await node.dispose();
  }
  return { pack: packDir, cases: { one: one.length, two: two.length }, rows, sheet, seconds: (performance.now() - t0) / 1000 };
}

const cell = (s: Stat | undefined) => (s ? `${s.mean.toFixed(3)} ± ${s.ci.toFixed(3)}` : '—');

export function formatRow(r: RowResult): string {
  const n = r.stats.cp?.n ?? r.stats.pf?.n ?? 0;
  return `| ${r.row} | ${n} | ${METRICS.map((k) => cell(r.stats[k])).join(' | ')} |`;
}

export function formatTable(run: Pick<EvalRun, 'rows'>): string {
  return ['| setting | n | CP | PF | CP x PF | leak | mixing |', '| --- | --- | --- | --- | --- | --- | --- |', ...run.rows.map(formatRow)].join('\n');
}

/** Targets against a run: met, missed. */
export function targetReport(run: Pick<EvalRun, 'rows'>): string[] {
  return TARGETS.filter((t) => t.target !== undefined).map((t) => {
    const s = run.rows.find((r) => r.row === t.row)?.stats[t.metric];
    if (!s) return `${t.row} ${t.metric}: not measured`;
    const met = t.better === 'higher' ? s.mean >= t.target! : s.mean <= t.target!;
    return `${t.row} ${t.metric} ${t.better === 'higher' ? '>=' : '<='} ${t.target}: ${s.mean.toFixed(3)} ${met ? 'met' : 'MISSED'}`;
  });
}

/**
 * --quick's check: a target's measure is worse than the committed full run by more than both
 * intervals together (a regression, not noise).
 */
export function regressions(quick: Pick<EvalRun, 'rows'>, baseline: Pick<EvalRun, 'rows'>): string[] {
  const out: string[] = [];
  for (const t of TARGETS) {
    const q = quick.rows.find((r) => r.row === t.row)?.stats[t.metric];
    const b = baseline.rows.find((r) => r.row === t.row)?.stats[t.metric];
    if (!q || !b) continue;
    const slack = q.ci + b.ci;
    const worse = t.better === 'higher' ? q.mean < b.mean - slack : q.mean > b.mean + slack;
    if (worse) out.push(`${t.row} ${t.metric}: ${q.mean.toFixed(3)} (n ${q.n}) against ${b.mean.toFixed(3)} ± ${b.ci.toFixed(3)} in the committed run`);
  }
  return out;
}

/** The contact sheet: the first case's reference photo(s), then one output per row, 128 px tiles. */
export function contactSheet(run: EvalRun, firstCase: EvalCase): Uint8Array {
  const refs = firstCase.subjects.map((s) => renderScene(s.reference, 128).rgb);
  const tiles = [...refs, ...run.sheet.filter((s) => !s.row.startsWith('two')).map((s) => s.picture.rgb)];
  const cols = Math.min(8, tiles.length);
  const lines = Math.ceil(tiles.length / cols);
  const W = cols * 130;
  const H = lines * 130;
  const data = new Uint8Array(W * H * 4).fill(255);
  tiles.forEach((rgb, t) => {
    const ox = (t % cols) * 130 + 1;
    const oy = Math.floor(t / cols) * 130 + 1;
    for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) {
      const p = y * 128 + x;
      data.set([rgb[p * 3]!, rgb[p * 3 + 1]!, rgb[p * 3 + 2]!, 255], ((oy + y) * W + ox + x) * 4);
    }
  });
  return encodePng({ width: W, height: H, data });
}

export const EVAL_USAGE = `usage: npm run eval -- [--pack public/packs/toy] [--cases 24] [--quick] [--out docs/eval]
  --pack <dir>    the toy-world pack                                        default public/packs/toy
  --cases <n>     held-out one-subject cases per row (two-subject rows: n/2) default 24 (--quick: 4)
  --quick         only the rows the checks read; fails on a regression against <out>/results.json
  --out <dir>     where results.json, table.md and contact-sheet.png go      default docs/eval (--quick: writes nothing)`;

export async function evalMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { pack: { type: 'string', default: 'public/packs/toy' }, cases: { type: 'string' }, quick: { type: 'boolean', default: false }, out: { type: 'string', default: 'docs/eval' }, help: { type: 'boolean', default: false } },
  });
  if (values.help) {
    console.log(EVAL_USAGE);
    return 0;
  }
  const cases = Number(values.cases ?? (values.quick ? 4 : 24));
  if (!Number.isInteger(cases) || cases < 2) {
    console.error(`--cases must be an integer of at least 2, got ${values.cases}`);
    return 2;
  }
  const log = (s: string) => console.log(s);
  console.log(`eval of ${values.pack} on held-out identities: ${cases} cases per row${values.quick ? ' (quick)' : ''}`);
  console.log(formatTable({ rows: [] }));
  const run = await runEval(values.pack, { cases, ...(values.quick ? { rows: QUICK_ROWS } : {}), log });
  console.log(`\n${targetReport(run).join('\n')}\n${run.seconds.toFixed(0)} s`);
  const resultsPath = `${values.out}/results.json`;
  if (values.quick) {
    let baseline: EvalRun;
    try {
      baseline = JSON.parse(await readFile(resultsPath, 'utf8')) as EvalRun;
    } catch (e) {
      console.error(`--quick compares against the committed full run, ${resultsPath}, which cannot be read (${(e as Error).message}); run \`npm run eval\` first`);
      return 2;
    }
    const bad = regressions(run, baseline);
    if (bad.length) {
      console.error(`regressions against ${resultsPath}:\n${bad.join('\n')}`);
      return 1;
    }
    console.log(`no regression against ${resultsPath}`);
    return 0;
  }
  await mkdir(dirname(resultsPath), { recursive: true });
  const { sheet, ...rest } = run;
  await writeFile(resultsPath, `${JSON.stringify({ ...rest, sheetRows: sheet.map((s) => s.row) }, null, 2)}\n`);
  await writeFile(`${values.out}/table.md`, `${formatTable(run)}\n\n${targetReport(run).map((l) => `- ${l}`).join('\n')}\n`);
  await writeFile(`${values.out}/contact-sheet.png`, contactSheet(run, evalCases(1, 1)[0]!));
  console.log(`wrote ${resultsPath}, table.md and contact-sheet.png`);
  return 0;
}
