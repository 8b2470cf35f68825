import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { probeModel, runProbe } from './probe';
import { encodeTinyModel } from './tiny-onnx';

describe('tiny ONNX writer (run by onnxruntime-web in Node, WASM)', () => {
  it('writes the probe graph, which computes 2x²', async () => {
    const session = await ort.InferenceSession.create(probeModel(), { executionProviders: ['wasm'] });
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    const { y } = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, -2, 0.5, 3]), [4]) });
    expect(Array.from(y!.data as Float32Array)).toEqual([2, 8, 0.5, 18]);
    await session.release();
  });

  it('writes initializers, attributes and symbolic dimensions', async () => {
    // y = Transpose(x) @ W with a symbolic batch: exercises ints attributes, raw weights and dim_param.
    const model = encodeTinyModel({
      name: 'weights',
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 'batch'] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 3] }],
      initializers: [{ name: 'W', dims: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
      nodes: [
        { op: 'Transpose', inputs: ['x'], outputs: ['xt'], attributes: [{ name: 'perm', ints: [1, 0] }] },
        { op: 'MatMul', inputs: ['xt', 'W'], outputs: ['mm'] },
        { op: 'LeakyRelu', inputs: ['mm'], outputs: ['y'], attributes: [{ name: 'alpha', f: 0.5 }] },
      ],
    });
    const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    // x columns are the batch rows: [1, 0] and [0, -1].
    const { y } = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 0, 0, -1]), [2, 2]) });
    expect(y!.dims).toEqual([2, 3]);
    expect(Array.from(y!.data as Float32Array)).toEqual([1, 2, 3, -2, -2.5, -3]);
    await session.release();
  });

  it('runProbe passes on the WASM backend', async () => {
    await expect(runProbe('wasm')).resolves.toBeUndefined();
  });
});
