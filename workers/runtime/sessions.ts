/**
 * One onnxruntime-web session per graph of the loaded pack, created on first
 * use. Callers serialise access (see SerialQueue).
 */
import * as ort from 'onnxruntime-web';
import type { AttentionKind, GraphRole, GraphSpec } from '../pack/manifest';
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

  spec(role: GraphRole, attention: AttentionKind): GraphSpec {
    const spec = this.pack.manifest.graphs.find((g) => g.role === role && g.attention === attention);
    if (!spec) {
      const have = this.pack.manifest.graphs.filter((g) => g.role === role).map((g) => g.attention);
      throw new Error(`pack ${this.pack.manifest.name} has no ${role} graph with ${attention} attention (it has: ${have.join(', ') || 'none'})`);
    }
    return spec;
  }

  async get(role: GraphRole, attention: AttentionKind): Promise<ort.InferenceSession> {
    const key = keyOf(role, attention);
    const existing = this.sessions.get(key);
    if (existing) return existing;
    const spec = this.spec(role, attention);
    const bytes = this.pack.files.get(spec.file);
    if (!bytes) throw new Error(`graph ${key}: the bytes of ${spec.file} are not loaded`);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: [this.backend],
        graphOptimizationLevel: 'all',
        preferredOutputLocation: this.backend === 'webgpu' && GPU_RESIDENT_OUTPUTS.has(role) ? 'gpu-buffer' : 'cpu',
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
    // The session holds its own copy of the weights now.
    this.pack.files.delete(spec.file);
    return session;
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
