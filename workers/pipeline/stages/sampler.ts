/**
 * The sampling stage: the batched cross-guidance Euler loop (METHOD.md
 * sections 3 and 7). Each step runs the step graph on [uncond + black
 * reference, text + black reference, text + reference] (the third skipped on
 * dropped steps), then the sampler graph combines the branches and takes the
 * Euler step; the latents stay where the backend keeps them (GPU buffers on
 * WebGPU) from step to step. The branches share their inputs: each distinct
 * text and reference set is fed once, with an index per branch, and the
 * reference sets stay on the device between generations with the same
 * references.
 */
import * as ort from 'onnxruntime-web';
import { concatRows } from '../../packbuild/reference/ops';
import type { ExtraFeeds } from '../../families/family';
import type { PackManifest } from '../../pack/manifest';
import type { AttentionPlan } from '../attentionPlan';
import { buildSamplerGraph } from '../samplerGraph';
import { guidanceWeights } from '../schedule';
import type { GraphRunner } from './graph-runner';
import { now } from './graph-runner';
import type { RefInputs } from './reference-encoder';
import type { TextEncoding } from './text-conditioner';

export interface SamplingPlan {
  /** The negative prompt's encoding; null when text guidance is 1, where the unconditional branch weighs 0 and is not run. */
  uncond: TextEncoding | null;
  cond: TextEncoding;
  /** The attention plans at a step fraction (one plan for every step unless step windows say otherwise). */
  plans: (stepFraction?: number) => { cond: AttentionPlan; uncond: AttentionPlan };
  hasStepWindows: boolean;
  mode: 'cached' | 'full';
  /** `key` names the references' content (equal keys, equal inputs): it keeps them resident across generations. */
  refs: { real: RefInputs; black: RefInputs; total: number; key: string } | null;
  /** Sigmas, steps + 1 values; timestep(sigma) is what the transformer takes. */
  sigmas: Float64Array;
  timestep: (sigma: number) => number;
  /** Steps whose reference branch is dropped (the drop ratio). */
  dropped: boolean[];
  useRefBranch: boolean;
  textGuidance: number;
  refGuidance: number;
  /** The family's extra step inputs that place the tokens (FLUX.2's RoPE tables); none for SD3. */
  positions: ExtraFeeds;
  /** [C, h, w]. */
  noise: Float32Array;
  latentDims: [number, number, number];
}

export interface StepEvents {
  checkCancel: (atStep: number) => void;
  /** Called after each step with its index (1-based) and duration; `x` is the new latents. */
  onStep: (step: number, ms: number, x: ort.Tensor) => Promise<void>;
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

export class Sampler {
  private sessionPromise: Promise<ort.InferenceSession> | null = null;
  /** The reference sets of the last generation, still on the device (see referenceSets). */
  private resident: { key: string; feeds: Record<string, ort.Tensor>; bytes: number } | null = null;

  constructor(
    private readonly runner: GraphRunner,
    private readonly manifest: PackManifest,
    private readonly createSession: (name: string, model: Uint8Array) => Promise<ort.InferenceSession>,
  ) {}

  async dispose(): Promise<void> {
    this.releaseResident();
    const s = this.sessionPromise;
    this.sessionPromise = null;
    if (s) await (await s.catch(() => null))?.release();
  }

  private session(): Promise<ort.InferenceSession> {
    this.sessionPromise ??= this.createSession('sampler_step', buildSamplerGraph());
    this.sessionPromise.catch(() => (this.sessionPromise = null));
    return this.sessionPromise;
  }

  /**
   * The reference sets the step graph reads, [black, real] (one zero set without references):
   * uploaded once and kept between generations while the references stay the same (a prompt
   * edit re-encodes the text, not the references), released when they change.
   */
  private referenceSets(p: SamplingPlan, R: number): Record<string, ort.Tensor> {
    const tf = this.manifest.transformer;
    const L = tf.layers;
    const D = tf.hiddenSize;
    const [C, h, w] = p.latentDims;
    const key = p.refs ? `${p.mode}|${p.refs.key}|${C}x${h}x${w}|${R}` : `none|${p.mode}|${R}`;
    if (this.resident?.key === key) return this.resident.feeds;
    this.releaseResident();
    const t = (data: Float32Array, dims: number[]) => this.runner.tensor(data, dims);
    const feeds: Record<string, ort.Tensor> = {};
    if (p.mode === 'cached') {
      const sets = p.refs ? [p.refs.black, p.refs.real].map((x) => x as { k: Float32Array; v: Float32Array }) : [{ k: new Float32Array(L * R * D), v: new Float32Array(L * R * D) }];
      feeds.ref_k = t(interleaveLayers(sets.map((x) => x.k), L, R * D), [L, sets.length, R, D]);
      feeds.ref_v = t(interleaveLayers(sets.map((x) => x.v), L, R * D), [L, sets.length, R, D]);
    } else {
      const sets = [p.refs!.black, p.refs!.real].map((x) => x as { latents: Float32Array; pooled: Float32Array });
      const total = p.refs!.total;
      feeds.ref_latents = t(concat(sets.map((x) => x.latents)), [2, total, C, h, w]);
      feeds.ref_pooled = t(concat(sets.map((x) => x.pooled)), [2, total, tf.pooledDim]);
    }
    this.resident = { key, feeds, bytes: Object.values(feeds).reduce((n, x) => n + 4 * x.size, 0) };
    this.referenceUploads++;
    return feeds;
  }

  private releaseResident(): void {
    if (!this.resident) return;
    Object.values(this.resident.feeds).forEach((x) => x.dispose());
    this.resident = null;
  }

  /** Times the reference sets were made and uploaded (a prompt edit with the same subjects makes none). */
  referenceUploads = 0;

  /** Bytes of reference inputs kept on the device between generations (for the status line). */
  get residentBytes(): number {
    return this.resident?.bytes ?? 0;
  }

  /**
   * The step graph's inputs that do not change from step to step, for the batched `branches`
   * (of 0: uncond + black, 1: cond + black, 2: cond + real): the distinct text sets [uncond, cond]
   * (cond alone when the unconditional branch is not run) and reference sets [black, real], each
   * once, with the set every branch reads. Only the biases are per branch.
   */
  private staticFeeds(branches: readonly number[], p: SamplingPlan, plan: { cond: AttentionPlan; uncond: AttentionPlan }): { own: Record<string, ort.Tensor>; shared: Record<string, ort.Tensor> } {
    const tf = this.manifest.transformer;
    const L = tf.layers;
    const R = plan.cond.refTokens;
    const t = (data: Float32Array, dims: number[]) => this.runner.tensor(data, dims);
    const index = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [values.length]);
    const biases = branches.map((b) => (b === 0 ? plan.uncond : plan.cond));
    const texts = p.uncond ? [p.uncond, p.cond] : [p.cond];
    const own: Record<string, ort.Tensor> = {
      text_embeddings: t(concat(texts.map((x) => x.embeddings)), [texts.length, p.cond.embeddings.length / tf.textDim, tf.textDim]),
      pooled: t(concat(texts.map((x) => x.pooled)), [texts.length, tf.pooledDim]),
      text_set: index(branches.map((b) => (b === 0 ? 0 : texts.length - 1))),
      ref_set: index(branches.map((b) => (b === 2 && p.refs ? 1 : 0))),
      attention_bias: t(concat(biases.map((x) => x.bias)), [branches.length, 1, plan.cond.rows, plan.cond.cols]),
      ref_layer_bias: t(interleaveLayers(biases.map((x) => x.layerBias), L, R), [L, branches.length, R]),
    };
    for (const [name, f] of Object.entries(p.positions)) own[name] = t(f.data, f.dims);
    return { own, shared: this.referenceSets(p, R) };
  }

  /**
   * Runs every step, then `finish` on the final latents [1, C, h, w] before
   * the tensors this run made are released (whatever happens).
   */
  async sample<T>(p: SamplingPlan, events: StepEvents, finish: (x: ort.Tensor) => Promise<T>): Promise<{ result: T; stepMs: number[] }> {
    const steps = p.sigmas.length - 1;
    const [C, h, w] = p.latentDims;
    // The branches run at step i; the unconditional one only where text guidance is not 1 (its weight 1 - s is 0 there).
    const firstBranch = p.uncond ? 0 : 1;
    const branchesAt = (i: number): number[] => [0, 1, 2].slice(firstBranch, p.useRefBranch && !p.dropped[i] ? 3 : 2);
    const sampler = await this.session();
    const owned = new Set<ort.Tensor>();
    const own = <U extends ort.Tensor>(x: U): U => (owned.add(x), x);
    const drop = (x: ort.Tensor) => {
      if (owned.delete(x)) x.dispose();
    };
    const staticFeeds = new Map<number, Record<string, ort.Tensor>>();
    const stepMs: number[] = [];
    let plan = p.plans(p.hasStepWindows ? 0 : undefined);
    let x = own(this.runner.tensor(p.noise, [1, C, h, w]));
    let xBatch = own(this.runner.tensor(repeat(p.noise, branchesAt(0).length), [branchesAt(0).length, C, h, w]));
    try {
      for (let i = 0; i < steps; i++) {
        // Let queued messages (a cancel) in: on WASM a session run never yields to the event loop.
        await yieldToEventLoop();
        events.checkCancel(i);
        const ts = now();
        const branches = branchesAt(i);
        if (p.hasStepWindows) {
          plan = p.plans(steps > 1 ? i / (steps - 1) : 0);
          for (const f of staticFeeds.values()) Object.values(f).forEach(drop);
          staticFeeds.clear();
        }
        // Everything but the latents and the timestep is the same at every step with
        // the same branch count (unless step windows change the plan): made once, on the device.
        let fixed = staticFeeds.get(branches.length);
        if (!fixed) {
          const { own: perRun, shared } = this.staticFeeds(branches, p, plan);
          Object.values(perRun).forEach(own);
          fixed = { ...perRun, ...shared };
          staticFeeds.set(branches.length, fixed);
        }
        const out = await this.runner.run(p.mode === 'cached' ? 'dit_step' : 'dit_step_full', {
          ...fixed,
          latents: xBatch,
          timestep: new ort.Tensor('float32', new Float32Array(branches.length).fill(p.timestep(p.sigmas[i]!)), [branches.length]),
        });
        const velocity = own(out.velocity!);
        const nextBranches = i + 1 < steps ? branchesAt(i + 1).length : 1;
        const all = guidanceWeights(p.textGuidance, branches.includes(2) ? p.refGuidance : 0, branches.includes(2) ? 3 : 2);
        const next = await this.runner.runSession(sampler, {
          latents: x,
          velocity,
          weights: new ort.Tensor('float32', Float32Array.from(branches.map((b) => all[b]!)), [branches.length]),
          dsigma: new ort.Tensor('float32', Float32Array.of(p.sigmas[i + 1]! - p.sigmas[i]!), [1]),
          batch_shape: new ort.Tensor('int64', BigInt64Array.from([nextBranches, C, h, w].map(BigInt)), [4]),
        });
        drop(velocity);
        drop(x);
        drop(xBatch);
        x = own(next.next_latents!);
        xBatch = own(next.next_batch!);
        stepMs.push(now() - ts);
        await events.onStep(i + 1, stepMs[i]!, x);
      }
      await yieldToEventLoop();
      events.checkCancel(steps);
      return { result: await finish(x), stepMs };
    } finally {
      for (const t of owned) t.dispose();
    }
  }
}
