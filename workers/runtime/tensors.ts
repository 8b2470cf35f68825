/** Conversions between posted plain tensors and onnxruntime-web tensors. */
import * as ort from 'onnxruntime-web';
import { DTYPES, type DType } from '../pack/manifest';
import { checkPlainTensor, type AnyTypedArray, type PlainTensor } from './dtypes';

export function toOrtTensor(name: string, t: PlainTensor): ort.Tensor {
  checkPlainTensor(name, t);
  // The constructor's overloads are per dtype; the union is checked above.
  return new ort.Tensor(t.dtype, t.data as Float32Array, t.dims);
}

function isDType(type: string): type is DType {
  return (DTYPES as readonly string[]).includes(type);
}

/** Copies an output tensor (CPU or GPU resident) into a plain tensor. */
export async function fromOrtTensor(name: string, t: ort.Tensor): Promise<PlainTensor> {
  if (!isDType(t.type)) throw new Error(`output "${name}" has dtype ${t.type}, which the engine does not read`);
  // Every DType is stored in a typed array (only 'string' tensors are not, and isDType excludes them).
  const data = (await t.getData(true)) as AnyTypedArray;
  // Outputs are transferred to the main thread, so each must own its whole buffer.
  const owned = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
  return { dtype: t.type, dims: [...t.dims], data: owned } as PlainTensor;
}
