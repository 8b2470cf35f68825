/**
 * A tiny graph run on a backend before it is trusted: creating a session and
 * running it proves the runtime loaded and the execution provider works.
 */
import * as ort from 'onnxruntime-web';
import { encodeTinyModel } from './tiny-onnx';

const PROBE_INPUT = [1, -2, 0.5, 3];

/** y = (x + x) * x, i.e. 2x². */
export function probeModel(): Uint8Array {
  return encodeTinyModel({
    name: 'probe',
    inputs: [{ name: 'x', dtype: 'float32', shape: [PROBE_INPUT.length] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [PROBE_INPUT.length] }],
    nodes: [
      { op: 'Add', inputs: ['x', 'x'], outputs: ['twice'] },
      { op: 'Mul', inputs: ['twice', 'x'], outputs: ['y'] },
    ],
  });
}

/** Creates and runs the probe graph on `executionProvider`; throws with the reason when it does not work. */
export async function runProbe(executionProvider: 'webgpu' | 'wasm'): Promise<void> {
  const session = await ort.InferenceSession.create(probeModel(), { executionProviders: [executionProvider] });
  try {
    const x = new ort.Tensor('float32', Float32Array.from(PROBE_INPUT), [PROBE_INPUT.length]);
    const { y } = await session.run({ x });
    const got = Array.from((await y!.getData()) as Float32Array);
    const want = PROBE_INPUT.map((v) => 2 * v * v);
    if (got.some((v, i) => Math.abs(v - want[i]!) > 1e-6)) {
      throw new Error(`probe graph gave wrong numbers on ${executionProvider}: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    }
  } finally {
    await session.release();
  }
}
