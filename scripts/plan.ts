/**
 * `npm run plan -- <pack folder | preset> --size <px> --subjects <n> [--refs <n>] [--budget <GiB>] [--mode cached|full] [--max-buffer <GiB>]`
 * prints the memory plan of one generation (workers/plan/planner.ts);
 * `npm run plan -- --all` prints every preset at 512 and 1024 px with 1 and 2
 * subjects (`--summary`: one line each). Exits 0 for every valid request (a plan that does not fit is an
 * answer, not an error), 1 for bad arguments, an unknown preset or a folder
 * without a readable manifest.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseManifest } from '../workers/pack/manifest';
import type { ModelArch, RefMode } from '../workers/plan/architecture';
import { GIB } from '../workers/plan/attention';
import { formatPlan, formatSummary } from '../workers/plan/format';
import { archFromManifest } from '../workers/plan/fromManifest';
import { planMemory } from '../workers/plan/planner';
import { PRESET_NAMES, PRESETS } from '../workers/plan/presets';

const USAGE = `usage: npm run plan -- <pack folder | preset> --size <px> --subjects <n> [--refs <n per subject>] [--budget <GiB>] [--mode cached|full] [--max-buffer <GiB>]
       npm run plan -- --all [--summary] [--budget <GiB>] [--mode cached|full]
presets: ${PRESET_NAMES.join(', ')}`;

class UsageError extends Error {}

function positiveNumber(name: string, value: string | undefined, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < (integer ? 0 : Number.MIN_VALUE) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${integer ? 'a whole number' : 'a positive number'}, got "${value}"`);
  }
  return n;
}

async function loadArch(source: string): Promise<ModelArch> {
  const preset = PRESETS[source];
  if (preset) return preset;
  let text: string;
  try {
    text = await readFile(join(source, 'manifest.json'), 'utf8');
  } catch (e) {
    throw new UsageError(`"${source}" is neither a preset (${PRESET_NAMES.join(', ')}) nor a readable pack folder: ${(e as Error).message}`);
  }
  try {
    return archFromManifest(parseManifest(text));
  } catch (e) {
    throw new UsageError(`${join(source, 'manifest.json')}: ${(e as Error).message}`);
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      size: { type: 'string' },
      subjects: { type: 'string' },
      refs: { type: 'string' },
      budget: { type: 'string' },
      mode: { type: 'string' },
      'max-buffer': { type: 'string' },
      all: { type: 'boolean' },
      summary: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const budgetBytes = positiveNumber('budget', values.budget, 8, false) * GIB;
  const maxBuffer = values['max-buffer'] === undefined ? undefined : positiveNumber('max-buffer', values['max-buffer'], 2, false) * GIB;
  if (values.mode !== undefined && values.mode !== 'cached' && values.mode !== 'full') throw new UsageError(`--mode must be cached or full, got "${values.mode}"`);
  const mode = values.mode as RefMode | undefined;
  const referencesPerSubject = positiveNumber('refs', values.refs, 1, true);
  if (referencesPerSubject < 1) throw new UsageError('--refs must be at least 1');

  if (values.all) {
    const plans = PRESET_NAMES.flatMap((name) => {
      const arch = PRESETS[name]!;
      return [512, 1024].flatMap((size) =>
        [1, 2].map((subjects) =>
          planMemory(arch, { width: size, height: size, subjects, referencesPerSubject, refMode: mode ?? arch.defaultRefMode, budgetBytes, maxBufferBytes: maxBuffer }),
        ),
      );
    });
    console.log(values.summary ? formatSummary(plans) : plans.map(formatPlan).join(`\n\n${'='.repeat(100)}\n\n`));
    return;
  }

  if (positionals.length !== 1) throw new UsageError('give one pack folder or preset');
  if (values.size === undefined) throw new UsageError('--size <px> is required');
  if (values.subjects === undefined) throw new UsageError('--subjects <n> is required');
  const size = positiveNumber('size', values.size, 0, true);
  const subjects = positiveNumber('subjects', values.subjects, 0, true);
  const arch = await loadArch(positionals[0]!);
  let plan;
  try {
    plan = planMemory(arch, { width: size, height: size, subjects, referencesPerSubject, refMode: mode ?? arch.defaultRefMode, budgetBytes, maxBufferBytes: maxBuffer });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  console.log(formatPlan(plan));
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) {
    console.error(`plan: ${e.message}\n${USAGE}`);
  } else {
    console.error(e);
  }
  process.exit(1);
});
