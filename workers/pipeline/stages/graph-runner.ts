/**
 * Runs the pack's graphs for every stage: one place that picks the session
 * (role + attention variant), times session.run, and makes input tensors
 * (on WebGPU uploaded once, so an input fed at every step stays on the GPU).
 */
import * as ort from 'onnxruntime-web';
import type { AttentionKind, GraphRole } from '../../pack/manifest';

export interface SessionProvider {
  get(role: GraphRole, attention: AttentionKind): Promise<ort.InferenceSession>;
}

export function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}

/** Times each pack graph ran (by role): what a generation cost, and proof that cached work was not redone. */
export type GraphRunCounts = Partial<Record<GraphRole, number>>;

export class GraphRunner {
  /** Milliseconds spent inside session.run. */
  sessionMs = 0;
  private readonly counts: GraphRunCounts = {};

  constructor(
    private readonly sessions: SessionProvider,
    private readonly attention: (role: GraphRole) => AttentionKind,
    private readonly makeTensor?: (data: Float32Array, dims: number[]) => ort.Tensor,
  ) {}

  async run(role: GraphRole, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    const session = await this.sessions.get(role, this.attention(role));
    this.counts[role] = (this.counts[role] ?? 0) + 1;
    return this.runSession(session, feeds);
  }

  /** Runs of each pack graph so far (a copy). */
  get runs(): GraphRunCounts {
    return { ...this.counts };
  }

  /** The runs made between two `runs` readings, roles that did not run left out. */
  static runsSince(before: GraphRunCounts, after: GraphRunCounts): GraphRunCounts {
    const out: GraphRunCounts = {};
    for (const [role, n] of Object.entries(after) as [GraphRole, number][]) if (n > (before[role] ?? 0)) out[role] = n - (before[role] ?? 0);
    return out;
  }

  /**
   * Runs a session on the feeds it declares. The stages feed every input of the shared contract;
   * a family's graph that does not take one (FLUX.2 has no pooled text vector) just does not get it
   * (the pack's manifest is checked against its family's contract when it loads).
   */
  async runSession(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    const t0 = now();
    const declared = session.inputNames;
    const used = Object.keys(feeds).every((k) => declared.includes(k)) ? feeds : Object.fromEntries(Object.entries(feeds).filter(([k]) => declared.includes(k)));
    try {
      return await session.run(used);
    } finally {
      this.sessionMs += now() - t0;
    }
  }

  tensor(data: Float32Array, dims: number[]): ort.Tensor {
    return this.makeTensor ? this.makeTensor(data, dims) : new ort.Tensor('float32', data, dims);
  }

  /** The values of a tensor (downloaded when it lives on the GPU); `release` frees its GPU buffer after. */
  static async read(t: ort.Tensor, release = false): Promise<Float32Array> {
    return (await t.getData(release)) as Float32Array;
  }
}
