/**
 * Running an IR graph whose weights pass protobuf's 2 GiB limit (klein 4B's widths at fp32: 2.25 GB
 * for 1 + 1 blocks) in onnxruntime-web (WASM, one thread, as the harness runs every graph). Every
 * large initializer becomes its own ONNX external-data "file" whose bytes are the weight's own
 * buffer, handed to the session as it is: no shard is assembled, so the only other copy is the one
 * onnxruntime makes in its heap.
 */
import * as ort from 'onnxruntime-web';
import type { IrGraph } from '../../../packbuild/ir';
import { serializeModelWithExternalData, SharedWeights } from '../../../packbuild/serialize';
import type { Feed } from '../../../packbuild/testing/harness';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

/** A SharedWeights that places each initializer of at least 1 KiB in a file of its own, keeping the bytes where they are. */
class PerTensorFiles extends SharedWeights {
  readonly files: { path: string; data: Uint8Array }[] = [];
  constructor() {
    super({ baseName: 'weights', maxShardBytes: Number.MAX_SAFE_INTEGER, minTensorBytes: 1024, align: 1 });
  }
  override place(raw: Uint8Array): { file: string; offset: number } | null {
    if (raw.byteLength < 1024) return null;
    const path = `w${this.files.length}.bin`;
    this.files.push({ path, data: raw });
    return { file: path, offset: 0 };
  }
}

/** A session of `graph` with its weights as external data (release it when done). */
export async function createLargeSession(graph: IrGraph): Promise<ort.InferenceSession> {
  const files = new PerTensorFiles();
  const { model } = serializeModelWithExternalData(graph, files);
  return ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', externalData: files.files });
}

export async function runSession(session: ort.InferenceSession, feeds: Record<string, Feed>): Promise<Record<string, { dims: readonly number[]; data: Float32Array }>> {
  const inputs: Record<string, ort.Tensor> = {};
  for (const [name, f] of Object.entries(feeds)) inputs[name] = new ort.Tensor(f.type, f.data, f.dims);
  const out = await session.run(inputs);
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { dims: t.dims, data: t.data as Float32Array }]));
}

export interface LargeRun {
  outputs: Record<string, { dims: readonly number[]; data: Float32Array }>;
  /** Serialising the graph and creating its session (the first session in a process also grows the WASM heap). */
  sessionMs: number;
  runMs: number;
}

/** runGraph (packbuild/testing/harness.ts) for a graph of any size: one session, one run, released. */
export async function runLargeGraph(graph: IrGraph, feeds: Record<string, Feed>): Promise<LargeRun> {
  const t0 = performance.now();
  const session = await createLargeSession(graph);
  const t1 = performance.now();
  try {
    const outputs = await runSession(session, feeds);
    return { outputs, sessionMs: t1 - t0, runMs: performance.now() - t1 };
  } finally {
    await session.release();
  }
}
