import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import type { PlainTensor } from './dtypes';
import { fromOrtTensor, toOrtTensor } from './tensors';

describe('tensor conversions', () => {
  const cases: PlainTensor[] = [
    { dtype: 'float32', dims: [2, 2], data: Float32Array.from([0.25, -1, 3, 4]) },
    { dtype: 'int64', dims: [1, 3], data: BigInt64Array.from([1n, 2n ** 40n, -5n]) },
    { dtype: 'int32', dims: [2], data: Int32Array.from([7, -7]) },
    { dtype: 'float16', dims: [1], data: Uint16Array.from([0x3c00]) },
    { dtype: 'bool', dims: [3], data: Uint8Array.from([1, 0, 1]) },
  ];

  it.each(cases)('round-trips $dtype', async (t) => {
    const back = await fromOrtTensor('t', toOrtTensor('t', t));
    expect(back.dtype).toBe(t.dtype);
    expect(back.dims).toEqual(t.dims);
    expect(Array.from(back.data as ArrayLike<number | bigint>)).toEqual(Array.from(t.data as ArrayLike<number | bigint>));
  });

  it('refuses inconsistent tensors before they reach the runtime', () => {
    expect(() => toOrtTensor('latent', { dtype: 'float32', dims: [1, 4, 16, 16], data: new Float32Array(10) })).toThrow(
      'tensor "latent": dims [1,4,16,16] need 1024 elements, data has 10',
    );
  });

  it('gives each output a buffer of its own, so it can be transferred', async () => {
    const big = new Float32Array(8);
    const view = new ort.Tensor('float32', big.subarray(2, 6), [4]);
    const plain = await fromOrtTensor('y', view);
    expect(plain.data.byteLength).toBe(plain.data.buffer.byteLength);
  });

  it('refuses output dtypes the engine does not read', async () => {
    await expect(fromOrtTensor('names', new ort.Tensor('string', ['a'], [1]))).rejects.toThrow(
      'output "names" has dtype string, which the engine does not read',
    );
  });
});
