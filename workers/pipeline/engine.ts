/**
 * The generation pipeline (METHOD.md): text encodings, reference K/V (cached
 * by content), the attention plan, the batched cross-guidance sampler and the
 * VAE decode. Runs wherever onnxruntime-web runs: the engine worker, and Node
 * for tests and the benchmark. Sessions come from a SessionProvider.
 */
import * as ort from 'onnxruntime-web';
import type { AttentionKind, GraphRole, PackManifest } from '../pack/manifest';
import { planAttention, type AttentionPlan, type PlanSubject } from './attentionPlan';
import type { GenerateProgress, PreviewImage } from './progress';
import { ByteLru } from './byte-lru';
import { buildSamplerGraph } from './samplerGraph';
import type { GenerationSettings } from '../generation-types';
import { concatRows } from '../packbuild/reference/ops';
import { droppedSteps, gaussianNoise, guidanceWeights, scheduleSigmas } from './schedule';

export interface SessionProvider {
  get(role: GraphRole, attention: AttentionKind): Promise<ort.InferenceSession>;
}

/** A tokenized prompt: ids padded to the encoder length, and each subject's concept token positions. */
export interface TokenizedPrompt {
  ids: number[];
  concepts: { subject: string; positions: number[] }[];
}

export interface EngineContext {
  packId: string;
  manifest: PackManifest;
  sessions: SessionProvider;
  /** Attention variant to use per role (from the conformance probe). */
  attention: (role: GraphRole) => AttentionKind;
  tokenize: (prompt: string, subjects: { name: string; placeholder: string; classWord: string }[]) => TokenizedPrompt;
  /** A session for a graph the engine builds itself (the sampler step), on the engine's backend. */
  createSession: (name: string, model: Uint8Array) => Promise<ort.InferenceSession>;
  /** Byte limits of the text, reference-latent and reference-K/V caches (LRU); defaults in DEFAULT_CACHE_LIMITS. */
  cacheLimits?: Partial<Record<keyof typeof DEFAULT_CACHE_LIMITS, number>>;
  /** Makes input tensors. On WebGPU: upload once, so inputs fed at every step stay on the GPU. Default: CPU tensors. */
  makeTensor?: (data: Float32Array, dims: number[]) => ort.Tensor;
}

/** One reference token set: an image (or one frequency band of it) prepared at the generation size. */
export interface PreparedReference {
  /** Content key: image hash, mask hash, mask settings, band, resolution. */
  key: string;
  /** [3, H, W] planar RGB in [-1, 1], background already filled. */
  rgb: Float32Array;
  /** The processed mask on the token grid, [R]; null = all ones. */
  tokenMask: Float32Array | null;
  /** Band weight (gamma_orig / gamma_low / gamma_high), multiplies the subject's gamma. */
  gammaScale: number;
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
}

export class CancelledError extends Error {
  constructor(readonly atStep: number) {
    super(`cancelled at step ${atStep}`);
    this.name = 'CancelledError';
  }
}

interface TextEncoding {
  embeddings: Float32Array;
  pooled: Float32Array;
}

type RefInputs = { k: Float32Array; v: Float32Array } | { latents: Float32Array; pooled: Float32Array };

interface ReferenceKV {
  /** [layers, R, D]. */
  k: Float32Array;
  v: Float32Array;
  tokens: number;
}

/** Default byte limits of the engine's caches (the context may set others). */
export const DEFAULT_CACHE_LIMITS = { textBytes: 64 * 2 ** 20, latentBytes: 256 * 2 ** 20, referenceKVBytes: 1024 * 2 ** 20 } as const;

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}

export class Engine {
  private readonly textCache: ByteLru<TextEncoding>;
  private readonly latentCache: ByteLru<Float32Array>;
  private readonly kvCache: ByteLru<ReferenceKV>;
  /** Milliseconds spent inside session.run since the last reset. */
  sessionMs = 0;

  constructor(readonly ctx: EngineContext) {
    const limits = { ...DEFAULT_CACHE_LIMITS, ...ctx.cacheLimits };
    this.textCache = new ByteLru(limits.textBytes, (t) => t.embeddings.byteLength + t.pooled.byteLength);
    this.latentCache = new ByteLru(limits.latentBytes, (l) => l.byteLength);
    this.kvCache = new ByteLru(limits.referenceKVBytes, (kv) => kv.k.byteLength + kv.v.byteLength);
  }

  private get m(): PackManifest {
    return this.ctx.manifest;
  }

  cacheSizes(): { text: number; latents: number; referenceKV: number; bytes: number } {
    const bytes = this.textCache.bytes + this.latentCache.bytes + this.kvCache.bytes;
    return { text: this.textCache.size, latents: this.latentCache.size, referenceKV: this.kvCache.size, bytes };
  }

  /** Releases what the engine made itself (the sampler session) and its caches; pack sessions belong to the provider. */
  async dispose(): Promise<void> {
    this.clearCaches();
    const sampler = this.samplerPromise;
    this.samplerPromise = null;
    if (sampler) await (await sampler.catch(() => null))?.release();
  }

  /**
   * Encodes a subject's references ahead of a generation (cached mode): the
   * VAE and the reference pass run once, every later generation reuses them.
   * Returns the reference token count.
   */
  async encodeSubject(subject: Pick<SubjectSpec, 'classWord' | 'references'>, width: number, height: number): Promise<number> {
    let tokens = 0;
    for (const r of subject.references) tokens += (await this.referenceKV(r, subject.classWord, width, height)).tokens;
    await this.referenceKV(this.blackReference(width, height), subject.classWord, width, height);
    return tokens;
  }

  clearCaches(): void {
    this.textCache.clear();
    this.latentCache.clear();
    this.kvCache.clear();
  }

  private async run(role: GraphRole, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    return this.runSession(await this.ctx.sessions.get(role, this.ctx.attention(role)), feeds);
  }

  private async runSession(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    const t0 = now();
    try {
      return await session.run(feeds);
    } finally {
      this.sessionMs += now() - t0;
    }
  }

  private samplerPromise: Promise<ort.InferenceSession> | null = null;

  private samplerSession(): Promise<ort.InferenceSession> {
    this.samplerPromise ??= this.ctx.createSession('sampler_step', buildSamplerGraph());
    this.samplerPromise.catch(() => (this.samplerPromise = null));
    return this.samplerPromise;
  }

  /** An input tensor; on WebGPU the context uploads it, so one fed at every step stays on the GPU. */
  private tensor(data: Float32Array, dims: number[]): ort.Tensor {
    return this.ctx.makeTensor ? this.ctx.makeTensor(data, dims) : new ort.Tensor('float32', data, dims);
  }

  /** The values of a tensor (downloaded when it lives on the GPU); `release` frees its GPU buffer after. */
  private static async read(t: ort.Tensor, release = false): Promise<Float32Array> {
    return (await t.getData(release)) as Float32Array;
  }

  /** Encodes tokenized text, cached by (pack, ids). */
  async encodeIds(ids: number[]): Promise<TextEncoding> {
    const key = `${this.ctx.packId}\u0000${ids.join(',')}`;
    const hit = this.textCache.get(key);
    if (hit) return hit;
    const out = await this.run('text_encoder', {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [1, ids.length]),
    });
    const enc = { embeddings: await Engine.read(out.text_embeddings!), pooled: await Engine.read(out.pooled!) };
    this.textCache.set(key, enc);
    return enc;
  }

  async encodeText(prompt: string, subjects: SubjectSpec[] = []): Promise<TextEncoding & TokenizedPrompt> {
    const tok = this.ctx.tokenize(prompt, subjects);
    return { ...tok, ...(await this.encodeIds(tok.ids)) };
  }

  /**
   * The text rows the transformer sees: one per token for the project's
   * MM-DiT, more for SD3 (77 CLIP rows and 256 rows of the absent T5).
   */
  static textRows(enc: TextEncoding, textDim: number): number {
    return enc.embeddings.length / textDim;
  }

  /** The subject's own reference prompt (EqDiff's ref_prompt): what the reference pass is conditioned on. */
  static referencePrompt(classWord: string): string {
    return `a photo of a ${classWord}`.trim();
  }

  private latentDims(width: number, height: number): [number, number, number] {
    const { channels, downsample } = this.m.latent;
    return [channels, height / downsample, width / downsample];
  }

  /** VAE-encodes a prepared reference, cached by its key. */
  async referenceLatents(ref: Pick<PreparedReference, 'key' | 'rgb'>, width: number, height: number): Promise<Float32Array> {
    const key = `${this.ctx.packId}|${ref.key}|${width}x${height}`;
    const hit = this.latentCache.get(key);
    if (hit) return hit;
    const out = await this.run('vae_encoder', { image: new ort.Tensor('float32', ref.rgb, [1, 3, height, width]) });
    const lat = await Engine.read(out.latent!);
    this.latentCache.set(key, lat);
    return lat;
  }

  /** Per-layer reference K/V of one reference (cached mode), keyed by content, reference prompt and size. */
  async referenceKV(ref: Pick<PreparedReference, 'key' | 'rgb'>, classWord: string, width: number, height: number): Promise<ReferenceKV> {
    const refPrompt = Engine.referencePrompt(classWord);
    const key = `${this.ctx.packId}|${ref.key}|${refPrompt}|${width}x${height}`;
    const hit = this.kvCache.get(key);
    if (hit) return hit;
    const pooled = (await this.encodeText(refPrompt)).pooled;
    const lat = await this.referenceLatents(ref, width, height);
    const [C, h, w] = this.latentDims(width, height);
    const out = await this.run('dit_reference', {
      ref_latents: new ort.Tensor('float32', lat, [1, C, h, w]),
      ref_pooled: new ort.Tensor('float32', pooled, [1, pooled.length]),
    });
    const k = await Engine.read(out.ref_k!);
    const kv = { k, v: await Engine.read(out.ref_v!), tokens: out.ref_k!.dims[2]! };
    this.kvCache.set(key, kv);
    return kv;
  }

  /** The all-black reference used for dropping (AlignGen), cached like any reference. */
  blackReference(width: number, height: number): Pick<PreparedReference, 'key' | 'rgb'> {
    return { key: `black:${width}x${height}`, rgb: new Float32Array(3 * width * height).fill(-1) };
  }

  /** The step graph's inputs that do not change from step to step, for `branches` batched predictions. */
  private stepStaticFeeds(
    branches: 2 | 3,
    a: {
      uncond: TextEncoding;
      cond: TextEncoding;
      plan: { cond: AttentionPlan; uncond: AttentionPlan };
      mode: 'cached' | 'full';
      real: RefInputs | null;
      black: RefInputs | null;
      L: number;
      R: number;
      D: number;
      C: number;
      h: number;
      w: number;
      totalRefs: number;
    },
  ): Record<string, ort.Tensor> {
    const tf = this.m.transformer;
    const { L, R, D, C, h, w, plan } = a;
    const texts = [a.uncond, a.cond, a.cond].slice(0, branches);
    const biases = [plan.uncond, plan.cond, plan.cond].slice(0, branches);
    // Branches 0 and 1 see the black (dropped) reference, branch 2 the real one.
    const refsFor = (b: number) => (b === 2 ? a.real : a.black);
    const feeds: Record<string, ort.Tensor> = {
      text_embeddings: this.tensor(concat(texts.map((t) => t.embeddings)), [branches, texts[0]!.embeddings.length / tf.textDim, tf.textDim]),
      pooled: this.tensor(concat(texts.map((t) => t.pooled)), [branches, tf.pooledDim]),
      attention_bias: this.tensor(concat(biases.map((p) => p.bias)), [branches, 1, plan.cond.rows, plan.cond.cols]),
      ref_layer_bias: this.tensor(interleaveLayers(biases.map((p) => p.layerBias), L, R), [L, branches, R]),
    };
    if (a.mode === 'cached') {
      const zeros = new Float32Array(L * R * D);
      const kv = (b: number) => refsFor(b) as { k: Float32Array; v: Float32Array } | null;
      feeds.ref_k = this.tensor(interleaveLayers(Array.from({ length: branches }, (_, b) => kv(b)?.k ?? zeros), L, R * D), [L, branches, R, D]);
      feeds.ref_v = this.tensor(interleaveLayers(Array.from({ length: branches }, (_, b) => kv(b)?.v ?? zeros), L, R * D), [L, branches, R, D]);
    } else {
      const lp = (b: number) => refsFor(b) as { latents: Float32Array; pooled: Float32Array };
      feeds.ref_latents = this.tensor(concat(Array.from({ length: branches }, (_, b) => lp(b).latents)), [branches, a.totalRefs, C, h, w]);
      feeds.ref_pooled = this.tensor(concat(Array.from({ length: branches }, (_, b) => lp(b).pooled)), [branches, a.totalRefs, tf.pooledDim]);
    }
    return feeds;
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
    const base = { textTokens: M, imageTokens: N, mode, refsSeeContext: req.refsSeeContext, layers: this.m.transformer.layers, biasMin: this.m.attentionBiasMin } as const;
    const plans = (stepFraction?: number): { cond: AttentionPlan; uncond: AttentionPlan } => ({
      cond: planAttention({ ...base, stepFraction, subjects: planSubjects(true) }),
      uncond: planAttention({ ...base, stepFraction, subjects: planSubjects(false) }),
    });
    return { plans, hasStepWindows };
  }

  /** The conditional branch's attention bias at the first step, for inspection (a heat map in the UI). */
  async attentionPlanPreview(req: GenerateRequest): Promise<{ plan: AttentionPlan; textTokens: number; imageTokens: number; tokens: string[] }> {
    this.validate(req);
    const cond = await this.encodeText(req.prompt, req.subjects);
    const tf = this.m.transformer;
    const [, h, w] = this.latentDims(req.width, req.height);
    const N = (h / tf.patchSize) * (w / tf.patchSize);
    const M = Engine.textRows(cond, tf.textDim);
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
    let step = 0;
    try {
      const result = await this.generateInner(req, onProgress, signal, (s) => (step = s));
      result.timings.totalMs = now() - t0;
      result.timings.sessionMs = this.sessionMs - session0;
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
    const L = tf.layers;
    const D = tf.hiddenSize;
    const N = (h / tf.patchSize) * (w / tf.patchSize);

    onProgress({ kind: 'encoding', what: 'text', done: 0, total: 2 });
    const cond = await this.encodeText(req.prompt, req.subjects);
    const uncond = await this.encodeText(req.negativePrompt, []);
    onProgress({ kind: 'encoding', what: 'text', done: 2, total: 2 });
    const M = Engine.textRows(cond, tf.textDim);

    const withRefs = req.subjects.some((s) => s.references.length > 0);
    const mode = withRefs ? req.refMode : 'cached';
    const { plans, hasStepWindows } = this.planner(req, cond, M, N);
    let plan = plans(hasStepWindows ? 0 : undefined);
    const R = plan.cond.refTokens;

    // Reference inputs, real and black (dropped), concatenated in plan order.
    const totalRefs = req.subjects.reduce((n, s) => n + s.references.length, 0);
    let real: RefInputs | null = null;
    let black: RefInputs | null = null;
    if (withRefs) {
      onProgress({ kind: 'encoding', what: 'references', done: 0, total: totalRefs });
      const blackImg = this.blackReference(width, height);
      if (mode === 'cached') {
        const realK = new Float32Array(L * R * D);
        const realV = new Float32Array(L * R * D);
        const blackK = new Float32Array(L * R * D);
        const blackV = new Float32Array(L * R * D);
        let off = 0;
        let done = 0;
        for (const s of req.subjects) {
          const kvBlack = await this.referenceKV(blackImg, s.classWord, width, height);
          for (const r of s.references) {
            checkCancel(0);
            const kv = await this.referenceKV(r, s.classWord, width, height);
            for (let l = 0; l < L; l++) {
              realK.set(kv.k.subarray(l * N * D, (l + 1) * N * D), (l * R + off) * D);
              realV.set(kv.v.subarray(l * N * D, (l + 1) * N * D), (l * R + off) * D);
              blackK.set(kvBlack.k.subarray(l * N * D, (l + 1) * N * D), (l * R + off) * D);
              blackV.set(kvBlack.v.subarray(l * N * D, (l + 1) * N * D), (l * R + off) * D);
            }
            off += N;
            onProgress({ kind: 'encoding', what: 'references', done: ++done, total: totalRefs });
          }
        }
        real = { k: realK, v: realV };
        black = { k: blackK, v: blackV };
      } else {
        const per = C * h * w;
        const P = tf.pooledDim;
        const realL = new Float32Array(totalRefs * per);
        const blackL = new Float32Array(totalRefs * per);
        const pooled = new Float32Array(totalRefs * P);
        const blackLat = await this.referenceLatents(blackImg, width, height);
        let j = 0;
        for (const s of req.subjects) {
          const refPooled = (await this.encodeText(Engine.referencePrompt(s.classWord))).pooled;
          for (const r of s.references) {
            checkCancel(0);
            realL.set(await this.referenceLatents(r, width, height), j * per);
            blackL.set(blackLat, j * per);
            pooled.set(refPooled, j * P);
            onProgress({ kind: 'encoding', what: 'references', done: ++j, total: totalRefs });
          }
        }
        real = { latents: realL, pooled };
        black = { latents: blackL, pooled };
      }
    }

    const sigmas = scheduleSigmas(this.m.scheduler, req.steps);
    const dropped = droppedSteps(req.steps, req.dropRatio, req.dropSchedule, req.seed);
    const useRefBranch = withRefs && req.refGuidance !== 0;
    // Branches: [uncond + black ref, text + black ref, text + refs]; the third
    // is skipped on dropped steps (it would equal the second).
    const branchesAt = (i: number): 2 | 3 => (useRefBranch && !dropped[i] ? 3 : 2);
    const noise = req.initialNoise ?? gaussianNoise(C * h * w, req.seed);
    const stepMs: number[] = [];
    const stepStart = now();
    const sampler = await this.samplerSession();
    // Tensors this generation owns (uploaded inputs, GPU outputs): released at the end, whatever happens.
    const owned = new Set<ort.Tensor>();
    const own = <T extends ort.Tensor>(t: T): T => (owned.add(t), t);
    const drop = (t: ort.Tensor) => {
      if (owned.delete(t)) t.dispose();
    };
    const staticFeeds = new Map<number, Record<string, ort.Tensor>>();
    let x = own(this.tensor(noise, [1, C, h, w]));
    let xBatch = own(this.tensor(repeat(noise, branchesAt(0)), [branchesAt(0), C, h, w]));
    try {
      for (let i = 0; i < req.steps; i++) {
        // Let queued messages (a cancel) in: on WASM a session run never yields to the event loop.
        await yieldToEventLoop();
        checkCancel(i);
        const ts = now();
        const branches = branchesAt(i);
        if (hasStepWindows) {
          plan = plans(req.steps > 1 ? i / (req.steps - 1) : 0);
          for (const f of staticFeeds.values()) Object.values(f).forEach(drop);
          staticFeeds.clear();
        }
        // Everything but the latents and the timestep is the same at every step with
        // the same branch count (unless step windows change the plan): made once, on the device.
        let fixed = staticFeeds.get(branches);
        if (!fixed) {
          fixed = this.stepStaticFeeds(branches, { uncond, cond, plan, mode, real, black, L, R, D, C, h, w, totalRefs });
          Object.values(fixed).forEach(own);
          staticFeeds.set(branches, fixed);
        }
        const out = await this.run(mode === 'cached' ? 'dit_step' : 'dit_step_full', {
          ...fixed,
          latents: xBatch,
          timestep: new ort.Tensor('float32', new Float32Array(branches).fill(1000 * sigmas[i]!), [branches]),
        });
        const velocity = own(out.velocity!);
        const nextBranches = i + 1 < req.steps ? branchesAt(i + 1) : 1;
        const next = await this.runSession(sampler, {
          latents: x,
          velocity,
          weights: new ort.Tensor('float32', Float32Array.from(guidanceWeights(req.textGuidance, branches === 3 ? req.refGuidance : 0, branches)), [branches]),
          dsigma: new ort.Tensor('float32', Float32Array.of(sigmas[i + 1]! - sigmas[i]!), [1]),
          batch_shape: new ort.Tensor('int64', BigInt64Array.from([nextBranches, C, h, w].map(BigInt)), [4]),
        });
        drop(velocity);
        drop(x);
        drop(xBatch);
        x = own(next.next_latents!);
        xBatch = own(next.next_batch!);
        stepMs.push(now() - ts);
        setStep(i + 1);
        const wantPreview = req.previewEvery > 0 && ((i + 1) % req.previewEvery === 0 || i + 1 === req.steps);
        // Only a preview reads the latents back; otherwise they stay where the backend keeps them.
        const preview = wantPreview ? latentPreview(await Engine.read(x), C, h, w) : null;
        onProgress({ kind: 'step', step: i + 1, steps: req.steps, elapsedMs: now() - stepStart, preview });
      }

      await yieldToEventLoop();
      checkCancel(req.steps);
      onProgress({ kind: 'decoding' });
      const out = await this.run('vae_decoder', { latent: x });
      const img = await Engine.read(out.image!, true);
      const latents = (await Engine.read(x)).slice();
      return { width, height, rgba: planarToRgba(img, width, height), latents, timings: { totalMs: 0, sessionMs: 0, steps: req.steps, stepMs } };
    } finally {
      for (const t of owned) t.dispose();
    }
  }
}

/** A macrotask boundary (faster than setTimeout, which browsers clamp to 4 ms when nested). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

const concat = (parts: Float32Array[]): Float32Array => concatRows(...parts);

function repeat(x: Float32Array, times: number): Float32Array {
  const out = new Float32Array(x.length * times);
  for (let b = 0; b < times; b++) out.set(x, b * x.length);
  return out;
}


/** Per-branch [layers, X] arrays -> [layers, branches, X]. */
function interleaveLayers(perBranch: Float32Array[], layers: number, x: number): Float32Array {
  const B = perBranch.length;
  const out = new Float32Array(layers * B * x);
  for (let l = 0; l < layers; l++) for (let b = 0; b < B; b++) out.set(perBranch[b]!.subarray(l * x, (l + 1) * x), (l * B + b) * x);
  return out;
}

/** [3, H, W] in [-1, 1] -> RGBA bytes. */
export function planarToRgba(img: Float32Array, width: number, height: number): Uint8ClampedArray {
  const n = width * height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4] = Math.round((img[i]! + 1) * 127.5);
    out[i * 4 + 1] = Math.round((img[n + i]! + 1) * 127.5);
    out[i * 4 + 2] = Math.round((img[2 * n + i]! + 1) * 127.5);
    out[i * 4 + 3] = 255;
  }
  return out;
}

/**
 * A low-cost preview: the first three latent channels (or fewer) as RGB,
 * each normalised to its own range. No decoder run.
 */
export function latentPreview(x: Float32Array, C: number, h: number, w: number): PreviewImage {
  const n = h * w;
  const rgba = new Uint8ClampedArray(n * 4);
  for (let c = 0; c < 3; c++) {
    const ch = Math.min(c, C - 1);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = x[ch * n + i]!;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const span = hi - lo || 1;
    for (let i = 0; i < n; i++) rgba[i * 4 + c] = Math.round(((x[ch * n + i]! - lo) / span) * 255);
  }
  for (let i = 0; i < n; i++) rgba[i * 4 + 3] = 255;
  return { width: w, height: h, rgba };
}
