/** Test helper: an int64 .npy of the reference fixtures (ids, token ids) as numbers (npy.ts reads floats only). */
import { readFile } from 'node:fs/promises';
import { parseNpyHeader } from '../../node/npy';

export async function readInt64Npy(path: string): Promise<{ shape: number[]; data: number[] }> {
  const bytes = new Uint8Array(await readFile(path));
  const headerLength = bytes[8]! | (bytes[9]! << 8);
  const header = parseNpyHeader(new TextDecoder('latin1').decode(bytes.subarray(10, 10 + headerLength)), path);
  if (header.descr !== '<i8') throw new Error(`${path}: dtype ${header.descr}, expected '<i8'`);
  const data = new BigInt64Array(bytes.slice(10 + headerLength).buffer);
  const count = header.shape.reduce((n, d) => n * d, 1);
  if (data.length !== count) throw new Error(`${path}: ${data.length} values for shape (${header.shape.join(', ')})`);
  return { shape: header.shape, data: Array.from(data, Number) };
}
