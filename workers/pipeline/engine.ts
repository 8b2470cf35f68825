/**
 * The generation pipeline (METHOD.md), composed of its stages, each with one
 * job and its own cache: the text conditioner (stages/text-conditioner.ts),
 * the reference encoder (stages/reference-encoder.ts), the sampler
 * (stages/sampler.ts) and the decoder (stages/decoder.ts); the pack's family
 * adapter (workers/families) says what differs between model families. Runs
 * wherever onnxruntime-web runs: the engine worker, and Node for tests and the
 * benchmark. Sessions come from a SessionProvider.
 */
import type * as ort from 'onnxruntime-web';
import { familyOf, type FamilyAdapter } from '../families';
import type { GenerationSettings } from '../generation-types';
import type { AttentionKind, GraphRole, PackManifest } from '../pack/manifest';
import { planAttention, type AttentionPlan, type PlanSubject } from './attentionPlan';
import type { GenerateProgress } from './progress';
import { droppedSteps, gaussianNoise } from './schedule';
import { Decoder } from './stages/decoder';
import { GraphRunner, now, type GraphRunCounts, type SessionProvider } from './stages/graph-runner';
import { ReferenceEncoder, type PreparedReference } from './stages/reference-encoder';
import { Sampler } from './stages/sampler';
import { TextConditioner, type TextEncoding, type Tokenize, type TokenizedPrompt } from './stages/text-conditioner';

export type { PreparedReference } from './stages/reference-encoder';
export type { SessionProvider } from './stages/graph-runner';
export type { TokenizedPrompt } from './stages/text-conditioner';

export interface EngineContext {
  packId: string;
  manifest: PackManifest;
  sessions: SessionProvider;
  /** Attention variant to use per role (from the conformance probe). */
  attention: (role: GraphRole) => AttentionKind;
  tokenize: Tokenize;
  /** A session for a graph the engine builds itself (the sampler step), on the engine's backend. */
  createSession: (name: string, model: Uint8Array) => Promise<ort.InferenceSession>;
  /** Byte limits of the text, reference-latent and reference-K/V caches (LRU); defaults in DEFAULT_CACHE_LIMITS. */
  cacheLimits?: Partial<Record<keyof typeof DEFAULT_CACHE_LIMITS, number>>;
  /** Makes input tensors. On WebGPU: upload once, so inputs fed at every step stay on the GPU. Default: CPU tensors. */
  makeTensor?: (data: Float32Array, dims: number[]) => ort.Tensor;
}

export interface SubjectSpec {
  name: string;
  classWord: string;
  placeholder: string;
  gamma: number;
  references: PreparedReference[];
  layerStart?: number;
  stepWindow?: [number, number];
  targetRegion?: Float32Array | null;
}

export interface GenerateRequest extends GenerationSettings {
  prompt: string;
  negativePrompt: string;
  subjects: SubjectSpec[];
  /** Full mode only: references attend to text and image (default true). */
  refsSeeContext?: boolean;
  /** The selective mask: only concept tokens see references (default true; attentionPlan.ts). */
  selectiveMask?: boolean;
  /** Full mode only: each reference set sees only itself (default true; attentionPlan.ts). */
  blockReferences?: boolean;
  /** The initial latents [C, h, w] at the generation size, instead of the seeded gaussian noise (to compare implementations on the same noise). */
  initialNoise?: Float32Array;
}

export interface GenerateResult {
  width: number;
  height: number;
  /** RGBA bytes. */
  rgba: Uint8ClampedArray;
  /** Final latents [C, h, w] (for tests and debugging). */
  latents: Float32Array;
  timings: { totalMs: number; sessionMs: number; steps: number; stepMs: number[] };
  /** The pack graphs this generation ran, by role (a cached reference pass or text encoding is not run again). */
  graphRuns: GraphRunCounts;
}

export class CancelledError extends Error {
  constructor(readonly atStep: number) {
    super(`cancelled at step ${atStep}`);
    this.name = 'CancelledError';
  }
}

/** Default byte limits of the engine's caches (the context may set others). */
/** What the engine's caches hold: entries, and bytes (the resident reference inputs are on the GPU under WebGPU). */
export interface EngineCacheSizes {
  text: number;
  latents: number;
  referenceKV: number;
  /** The current references' step inputs, kept on the device between generations. */
  residentReferenceBytes: number;
  bytes: number;
}

export const DEFAULT_CACHE_LIMITS = { textBytes: 64 * 2 ** 20, latentBytes: 256 * 2 ** 20, referenceKVBytes: 1024 * 2 ** 20 } as const;

export class Engine {
  readonly family: FamilyAdapter;
  private readonly runner: GraphRunner;
  private readonly text: TextConditioner;
  private readonly references: ReferenceEncoder;
  private readonly sampler: Sampler;
  private readonly decoder: Decoder;

  constructor(readonly ctx: EngineContext) {
    const limits = { ...DEFAULT_CACHE_LIMITS, ...ctx.cacheLimits };
    this.family = familyOf(ctx.manifest);
    this.runner = new GraphRunner(ctx.sessions, ctx.attention, ctx.makeTensor);
    this.text = new TextConditioner(this.runner, ctx.tokenize, ctx.packId, limits.textBytes);
    this.references = new ReferenceEncoder(this.runner, this.text, this.family, ctx.manifest, ctx.packId, limits);
    this.sampler = new Sampler(this.runner, ctx.manifest, ctx.createSession);
    this.decoder = new Decoder(this.runner, ctx.manifest.graphs.some((g) => g.role === 'preview_decoder'));
  }

  private get m(): PackManifest {
    return this.ctx.manifest;
  }

  /** Times the step's reference sets were uploaded (they stay on the device while the references stay the same). */
  get referenceUploads(): number {
    return this.sampler.referenceUploads;
  }

  /** Milliseconds spent inside session.run. */
  get sessionMs(): number {
    return this.runner.sessionMs;
  }

  cacheSizes(): EngineCacheSizes {
    const refs = this.references.sizes;
    const resident = this.sampler.residentBytes;
    return { text: this.text.entries, latents: refs.latents, referenceKV: refs.referenceKV, residentReferenceBytes: resident, bytes: this.text.bytes + refs.bytes + resident };
  }

  /** Releases what the engine made itself (the sampler session) and its caches; pack sessions belong to the provider. */
  async dispose(): Promise<void> {
    this.clearCaches();
    await this.sampler.dispose();
  }

  clearCaches(): void {
    this.text.clear();
    this.references.clear();
  }

  /**
   * Encodes a subject's references ahead of a generation (cached mode): the
   * VAE and the reference pass run once, every later generation reuses them.
   * Returns the reference token count.
   */
  encodeSubject(subject: Pick<SubjectSpec, 'classWord' | 'references'>, width: number, height: number): Promise<number> {
    return this.references.warm(subject, width, height);
  }

  /** Encodes tokenized text, cached by (pack, ids). */
  encodeIds(ids: number[]): Promise<TextEncoding> {
    return this.text.encodeIds(ids);
  }

  private latentDims(width: number, height: number): [number, number, number] {
    return this.references.latentDims(width, height);
  }

  /** The attention plans of a request (METHOD.md section 2): conditional and unconditional branches, per step fraction. */
  private planner(req: GenerateRequest, cond: TokenizedPrompt, M: number, N: number) {
    const withRefs = req.subjects.some((s) => s.references.length > 0);
    const mode = withRefs ? req.refMode : 'cached';
    const planSubjects = (concepts: boolean): PlanSubject[] =>
      req.subjects.map((s) => ({
        gamma: s.gamma,
        refSets: s.references.map((r) => ({ tokens: N, gammaScale: r.gammaScale, mask: r.tokenMask })),
        conceptPositions: concepts ? cond.concepts.filter((c) => c.subject === s.name).flatMap((c) => c.positions) : [],
        targetRegion: s.targetRegion ?? null,
        layerStart: s.layerStart,
        stepWindow: s.stepWindow,
      }));
    // A window covering every step changes nothing: only a narrower one needs a plan per step.
    const hasStepWindows = req.subjects.some((s) => s.stepWindow && (s.stepWindow[0] > 0 || s.stepWindow[1] < 1));
    const base = { textTokens: M, imageTokens: N, mode, refsSeeContext: req.refsSeeContext, selectiveMask: req.selectiveMask, blockReferences: req.blockReferences, layers: this.m.transformer.layers, biasMin: this.m.attentionBiasMin } as const;
    const plans = (stepFraction?: number): { cond: AttentionPlan; uncond: AttentionPlan } => ({
      cond: planAttention({ ...base, stepFraction, subjects: planSubjects(true) }),
      uncond: planAttention({ ...base, stepFraction, subjects: planSubjects(false) }),
    });
    return { plans, hasStepWindows };
  }

  /** The conditional branch's attention bias at the first step, for inspection (a heat map in the UI). */
  async attentionPlanPreview(req: GenerateRequest): Promise<{ plan: AttentionPlan; textTokens: number; imageTokens: number; tokens: string[] }> {
    this.validate(req);
    const cond = await this.text.encodeText(req.prompt, req.subjects);
    const tf = this.m.transformer;
    const [, h, w] = this.latentDims(req.width, req.height);
    const N = (h / tf.patchSize) * (w / tf.patchSize);
    const M = TextConditioner.rows(cond, tf.textDim);
    const plan = this.planner(req, cond, M, N).plans(0).cond;
    // Rows past the tokens (SD3's empty T5 slot) have no token of their own.
    const tokens = Array.from({ length: M }, (_, i) => (i < cond.ids.length ? String(cond.ids[i]) : ''));
    return { plan, textTokens: M, imageTokens: N, tokens };
  }

  private validate(req: GenerateRequest): void {
    const ok = this.m.resolutions.some((r) => r.width === req.width && r.height === req.height);
    if (!ok) throw new Error(`size ${req.width}x${req.height} is not one this pack supports (${this.m.resolutions.map((r) => `${r.width}x${r.height}`).join(', ')})`);
    if (!Number.isInteger(req.steps) || req.steps < 1 || req.steps > 200) throw new Error(`steps must be an integer in [1, 200], got ${req.steps}`);
    if (req.subjects.length > this.m.tokens.maxSubjects) throw new Error(`at most ${this.m.tokens.maxSubjects} subjects, got ${req.subjects.length}`);
    if (req.initialNoise) {
      const dims = this.latentDims(req.width, req.height);
      const want = dims[0] * dims[1] * dims[2];
      if (req.initialNoise.length !== want) throw new Error(`initial noise must be [${dims.join(', ')}] = ${want} values at ${req.width}x${req.height}, got ${req.initialNoise.length}`);
    }
    const refLimit = this.m.transformer.maxReferenceGrid;
    if (refLimit && req.subjects.some((s) => s.references.length > 0)) {
      const cell = this.m.latent.downsample * this.m.transformer.patchSize;
      if (req.width / cell > refLimit.width || req.height / cell > refLimit.height) {
        throw new Error(`at ${req.width}x${req.height} a subject's reference does not fit this model's positional table (it sits one image width to the right); use at most ${refLimit.width * cell}x${refLimit.height * cell} with subjects`);
      }
    }
    for (const s of req.subjects) {
      if (!(s.gamma >= 0)) throw new Error(`subject @${s.name}: strength must be >= 0`);
      const images = new Set(s.references.map((r) => r.key.split('#band')[0]));
      if (images.size > this.m.tokens.maxReferencesPerSubject) throw new Error(`subject @${s.name}: at most ${this.m.tokens.maxReferencesPerSubject} reference images`);
    }
  }

  /**
   * One image. Progress events end with exactly one of done / error /
   * cancelled; cancellation (via `signal`) takes effect between steps.
   */
  async generate(req: GenerateRequest, onProgress: (p: GenerateProgress) => void = () => {}, signal?: AbortSignal): Promise<GenerateResult> {
    const t0 = now();
    const session0 = this.sessionMs;
    const runs0 = this.runner.runs;
    let step = 0;
    try {
      const result = await this.generateInner(req, onProgress, signal, (s) => (step = s));
      result.timings.totalMs = now() - t0;
      result.timings.sessionMs = this.sessionMs - session0;
      result.graphRuns = GraphRunner.runsSince(runs0, this.runner.runs);
      onProgress({ kind: 'done', elapsedMs: result.timings.totalMs });
      return result;
    } catch (e) {
      if (e instanceof CancelledError) onProgress({ kind: 'cancelled', atStep: step });
      else onProgress({ kind: 'error', message: (e as Error).message });
      throw e;
    }
  }

  private async generateInner(
    req: GenerateRequest,
    onProgress: (p: GenerateProgress) => void,
    signal: AbortSignal | undefined,
    setStep: (s: number) => void,
  ): Promise<GenerateResult> {
    this.validate(req);
    const checkCancel = (atStep: number) => {
      if (signal?.aborted) throw new CancelledError(atStep);
    };
    checkCancel(0);
    const { width, height } = req;
    const [C, h, w] = this.latentDims(width, height);
    const tf = this.m.transformer;
    const N = (h / tf.patchSize) * (w / tf.patchSize);

    // Text guidance 1 (distilled FLUX.2 klein's default) weighs the unconditional branch by 0: it is neither encoded nor run.
    const withUncond = req.textGuidance !== 1;
    const texts = withUncond ? 2 : 1;
    onProgress({ kind: 'encoding', what: 'text', done: 0, total: texts });
    const cond = await this.text.encodeText(req.prompt, req.subjects);
    const uncond = withUncond ? await this.text.encodeText(req.negativePrompt, []) : null;
    onProgress({ kind: 'encoding', what: 'text', done: texts, total: texts });
    const M = TextConditioner.rows(cond, tf.textDim);

    const withRefs = req.subjects.some((s) => s.references.length > 0);
    const mode = withRefs ? req.refMode : 'cached';
    const { plans, hasStepWindows } = this.planner(req, cond, M, N);
    const R = plans(hasStepWindows ? 0 : undefined).cond.refTokens;

    // Reference inputs, real and black (dropped), concatenated in plan order.
    const totalRefs = req.subjects.reduce((n, s) => n + s.references.length, 0);
    let refs = null;
    if (withRefs) {
      onProgress({ kind: 'encoding', what: 'references', done: 0, total: totalRefs });
      const gathered = await this.references.gather(req.subjects, mode, { width, height, N, R }, () => checkCancel(0), (done) =>
        onProgress({ kind: 'encoding', what: 'references', done, total: totalRefs }),
      );
      refs = { ...gathered, total: totalRefs };
    }

    const stepStart = now();
    const { result, stepMs } = await this.sampler.sample(
      {
        uncond,
        cond,
        plans,
        hasStepWindows,
        mode,
        refs,
        sigmas: this.family.sigmas(this.m, req.steps, N),
        timestep: (sigma) => this.family.timestep(sigma),
        dropped: droppedSteps(req.steps, req.dropRatio, req.dropSchedule, req.seed),
        useRefBranch: withRefs && req.refGuidance !== 0,
        textGuidance: req.textGuidance,
        refGuidance: req.refGuidance,
        positions:
          this.family.stepPositions?.({
            textRows: M,
            grid: { height: h / tf.patchSize, width: w / tf.patchSize },
            references: mode === 'full' ? Array.from({ length: totalRefs }, () => ({ height: h / tf.patchSize, width: w / tf.patchSize })) : [],
          }) ?? {},
        noise: req.initialNoise ?? gaussianNoise(C * h * w, req.seed),
        latentDims: [C, h, w],
      },
      {
        checkCancel,
        onStep: async (step, _ms, x) => {
          setStep(step);
          const wantPreview = req.previewEvery > 0 && (step % req.previewEvery === 0 || step === req.steps);
          // Only a preview reads the latents back; otherwise they stay where the backend keeps them.
          const preview = wantPreview ? await this.decoder.preview(x) : null;
          onProgress({ kind: 'step', step, steps: req.steps, elapsedMs: now() - stepStart, preview });
        },
      },
      async (x) => {
        onProgress({ kind: 'decoding' });
        return this.decoder.decode(x, width, height);
      },
    );
    return { width, height, ...result, timings: { totalMs: 0, sessionMs: 0, steps: req.steps, stepMs }, graphRuns: {} };
  }
}
