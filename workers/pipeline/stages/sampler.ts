/**
 * The sampling stage: the batched cross-guidance Euler loop (METHOD.md
 * sections 3 and 7). Each step runs the step graph on [uncond + black
 * reference, text + black reference, text + reference] (the third skipped on
 * dropped steps), then the sampler graph combines the branches and takes the
 * Euler step; the latents stay where the backend keeps them (GPU buffers on
 * WebGPU) from step to step.
 */
import * as ort from 'onnxruntime-web';
import { concatRows } from '../../packbuild/reference/ops';
import type { PackManifest } from '../../pack/manifest';
import type { AttentionPlan } from '../attentionPlan';
import { buildSamplerGraph } from '../samplerGraph';
import { guidanceWeights } from '../schedule';
import type { GraphRunner } from './graph-runner';
import { now } from './graph-runner';
import type { RefInputs } from './reference-encoder';
import type { TextEncoding } from './text-conditioner';

export interface SamplingPlan {
  uncond: TextEncoding;
  cond: TextEncoding;
  /** The attention plans at a step fraction (one plan for every step unless step windows say otherwise). */
  plans: (stepFraction?: number) => { cond: AttentionPlan; uncond: AttentionPlan };
  hasStepWindows: boolean;
  mode: 'cached' | 'full';
  refs: { real: RefInputs; black: RefInputs; total: number } | null;
  /** Sigmas, steps + 1 values; timestep(sigma) is what the transformer takes. */
  sigmas: Float64Array;
  timestep: (sigma: number) => number;
  /** Steps whose reference branch is dropped (the drop ratio). */
  dropped: boolean[];
  useRefBranch: boolean;
  textGuidance: number;
  refGuidance: number;
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

  constructor(
    private readonly runner: GraphRunner,
    private readonly manifest: PackManifest,
    private readonly createSession: (name: string, model: Uint8Array) => Promise<ort.InferenceSession>,
  ) {}

  async dispose(): Promise<void> {
    const s = this.sessionPromise;
    this.sessionPromise = null;
    if (s) await (await s.catch(() => null))?.release();
  }

  private session(): Promise<ort.InferenceSession> {
    this.sessionPromise ??= this.createSession('sampler_step', buildSamplerGraph());
    this.sessionPromise.catch(() => (this.sessionPromise = null));
    return this.sessionPromise;
  }

  /** The step graph's inputs that do not change from step to step, for `branches` batched predictions. */
  private staticFeeds(branches: 2 | 3, p: SamplingPlan, plan: { cond: AttentionPlan; uncond: AttentionPlan }): Record<string, ort.Tensor> {
    const tf = this.manifest.transformer;
    const L = tf.layers;
    const D = tf.hiddenSize;
    const R = plan.cond.refTokens;
    const [C, h, w] = p.latentDims;
    const t = (data: Float32Array, dims: number[]) => this.runner.tensor(data, dims);
    const texts = [p.uncond, p.cond, p.cond].slice(0, branches);
    const biases = [plan.uncond, plan.cond, plan.cond].slice(0, branches);
    // Branches 0 and 1 see the black (dropped) reference, branch 2 the real one.
    const refsFor = (b: number) => (p.refs ? (b === 2 ? p.refs.real : p.refs.black) : null);
    const feeds: Record<string, ort.Tensor> = {
      text_embeddings: t(concat(texts.map((x) => x.embeddings)), [branches, texts[0]!.embeddings.length / tf.textDim, tf.textDim]),
      pooled: t(concat(texts.map((x) => x.pooled)), [branches, tf.pooledDim]),
      attention_bias: t(concat(biases.map((x) => x.bias)), [branches, 1, plan.cond.rows, plan.cond.cols]),
      ref_layer_bias: t(interleaveLayers(biases.map((x) => x.layerBias), L, R), [L, branches, R]),
    };
    if (p.mode === 'cached') {
      const zeros = new Float32Array(L * R * D);
      const kv = (b: number) => refsFor(b) as { k: Float32Array; v: Float32Array } | null;
      feeds.ref_k = t(interleaveLayers(Array.from({ length: branches }, (_, b) => kv(b)?.k ?? zeros), L, R * D), [L, branches, R, D]);
      feeds.ref_v = t(interleaveLayers(Array.from({ length: branches }, (_, b) => kv(b)?.v ?? zeros), L, R * D), [L, branches, R, D]);
    } else {
      const lp = (b: number) => refsFor(b) as { latents: Float32Array; pooled: Float32Array };
      const total = p.refs?.total ?? 0;
      feeds.ref_latents = t(concat(Array.from({ length: branches }, (_, b) => lp(b).latents)), [branches, total, C, h, w]);
      feeds.ref_pooled = t(concat(Array.from({ length: branches }, (_, b) => lp(b).pooled)), [branches, total, tf.pooledDim]);
    }
    return feeds;
  }

  /**
   * Runs every step, then `finish` on the final latents [1, C, h, w] before
   * the tensors this run made are released (whatever happens).
   */
  async sample<T>(p: SamplingPlan, events: StepEvents, finish: (x: ort.Tensor) => Promise<T>): Promise<{ result: T; stepMs: number[] }> {
    const steps = p.sigmas.length - 1;
    const [C, h, w] = p.latentDims;
    const branchesAt = (i: number): 2 | 3 => (p.useRefBranch && !p.dropped[i] ? 3 : 2);
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
    let xBatch = own(this.runner.tensor(repeat(p.noise, branchesAt(0)), [branchesAt(0), C, h, w]));
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
        let fixed = staticFeeds.get(branches);
        if (!fixed) {
          fixed = this.staticFeeds(branches, p, plan);
          Object.values(fixed).forEach(own);
          staticFeeds.set(branches, fixed);
        }
        const out = await this.runner.run(p.mode === 'cached' ? 'dit_step' : 'dit_step_full', {
          ...fixed,
          latents: xBatch,
          timestep: new ort.Tensor('float32', new Float32Array(branches).fill(p.timestep(p.sigmas[i]!)), [branches]),
        });
        const velocity = own(out.velocity!);
        const nextBranches = i + 1 < steps ? branchesAt(i + 1) : 1;
        const next = await this.runner.runSession(sampler, {
          latents: x,
          velocity,
          weights: new ort.Tensor('float32', Float32Array.from(guidanceWeights(p.textGuidance, branches === 3 ? p.refGuidance : 0, branches)), [branches]),
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
