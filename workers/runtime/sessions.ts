/**
 * One onnxruntime-web session per graph of the loaded pack, created on first
 * use. Callers serialise access (see SerialQueue).
 */
import * as ort from 'onnxruntime-web';
import { SHARED_WEIGHT_GROUPS, type AttentionKind, type GraphRole, type GraphSpec } from '../pack/manifest';
import type { LoadedPack } from '../pack/loader';
import type { Backend } from './backend-types';

const keyOf = (role: GraphRole, attention: AttentionKind) => `${role}/${attention}`;

/**
 * Graphs whose outputs feed the next step directly: on WebGPU their outputs
 * stay in GPU buffers (the engine reads back only what the UI needs).
 */
const GPU_RESIDENT_OUTPUTS: ReadonlySet<GraphRole> = new Set(['dit_step', 'dit_step_full']);

function checkIo(spec: GraphSpec, session: ort.InferenceSession): void {
  const sameNames = (declared: { name: string }[], actual: readonly string[]) =>
    declared.length === actual.length && declared.every((t) => actual.includes(t.name));
  const problems: string[] = [];
  if (!sameNames(spec.inputs, session.inputNames)) {
    problems.push(`inputs [${session.inputNames.join(', ')}], the manifest says [${spec.inputs.map((t) => t.name).join(', ')}]`);
  }
  if (!sameNames(spec.outputs, session.outputNames)) {
    problems.push(`outputs [${session.outputNames.join(', ')}], the manifest says [${spec.outputs.map((t) => t.name).join(', ')}]`);
  }
  if (problems.length) {
    throw new Error(`graph ${keyOf(spec.role, spec.attention)} (${spec.file}) has ${problems.join('; ')}`);
  }
}

export class GraphSessions {
  private readonly sessions = new Map<string, ort.InferenceSession>();

  constructor(
    private readonly pack: LoadedPack,
    readonly backend: Backend,
  ) {}

  /** The loaded graph of `role`; it must have the asked attention kind (the load chose one per role). */
  spec(role: GraphRole, attention: AttentionKind): GraphSpec {
    const m = this.pack.manifest;
    const loaded = this.pack.graphs.get(role);
    if (loaded?.attention === attention) return loaded;
    if (!m.graphs.some((g) => g.role === role && g.attention === attention)) {
      const have = m.graphs.filter((g) => g.role === role).map((g) => g.attention);
      throw new Error(`pack ${m.name} has no ${role} graph with ${attention} attention (it has: ${have.join(', ') || 'none'})`);
    }
    throw new Error(`pack ${m.name}: the ${role} graph with ${attention} attention was not loaded (this engine loaded ${loaded ? loaded.attention : 'none'})`);
  }

  async get(role: GraphRole, attention: AttentionKind): Promise<ort.InferenceSession> {
    const key = keyOf(role, attention);
    const existing = this.sessions.get(key);
    if (existing) return existing;
    const spec = this.spec(role, attention);
    await this.releaseSharers(role);
    let session: ort.InferenceSession;
    try {
      // The weights are handed over as Blobs (OPFS files or picked files): onnxruntime reads each once.
      const model = new Uint8Array(await (await this.pack.files.blob(spec.file)).arrayBuffer());
      const externalData = await Promise.all(spec.externalData.map(async (s) => ({ path: s.file, data: await this.pack.files.blob(s.file) })));
      session = await ort.InferenceSession.create(model, {
        executionProviders: [this.backend],
        graphOptimizationLevel: 'all',
        preferredOutputLocation: this.backend === 'webgpu' && GPU_RESIDENT_OUTPUTS.has(role) ? 'gpu-buffer' : 'cpu',
        ...(externalData.length ? { externalData } : {}),
      });
    } catch (e) {
      throw new Error(`graph ${key} (${spec.file}) could not be loaded on ${this.backend}: ${(e as Error).message}`, { cause: e });
    }
    try {
      checkIo(spec, session);
    } catch (e) {
      await session.release();
      throw e;
    }
    this.sessions.set(key, session);
    return session;
  }

  /** Releases the live sessions that hold the same weights as `role` (its weight group), so those weights are never resident twice. */
  private async releaseSharers(role: GraphRole): Promise<void> {
    const sharers = new Set(SHARED_WEIGHT_GROUPS.filter((g) => g.includes(role)).flat());
    sharers.delete(role);
    for (const [key, session] of [...this.sessions]) {
      if (!sharers.has(key.split('/')[0] as GraphRole)) continue;
      this.sessions.delete(key);
      this.swaps++;
      await session.release();
    }
  }

  /** Sessions released to make room for another of their weight group (a measure of load/release churn). */
  swaps = 0;

  /** The graphs the pack load chose (one per role), whether or not their sessions exist. */
  loadedGraphs(): GraphSpec[] {
    return [...this.pack.graphs.values()];
  }

  /** The graphs whose sessions exist, for counting the weight bytes they hold. */
  createdSpecs(): GraphSpec[] {
    return [...this.sessions.keys()].map((k) => {
      const [role, attention] = k.split('/') as [GraphRole, AttentionKind];
      return this.spec(role, attention);
    });
  }

  /** Keys (role/attention) of the sessions created so far. */
  created(): string[] {
    return [...this.sessions.keys()];
  }

  async releaseAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.release()));
  }
}
