/**
 * `npm run generate`: one image from a pack folder in Node (onnxruntime-web,
 * WASM), on the studio's path: subjects become SubjectInput (photo Blob,
 * painted mask) and go through the same preparation (prepareSubject) and
 * Engine as in the worker. --noise-in / --save-latents exchange the initial
 * noise and the final latents as .npy with other implementations.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareSubject } from '../engine-api';
import { DEFAULT_FREQUENCY, DEFAULT_MASK_SETTINGS, type SubjectInput } from '../generation-types';
import { sha256 } from '../pack/manifest';
import type { GenerateResult, SubjectSpec } from '../pipeline/engine';
import { isValidSubjectName, parseMentions } from '../pipeline/text/prompt';
import { createNodeEngine, loadPackFromDir } from './engine';
import { encodeNpy, readNpy } from './npy';
import { decodePng, decodeReferencePng, encodePng, readImageFile, rgbaToMask } from './png';
import { median } from './timing';

export const GENERATE_USAGE = `usage: npm run generate -- --pack <dir> --prompt "..." --out out.png [options]

  --pack <dir>              pack folder (manifest.json and its files)            required
  --prompt <text>           the prompt; @name mentions a subject                  required
  --out <file.png>          where to write the image                              required
  --negative <text>         negative prompt                                       default ""
  --subject <spec>          name[/class]=photo.png[:mask.png]; repeat for more subjects,
                            or the same name again for another photo of it; PNG only,
                            mask: white = subject, black or transparent = background
  --seed <n>                noise seed                                            default 1
  --steps <n>               sampling steps                                        default: the pack's
  --size <n | WxH>          generation size, one of the pack's resolutions        default: the pack's
  --cfg <x>                 text guidance                                         default: the pack's
  --ref-guidance <x>        reference guidance                                    default: the pack's
  --mode <cached|full>      reference mode                                        default cached
  --noise-in <file.npy>     initial noise, float [C,h,w] or [1,C,h,w], instead of the seeded noise
  --save-latents <file.npy> write the final latents, float32 [1,C,h,w]
  --help                    this text`;

/** A problem with the command line. */
export class GenerateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GenerateError';
  }
}

export interface GenerateIo {
  /** Progress and warnings (stderr). */
  log?: (line: string) => void;
  /** The final line (stdout). */
  print?: (line: string) => void;
}

export interface GenerateSummary {
  out: string;
  width: number;
  height: number;
  steps: number;
  seed: number;
  result: GenerateResult;
  loadMs: number;
}

interface SubjectArg {
  name: string;
  classWord: string;
  photos: { path: string; mask: string | null }[];
}

function parseSubject(spec: string): { name: string; classWord: string; photo: string; mask: string | null } {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new GenerateError(`--subject ${spec}: expected name[/class]=photo.png[:mask.png]`);
  const [name, ...cls] = spec.slice(0, eq).split('/');
  const files = spec.slice(eq + 1).split(':');
  if (!name || !isValidSubjectName(name)) throw new GenerateError(`--subject ${spec}: the name must be a letter, then letters, digits, _ or - (it is typed as @name)`);
  if (files.length > 2 || !files[0]) throw new GenerateError(`--subject ${spec}: expected name[/class]=photo.png[:mask.png]`);
  return { name, classWord: cls.join('/').trim(), photo: files[0], mask: files[1] || null };
}

function number(flag: string, raw: string | undefined, opts: { integer?: boolean; min?: number } = {}): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || (opts.integer && !Number.isInteger(v)) || (opts.min !== undefined && v < opts.min)) {
    const what = opts.integer ? `an integer${opts.min !== undefined ? ` >= ${opts.min}` : ''}` : 'a number';
    throw new GenerateError(`--${flag} must be ${what}, got ${JSON.stringify(raw)}`);
  }
  return v;
}

const fmtMs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

/** Parses `argv` (without node and the script), generates, writes the files; null after --help. Throws for bad arguments or files. */
export async function runGenerate(argv: string[], io: GenerateIo = {}): Promise<GenerateSummary | null> {
  const log = io.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const print = io.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        pack: { type: 'string' },
        prompt: { type: 'string' },
        negative: { type: 'string', default: '' },
        subject: { type: 'string', multiple: true, default: [] },
        seed: { type: 'string' },
        steps: { type: 'string' },
        size: { type: 'string' },
        cfg: { type: 'string' },
        'ref-guidance': { type: 'string' },
        mode: { type: 'string', default: 'cached' },
        'noise-in': { type: 'string' },
        'save-latents': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    throw new GenerateError(`${(e as Error).message.split('.')[0]} (see --help)`);
  }
  if (values.help) {
    print(GENERATE_USAGE);
    return null;
  }
  for (const flag of ['pack', 'prompt', 'out'] as const) if (values[flag] === undefined) throw new GenerateError(`--${flag} is required (see --help)`);
  const packDir = values.pack!;
  const outPath = values.out!;
  const mode = values.mode;
  if (mode !== 'cached' && mode !== 'full') throw new GenerateError(`--mode must be cached or full, got ${JSON.stringify(mode)}`);
  const seed = number('seed', values.seed, { integer: true, min: 0 }) ?? 1;
  const stepsArg = number('steps', values.steps, { integer: true, min: 1 });
  const cfgArg = number('cfg', values.cfg);
  const refArg = number('ref-guidance', values['ref-guidance']);
  let sizeArg: { width: number; height: number } | null = null;
  if (values.size !== undefined) {
    const m = /^(\d+)(?:x(\d+))?$/.exec(values.size.trim());
    if (!m) throw new GenerateError(`--size must be N (square) or WxH, got ${JSON.stringify(values.size)}`);
    sizeArg = { width: Number(m[1]), height: Number(m[2] ?? m[1]) };
  }

  // Subjects: every file read and checked before the pack loads.
  const subjectArgs: SubjectArg[] = [];
  for (const spec of values.subject) {
    const s = parseSubject(spec);
    let entry = subjectArgs.find((e) => e.name.toLowerCase() === s.name.toLowerCase());
    if (!entry) subjectArgs.push((entry = { name: s.name, classWord: s.classWord, photos: [] }));
    else if (s.classWord && entry.classWord && s.classWord !== entry.classWord) throw new GenerateError(`--subject ${spec}: @${s.name} already has the class word "${entry.classWord}"`);
    entry.classWord ||= s.classWord;
    entry.photos.push({ path: s.photo, mask: s.mask });
  }
  const subjects: SubjectInput[] = [];
  for (const s of subjectArgs) {
    const images: SubjectInput['images'] = [];
    for (const p of s.photos) {
      const bytes = await readImageFile(p.path);
      const photo = decodePng(bytes, p.path);
      let mask = null;
      if (p.mask) {
        const m = decodePng(await readImageFile(p.mask), p.mask);
        if (m.width * photo.height !== m.height * photo.width) {
          throw new GenerateError(`${p.mask} is ${m.width}x${m.height} but ${p.path} is ${photo.width}x${photo.height}: a mask must have its photo's aspect ratio`);
        }
        mask = rgbaToMask(m);
      }
      images.push({ id: await sha256(bytes), blob: new Blob([bytes as BlobPart], { type: 'image/png' }), mask });
    }
    subjects.push({
      name: s.name,
      classWord: s.classWord,
      strength: 1,
      images,
      maskSettings: { ...DEFAULT_MASK_SETTINGS },
      fill: 'black',
      frequency: { ...DEFAULT_FREQUENCY },
      layerStart: 0,
      stepWindow: [0, 1],
    });
  }
  const noiseIn = values['noise-in'] ? await readNpy(values['noise-in']) : null;

  const t0 = performance.now();
  const pack = await loadPackFromDir(packDir);
  const m = pack.manifest;
  const loadMs = performance.now() - t0;
  const size = sizeArg ?? m.defaultResolution;
  const { width, height } = size;
  if (!m.resolutions.some((r) => r.width === width && r.height === height)) {
    const list = m.resolutions.map((r) => (r.width === r.height ? `${r.width}` : `${r.width}x${r.height}`)).join(', ');
    throw new GenerateError(`--size ${values.size}: pack ${m.name} has no ${width}x${height} resolution; it has: ${list}`);
  }
  const C = m.latent.channels;
  const h = height / m.latent.downsample;
  const w = width / m.latent.downsample;
  if (noiseIn) {
    const s = noiseIn.shape;
    const fits = (s.length === 3 && s[0] === C && s[1] === h && s[2] === w) || (s.length === 4 && s[0] === 1 && s[1] === C && s[2] === h && s[3] === w);
    if (!fits) {
      throw new GenerateError(`--noise-in ${values['noise-in']} has shape (${s.join(', ')}); pack ${m.name} at ${width}x${height} needs (${C}, ${h}, ${w}) or (1, ${C}, ${h}, ${w})`);
    }
  }
  const steps = stepsArg ?? m.guidance.steps;

  const node = await createNodeEngine(pack);
  try {
    const specs: SubjectSpec[] = [];
    for (const [i, s] of subjects.entries()) {
      specs.push(await prepareSubject(m, s, i, width, height, decodeReferencePng));
    }
    const mentioned = new Set(parseMentions(values.prompt!).map((x) => x.name.toLowerCase()));
    for (const s of subjects) if (!mentioned.has(s.name.toLowerCase())) log(`warning: the prompt does not mention @${s.name}`);
    for (const name of mentioned) if (!subjects.some((s) => s.name.toLowerCase() === name)) log(`warning: the prompt mentions @${name}, but there is no such --subject`);

    let lastElapsed = 0;
    const later: number[] = [];
    // The engine runs without references in cached mode whatever --mode says.
    const modeNote = specs.some((s) => s.references.length) ? `${mode} mode` : 'no subjects';
    log(`pack ${m.name}@${m.version} loaded in ${fmtMs(loadMs)}; ${width}x${height}, ${steps} steps, ${noiseIn ? `noise from ${values['noise-in']}` : `seed ${seed}`}, ${modeNote}`);
    const result = await node.engine.generate(
      {
        prompt: values.prompt!,
        negativePrompt: values.negative,
        subjects: specs,
        width,
        height,
        steps,
        seed,
        textGuidance: cfgArg ?? m.guidance.text,
        refGuidance: refArg ?? m.guidance.reference,
        dropRatio: 0,
        dropSchedule: 'random',
        refMode: mode,
        previewEvery: 0,
        initialNoise: noiseIn?.data,
      },
      (p) => {
        if (p.kind === 'step') {
          const ms = p.elapsedMs - lastElapsed;
          lastElapsed = p.elapsedMs;
          // The first step also creates the step sessions: later ones estimate the rest better.
          if (p.step > 1) later.push(ms);
          const per = later.length ? later.reduce((a, b) => a + b, 0) / later.length : ms;
          log(`step ${p.step}/${p.steps}  ${ms.toFixed(1)} ms  ${fmtMs(per * (p.steps - p.step))} left`);
        } else if (p.kind === 'decoding') log('decoding');
      },
    );
    await mkdir(dirname(outPath), { recursive: true });
    await writeFile(outPath, encodePng({ width: result.width, height: result.height, data: result.rgba }));
    const latentsPath = values['save-latents'];
    if (latentsPath) {
      await mkdir(dirname(latentsPath), { recursive: true });
      await writeFile(latentsPath, encodeNpy(result.latents, [1, C, h, w]));
    }
    const t = result.timings;
    print(
      `wrote ${outPath}${latentsPath ? ` and ${latentsPath}` : ''}: ${width}x${height}, ${steps} steps in ${fmtMs(t.totalMs)} ` +
        `(median ${median(t.stepMs).toFixed(1)} ms/step, sessions ${fmtMs(t.sessionMs)}, pack load ${fmtMs(loadMs)})`,
    );
    return { out: outPath, width, height, steps, seed, result, loadMs };
  } finally {
    await node.dispose();
  }
}

/** The command: runs, prints a one-line error for a failure, returns the exit status. */
export async function generateMain(argv: string[], io: GenerateIo = {}): Promise<number> {
  try {
    await runGenerate(argv, io);
    return 0;
  } catch (e) {
    // One line, whatever the error (a pack's file problems come as a list).
    const line = `generate: ${(e as Error).message.trim().replace(/\s*\n\s*/g, '; ')}`;
    (io.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
    return 1;
  }
}
