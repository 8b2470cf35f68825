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

export class GraphRunner {
  /** Milliseconds spent inside session.run. */
  sessionMs = 0;

  constructor(
    private readonly sessions: SessionProvider,
    private readonly attention: (role: GraphRole) => AttentionKind,
    private readonly makeTensor?: (data: Float32Array, dims: number[]) => ort.Tensor,
  ) {}

  async run(role: GraphRole, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    return this.runSession(await this.sessions.get(role, this.attention(role)), feeds);
  }

  async runSession(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    const t0 = now();
    try {
      return await session.run(feeds);
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
