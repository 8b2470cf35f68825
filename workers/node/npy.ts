/**
 * NumPy .npy files (format versions 1, 2 and 3), for exchanging noise and
 * latents with other implementations. Reads little-endian float32, float64
 * and float16 ('<f4', '<f8', '<f2') in C order into a Float32Array; always
 * writes '<f4', version 1. The header is parsed as data, never evaluated.
 */
import { readFile, writeFile } from 'node:fs/promises';

export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Where a problem lies in an .npy file: its path or "npy data". */
export class NpyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyError';
  }
}

interface Header {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/** Parses the header dict, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 16, 16), }. */
export function parseNpyHeader(text: string, label = 'npy data'): Header {
  const bad = (why: string) => new NpyError(`${label}: unreadable .npy header (${why}): ${JSON.stringify(text.trim())}`);
  const body = text.trim();
  if (!body.startsWith('{') || !body.endsWith('}')) throw bad('not a dict');
  const fields = new Map<string, string>();
  // key: 'name' or "name"; value: a quoted string, True/False, or a tuple.
  const re = /\s*(['"])(\w+)\1\s*:\s*('[^']*'|"[^"]*"|True|False|\([^)]*\))\s*(,|$)/y;
  const inner = body.slice(1, -1);
  re.lastIndex = 0;
  while (re.lastIndex < inner.length) {
    if (/^\s*$/.test(inner.slice(re.lastIndex))) break;
    const m = re.exec(inner);
    if (!m) throw bad(`unexpected text at ${JSON.stringify(inner.slice(re.lastIndex, re.lastIndex + 20))}`);
    fields.set(m[2]!, m[3]!);
  }
  const descr = fields.get('descr');
  const fortran = fields.get('fortran_order');
  const shape = fields.get('shape');
  if (descr === undefined || fortran === undefined || shape === undefined) throw bad('needs descr, fortran_order and shape');
  if (!/^['"]/.test(descr)) throw bad('descr is not a string (structured dtypes are not supported)');
  if (fortran !== 'True' && fortran !== 'False') throw bad('fortran_order is not True or False');
  if (!shape.startsWith('(')) throw bad('shape is not a tuple');
  const dims = shape
    .slice(1, -1)
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  if (!dims.every((d) => /^\d+$/.test(d))) throw bad('shape has a non-integer dimension');
  return { descr: descr.slice(1, -1), fortranOrder: fortran === 'True', shape: dims.map(Number) };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Decodes .npy bytes. `label` names the source in error messages (a path). */
export function decodeNpy(bytes: Uint8Array, label = 'npy data'): NpyArray {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) throw new NpyError(`${label} is not a NumPy .npy file (bad magic)`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyError(`${label}: truncated .npy header`);
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new NpyError(`${label}: .npy format version ${major}.${bytes[7]} is not supported (1, 2 or 3)`);
  }
  if (start + headerLen > bytes.length) throw new NpyError(`${label}: truncated .npy header`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const header = parseNpyHeader(text, label);
  if (header.fortranOrder) throw new NpyError(`${label}: fortran_order arrays are not supported; save it in C order (numpy.ascontiguousarray)`);
  const size: Record<string, number> = { '<f4': 4, '<f8': 8, '<f2': 2 };
  const itemSize = size[header.descr];
  if (!itemSize) throw new NpyError(`${label}: dtype '${header.descr}' is not supported: use little-endian float32 ('<f4'), float64 ('<f8') or float16 ('<f2')`);
  const count = header.shape.reduce((n, d) => n * d, 1);
  const offset = start + headerLen;
  if (bytes.length - offset !== count * itemSize) {
    throw new NpyError(`${label}: shape (${header.shape.join(', ')}) of '${header.descr}' needs ${count * itemSize} data bytes, the file has ${bytes.length - offset}`);
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const at = offset + i * itemSize;
    data[i] = itemSize === 4 ? view.getFloat32(at, true) : itemSize === 8 ? view.getFloat64(at, true) : halfToFloat(view.getUint16(at, true));
  }
  return { shape: header.shape, data };
}

/** Encodes a float32 array as a version 1 .npy file ('<f4', C order). */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((n, d) => n * d, 1);
  if (count !== data.length) throw new NpyError(`shape (${shape.join(', ')}) has ${count} values, the data ${data.length}`);
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${tuple}, }`;
  // Pad with spaces so the data starts on a 64-byte boundary; the header ends with a newline.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  if (header.length > 0xffff) throw new NpyError('shape too long for a version 1 .npy header');
  const out = new Uint8Array(total + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  for (let i = 0; i < data.length; i++) view.setFloat32(total + i * 4, data[i]!, true);
  return out;
}

export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new NpyError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return decodeNpy(bytes, path);
}

export async function writeNpy(path: string, data: Float32Array, shape: readonly number[]): Promise<void> {
  await writeFile(path, encodeNpy(data, shape));
}
