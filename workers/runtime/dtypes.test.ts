import { describe, expect, it } from 'vitest';
import { checkPlainTensor, elementCount, numbersOf, typedArrayFrom, type PlainTensor } from './dtypes';

describe('plain tensors', () => {
  it('builds the storage type of each dtype', () => {
    expect(typedArrayFrom('float32', [1.5])).toBeInstanceOf(Float32Array);
    expect(typedArrayFrom('float16', [15360])).toBeInstanceOf(Uint16Array);
    expect(typedArrayFrom('int64', [3, -4])).toEqual(BigInt64Array.from([3n, -4n]));
    expect(typedArrayFrom('int32', [7])).toBeInstanceOf(Int32Array);
    expect(typedArrayFrom('int8', [-7])).toBeInstanceOf(Int8Array);
    expect(typedArrayFrom('uint8', [7])).toBeInstanceOf(Uint8Array);
    expect(typedArrayFrom('bool', [1, 0])).toEqual(Uint8Array.from([1, 0]));
  });

  it('reads numbers back, int64 included', () => {
    expect(numbersOf(typedArrayFrom('int64', [2 ** 40, -1]))).toEqual([2 ** 40, -1]);
    expect(numbersOf(Float32Array.from([0.5, -2]))).toEqual([0.5, -2]);
  });

  it('counts elements', () => {
    expect(elementCount([1, 3, 4])).toBe(12);
    expect(elementCount([])).toBe(1);
  });

  it('accepts a consistent tensor', () => {
    expect(() => checkPlainTensor('x', { dtype: 'float32', dims: [2, 2], data: new Float32Array(4) })).not.toThrow();
  });

  it('rejects wrong sizes, storage types and dims', () => {
    expect(() => checkPlainTensor('x', { dtype: 'float32', dims: [2, 3], data: new Float32Array(4) })).toThrow(
      'tensor "x": dims [2,3] need 6 elements, data has 4',
    );
    const wrongType = { dtype: 'int64', dims: [1], data: new Int32Array(1) } as unknown as PlainTensor;
    expect(() => checkPlainTensor('ids', wrongType)).toThrow('tensor "ids": int64 data must be a BigInt64Array');
    expect(() => checkPlainTensor('x', { dtype: 'uint8', dims: [-1], data: new Uint8Array(0) })).toThrow(/non-negative integers/);
  });
});
