/**
 * The memory plan of one generation: a pure function of a model description,
 * a size, the subjects and a GPU budget.
 *
 * What is counted (docs/memory-plan.md has the formulas):
 * - weights: the bytes each session holds (ORT-web cannot share initializers
 *   between sessions, so every DiT graph holds its own copy);
 * - activations: per graph run, its inputs + outputs + its largest layer's
 *   working set, with attention over chunks of queries so that one layer's
 *   scores stay under `attentionLimitBytes` (activations.ts, attention.ts);
 * - caches: on the GPU, the latents of the sampling loop; in host memory
 *   (the engine reads them back), the text embeddings, reference latents and
 *   every reference's K/V of every layer. The step graph's batched reference
 *   K/V is one of its inputs and counts in its activations.
 *
 * The run's phases come in order: text (encode the prompts), reference (VAE-
 * encode the photos; in cached mode also the reference pass), sampling (every
 * step), decode. A phase's GPU bytes = the weights of every resident session
 * + the weights of the sessions it loads for itself + the largest activation
 * of its runs (they run one after the other) + the GPU caches alive in it.
 *
 * Residency: every session stays resident when the largest phase fits the
 * budget. Otherwise sessions become load-and-release (loaded for their phase,
 * released after it), one at a time in RELEASE_ORDER, until the plan fits:
 * the text encoder first (it runs once per prompt, and is released before the
 * transformer runs), then the reference pass, the VAE encoder, the VAE
 * decoder, and last the step graph. When every session is load-and-release
 * and the largest phase still exceeds the budget, the plan does not fit and
 * its message says how much it needs.
 */
import {
  ditReferenceRun,
  ditStepFullRun,
  ditStepRun,
  previewDecoderRun,
  textEncoderRun,
  vaeDecoderRun,
  vaeEncoderRun,
  type DitRunShape,
  type RunActivation,
} from './activations';
import { SHARED_WEIGHT_GROUPS } from '../pack/manifest';
import { graphOf, graphWeightBytes, type ModelArch, type PlanRole, type RefMode } from './architecture';
import { DEFAULT_ATTENTION_LIMIT_BYTES, FP32, GIB, MIB } from './attention';

export type Phase = 'text' | 'reference' | 'sampling' | 'decode';
export const PHASES: readonly Phase[] = ['text', 'reference', 'sampling', 'decode'];

export type Residency = 'resident' | 'load-and-release';

/** The order in which sessions give up residency when the plan does not fit. */
export const RELEASE_ORDER: readonly PlanRole[] = ['preview_decoder', 'text_encoder', 'dit_reference', 'vae_encoder', 'vae_decoder', 'dit_step', 'dit_step_full'];

export interface PlanRequest {
  width: number;
  height: number;
  subjects: number;
  referencesPerSubject: number;
  refMode: RefMode;
  /** The GPU memory the plan may use (from the adapter, adjustable by the user). */
  budgetBytes: number;
  /** Bound on one layer's attention bytes; 512 MiB by default. */
  attentionLimitBytes?: number;
  /** Largest single GPU buffer (the adapter's maxBufferSize); tensors above it are reported. */
  maxBufferBytes?: number;
}

export interface PlanRow {
  role: PlanRole;
  name: string;
  phase: Phase;
  weightsBytes: number;
  /** The run's peak activation bytes (inputs, outputs, largest layer). */
  peakActivationBytes: number;
  /** One layer's attention bytes at the chosen chunk (logits, probabilities, bias rows). */
  attentionScoreBytesPerLayer: number;
  /** Queries per attention chunk; equals `queries` when no chunking is needed. */
  queryChunk: number;
  queries: number;
  keys: number;
  batch: number;
  residency: Residency;
  largestTensor: { name: string; bytes: number };
}

export interface CacheRow {
  name: string;
  bytes: number;
  location: 'gpu' | 'host';
  phases: Phase[];
}

export interface PhasePeak {
  phase: Phase;
  /** Weights of the resident sessions (alive in every phase). */
  residentWeightsBytes: number;
  /** Weights of the load-and-release sessions this phase loads. */
  loadedWeightsBytes: number;
  activationBytes: number;
  gpuCacheBytes: number;
  totalBytes: number;
}

export interface MemoryPlan {
  model: string;
  width: number;
  height: number;
  subjects: number;
  referencesPerSubject: number;
  refMode: RefMode;
  budgetBytes: number;
  attentionLimitBytes: number;
  rows: PlanRow[];
  caches: CacheRow[];
  phases: PhasePeak[];
  /** The largest phase's GPU bytes under the chosen residency. */
  peakBytes: number;
  fits: boolean;
  /** "needs 3.1 GiB of GPU memory, your budget is 6 GiB" (and, when it does not fit, why). */
  message: string;
  /** Host-memory caches, summed (the engine's read-back copies). */
  hostCacheBytes: number;
  warnings: string[];
}

/**
 * A size for people: GiB with one decimal from 1 GiB up, MiB below; whole
 * numbers without ".0". A need rounds up (never promise less than it takes).
 */
export function formatSize(bytes: number, round: 'up' | 'nearest' = 'nearest'): string {
  const [unit, scale] = bytes >= GIB ? ['GiB', GIB] : ['MiB', MIB];
  const tenths = (round === 'up' ? Math.ceil : Math.round)((bytes / scale) * 10 - 1e-9);
  return `${tenths % 10 === 0 ? tenths / 10 : (tenths / 10).toFixed(1)} ${unit}`;
}

function needsMessage(peak: number, budget: number, fits: boolean): string {
  let need = formatSize(peak, 'up');
  const have = formatSize(budget);
  // Never print "needs 8 GiB, your budget is 8 GiB" for a plan that does not fit.
  if (!fits && need === have) need = peak >= GIB ? `${(peak / GIB).toFixed(2)} GiB` : `${(peak / MIB).toFixed(2)} MiB`;
  return `needs ${need} of GPU memory, your budget is ${have}`;
}

interface GraphRun {
  role: PlanRole;
  phase: Phase;
  run: RunActivation;
}

function tokensPerImage(arch: ModelArch, width: number, height: number): number {
  const cell = arch.dit.pixelsPerToken;
  if (width % cell !== 0 || height % cell !== 0) throw new Error(`${width} x ${height} is not a multiple of ${cell} px (one token of ${arch.name})`);
  return (width / cell) * (height / cell);
}

/** The graph runs of one generation, in phase order. */
function graphRuns(arch: ModelArch, req: PlanRequest, s: DitRunShape, limit: number): GraphRun[] {
  const runs: GraphRun[] = [
    { role: 'text_encoder', phase: 'text', run: textEncoderRun(arch.textEncoders, arch.textTokens, arch.dit.textDim, arch.dit.pooledDim, limit) },
  ];
  if (s.references > 0) {
    runs.push({ role: 'vae_encoder', phase: 'reference', run: vaeEncoderRun(arch.vae, req.width, req.height, limit) });
    if (req.refMode === 'cached') runs.push({ role: 'dit_reference', phase: 'reference', run: ditReferenceRun(arch.dit, s, limit) });
  }
  runs.push(
    req.refMode === 'cached'
      ? { role: 'dit_step', phase: 'sampling', run: ditStepRun(arch.dit, s, limit) }
      : { role: 'dit_step_full', phase: 'sampling', run: ditStepFullRun(arch.dit, s, limit) },
  );
  // A pack with a preview decoder runs it between the steps, on the current latents.
  if (graphOf(arch, 'preview_decoder')) runs.push({ role: 'preview_decoder', phase: 'sampling', run: previewDecoderRun(arch.vae, req.width, req.height) });
  runs.push({ role: 'vae_decoder', phase: 'decode', run: vaeDecoderRun(arch.vae, req.width, req.height, limit) });
  return runs;
}

/** What lives across phases: on the GPU the sampling loop's latents, in host memory the engine's caches. */
function cachesOf(arch: ModelArch, req: PlanRequest, s: DitRunShape): CacheRow[] {
  const latent = s.imageTokens * arch.dit.latentPerToken * FP32;
  const prompts = 2 + req.subjects; // the prompt, the negative prompt, each subject's reference prompt
  const caches: CacheRow[] = [
    // x and the batched x of the sampling loop; the final x goes to the decoder.
    { name: 'latents (x, batched x)', bytes: (1 + s.branches) * latent, location: 'gpu', phases: ['sampling', 'decode'] },
    { name: 'text embeddings', bytes: prompts * (arch.textTokens * arch.dit.textDim + arch.dit.pooledDim) * FP32, location: 'host', phases: [...PHASES] },
  ];
  if (s.references > 0) {
    // Every photo and one black (dropped) reference per subject.
    const distinct = s.references + req.subjects;
    caches.push({ name: 'reference latents', bytes: distinct * latent, location: 'host', phases: ['reference', 'sampling'] });
    if (req.refMode === 'cached') {
      const perReference = arch.dit.layers * 2 * s.imageTokens * arch.dit.hidden * FP32;
      caches.push({ name: 'reference K/V, every layer', bytes: distinct * perReference, location: 'host', phases: ['reference', 'sampling'] });
    }
  }
  return caches;
}

function phasePeaks(runs: GraphRun[], weights: Map<PlanRole, number>, residency: Map<PlanRole, Residency>, caches: CacheRow[]): PhasePeak[] {
  const resident = [...residency].filter(([, r]) => r === 'resident').reduce((n, [role]) => n + weights.get(role)!, 0);
  return PHASES.map((phase) => {
    const here = runs.filter((r) => r.phase === phase);
    const loaded = here.filter((r) => residency.get(r.role) === 'load-and-release').reduce((n, r) => n + weights.get(r.role)!, 0);
    const activationBytes = Math.max(0, ...here.map((r) => r.run.peakBytes));
    const gpuCacheBytes = caches.filter((c) => c.location === 'gpu' && c.phases.includes(phase)).reduce((n, c) => n + c.bytes, 0);
    const active = here.length > 0;
    return {
      phase,
      residentWeightsBytes: resident,
      loadedWeightsBytes: loaded,
      activationBytes,
      gpuCacheBytes: active ? gpuCacheBytes : 0,
      totalBytes: active ? resident + loaded + activationBytes + gpuCacheBytes : resident,
    };
  });
}

const peakOf = (phases: PhasePeak[]) => Math.max(...phases.map((p) => p.totalBytes));

export function planMemory(arch: ModelArch, req: PlanRequest): MemoryPlan {
  const limit = req.attentionLimitBytes ?? DEFAULT_ATTENTION_LIMIT_BYTES;
  if (req.subjects < 0 || req.referencesPerSubject < 1 || !Number.isInteger(req.subjects) || !Number.isInteger(req.referencesPerSubject)) {
    throw new Error(`subjects must be a whole number >= 0 and references per subject >= 1 (got ${req.subjects}, ${req.referencesPerSubject})`);
  }
  const imageTokens = tokensPerImage(arch, req.width, req.height);
  const references = req.subjects * req.referencesPerSubject;
  const s: DitRunShape = {
    imageTokens,
    textTokens: arch.textTokens,
    references,
    branches: references > 0 ? arch.branchesWithReferences : arch.branchesWithoutReferences,
  };
  const runs = graphRuns(arch, req, s, limit);
  const weights = new Map<PlanRole, number>();
  for (const r of runs) {
    const g = graphOf(arch, r.role);
    if (!g) throw new Error(`${arch.name} has no ${r.role} graph, which a ${req.refMode}-mode generation needs`);
    weights.set(r.role, graphWeightBytes(g));
  }
  const caches = cachesOf(arch, req, s);

  // The engine never keeps two graphs of one weight group alive (the transformer's reference pass and
  // step graph hold the same weights): where a run uses more than one, each is loaded in its phase.
  const sharing = (role: PlanRole) => SHARED_WEIGHT_GROUPS.some((g) => g.includes(role) && runs.some((r) => r.role !== role && g.includes(r.role)));
  const residency = new Map<PlanRole, Residency>(runs.map((r) => [r.role, sharing(r.role) ? 'load-and-release' : 'resident']));
  let phases = phasePeaks(runs, weights, residency, caches);
  for (const role of RELEASE_ORDER) {
    if (peakOf(phases) <= req.budgetBytes) break;
    if (!residency.has(role)) continue;
    residency.set(role, 'load-and-release');
    phases = phasePeaks(runs, weights, residency, caches);
  }
  const peakBytes = peakOf(phases);
  const fits = peakBytes <= req.budgetBytes;

  const rows: PlanRow[] = runs.map((r) => ({
    role: r.role,
    name: graphOf(arch, r.role)!.name,
    phase: r.phase,
    weightsBytes: weights.get(r.role)!,
    peakActivationBytes: r.run.peakBytes,
    attentionScoreBytesPerLayer: r.run.attentionBytesPerLayer,
    queryChunk: r.run.queryChunk,
    queries: r.run.queries,
    keys: r.run.keys,
    batch: r.run.batch,
    residency: residency.get(r.role)!,
    largestTensor: r.run.largestTensor,
  }));

  const warnings: string[] = [];
  for (const r of runs) {
    if (!r.run.attentionWithinLimit) warnings.push(`${r.role}: one query's attention scores alone exceed the attention limit`);
    const largestWeight = graphOf(arch, r.role)!.largestWeightTensorBytes ?? 0;
    if (req.maxBufferBytes !== undefined && largestWeight > req.maxBufferBytes) {
      warnings.push(`${r.role}: its largest weight needs a ${formatSize(largestWeight, 'up')} buffer, above the adapter's largest (${formatSize(req.maxBufferBytes)})`);
    }
    if (req.maxBufferBytes !== undefined && r.run.largestTensor.bytes > req.maxBufferBytes) {
      warnings.push(`${r.role}: ${r.run.largestTensor.name} needs a ${formatSize(r.run.largestTensor.bytes, 'up')} buffer, above the adapter's largest (${formatSize(req.maxBufferBytes)})`);
    }
  }

  let message = needsMessage(peakBytes, req.budgetBytes, fits);
  if (!fits) {
    const worst = phases.reduce((a, b) => (b.totalBytes > a.totalBytes ? b : a));
    const subjects = `${req.subjects} subject${req.subjects === 1 ? '' : 's'}`;
    message += `: ${arch.name} cannot run at ${req.width} x ${req.height} with ${subjects} (${req.refMode} mode; the ${worst.phase} phase needs that much even with every other session released)`;
  }

  return {
    model: arch.name,
    width: req.width,
    height: req.height,
    subjects: req.subjects,
    referencesPerSubject: req.referencesPerSubject,
    refMode: req.refMode,
    budgetBytes: req.budgetBytes,
    attentionLimitBytes: limit,
    rows,
    caches,
    phases,
    peakBytes,
    fits,
    message,
    hostCacheBytes: caches.filter((c) => c.location === 'host').reduce((n, c) => n + c.bytes, 0),
    warnings,
  };
}
