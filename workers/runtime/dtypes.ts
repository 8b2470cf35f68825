/**
 * Tensors as plain data: what crosses the worker boundary (structured clone)
 * and what tests compare. Pure: no onnxruntime-web here, so the UI may import it.
 */
import type { DType } from '../pack/manifest';

export interface TypedArrayByDType {
  float32: Float32Array;
  float16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

export type AnyTypedArray = TypedArrayByDType[DType];

/** A tensor that can be posted between threads. float16 is raw bits; bool is 0/1 bytes. */
export type PlainTensor = {
  [D in DType]: { dtype: D; dims: number[]; data: TypedArrayByDType[D] };
}[DType];

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

/** A typed array of the dtype's storage type built from numbers (int64 values must be safe integers). */
export function typedArrayFrom<D extends DType>(dtype: D, values: ArrayLike<number>): TypedArrayByDType[D] {
  const make = (): AnyTypedArray => {
    switch (dtype) {
      case 'float32':
        return Float32Array.from(values);
      case 'float16':
        return Uint16Array.from(values);
      case 'int64':
        return BigInt64Array.from(Array.from(values), (v) => BigInt(Math.trunc(v)));
      case 'int32':
        return Int32Array.from(values);
      case 'int8':
        return Int8Array.from(values);
      case 'uint8':
      case 'bool':
        return Uint8Array.from(values);
    }
    throw new Error(`unknown dtype ${String(dtype)}`);
  };
  return make() as TypedArrayByDType[D];
}

/** Numbers of a typed array (int64 converted with Number(), exact up to 2^53). */
export function numbersOf(data: AnyTypedArray): number[] {
  return data instanceof BigInt64Array ? Array.from(data, (v) => Number(v)) : Array.from(data);
}

/** Throws unless data has as many elements as dims say and the storage type of dtype. */
export function checkPlainTensor(name: string, t: PlainTensor): void {
  if (!Array.isArray(t.dims) || t.dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`tensor "${name}": dims must be non-negative integers, got ${JSON.stringify(t.dims)}`);
  }
  const expected = typedArrayFrom(t.dtype, []).constructor;
  if (!(t.data instanceof expected)) {
    throw new Error(`tensor "${name}": ${t.dtype} data must be a ${expected.name}, got ${Object.prototype.toString.call(t.data)}`);
  }
  const n = elementCount(t.dims);
  if (t.data.length !== n) {
    throw new Error(`tensor "${name}": dims ${JSON.stringify(t.dims)} need ${n} elements, data has ${t.data.length}`);
  }
}
