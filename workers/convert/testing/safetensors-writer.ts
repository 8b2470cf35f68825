/**
 * Test helpers: writes safetensors files (well-formed, or broken on purpose), converts floats to
 * half / bfloat16 bits, and builds in-memory folders and read-recording sources.
 */
import { bytesSource, folderFromSources, type ByteSource, type FolderSource } from '../source';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of x, rounded to nearest even (overflow to inf, NaN stays NaN). */
export function floatToHalfBits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** bfloat16 bits of x, rounded to nearest even (NaN stays NaN). */
export function floatToBfloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export type WriterDType = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8' | 'BOOL' | (string & {});

export interface TensorSpec {
  dtype: WriterDType;
  shape: number[];
  /** Values (converted to the dtype; F16 / BF16 rounded to nearest even). Default: 0, 1, 2, ... scaled by 1/16. */
  values?: ArrayLike<number>;
  /** F16 / BF16 bit patterns, written as they are. */
  bits?: ArrayLike<number>;
  /** Raw bytes, written as they are (any dtype, any length). */
  raw?: Uint8Array;
}

export interface WriteOptions {
  metadata?: Record<string, string>;
  /** Edits the header object before it is written (break offsets, shapes, dtypes). */
  editHeader?: (header: Record<string, unknown>) => void;
  /** Replaces the header text entirely. */
  headerText?: string;
  /** Replaces the 8-byte header length. */
  headerLength?: number;
  /** Drops this many bytes from the end. */
  truncate?: number;
  /** Appends this many zero bytes. */
  trailing?: number;
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1, F64: 8, F8_E4M3: 1, F8_E5M2: 1 };

function encode(spec: TensorSpec): Uint8Array {
  if (spec.raw !== undefined) return spec.raw;
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const size = BYTES[spec.dtype];
  if (size === undefined) return new Uint8Array(count);
  const out = new Uint8Array(count * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    const v = spec.values?.[i] ?? i / 16;
    const bits = spec.bits?.[i];
    switch (spec.dtype) {
      case 'F32':
        view.setFloat32(4 * i, v, true);
        break;
      case 'F64':
        view.setFloat64(8 * i, v, true);
        break;
      case 'F16':
        view.setUint16(2 * i, bits ?? floatToHalfBits(v), true);
        break;
      case 'BF16':
        view.setUint16(2 * i, bits ?? floatToBfloat16Bits(v), true);
        break;
      case 'I64':
        view.setBigInt64(8 * i, BigInt(Math.trunc(v)), true);
        break;
      case 'I32':
        view.setInt32(4 * i, Math.trunc(v), true);
        break;
      default:
        view.setUint8(i, Math.trunc(v) & 0xff);
    }
  }
  return out;
}

/** A safetensors file: header padded with spaces to a multiple of 8 (as the reference writer does), tensors packed in order. */
export function writeSafetensors(tensors: Record<string, TensorSpec>, options: WriteOptions = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (options.metadata !== undefined) header.__metadata__ = options.metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [key, spec] of Object.entries(tensors)) {
    const data = encode(spec);
    header[key] = { dtype: spec.dtype, shape: spec.shape, data_offsets: [offset, offset + data.byteLength] };
    chunks.push(data);
    offset += data.byteLength;
  }
  options.editHeader?.(header);
  let text = options.headerText ?? JSON.stringify(header);
  if (options.headerText === undefined) text += ' '.repeat((8 - ((new TextEncoder().encode(text).byteLength) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(text);
  const total = 8 + headerBytes.byteLength + offset + (options.trailing ?? 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const length = options.headerLength ?? headerBytes.byteLength;
  view.setUint32(0, length % 2 ** 32, true);
  view.setUint32(4, Math.floor(length / 2 ** 32), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return options.truncate !== undefined ? out.slice(0, total - options.truncate) : out;
}

/** A sharded checkpoint: the index JSON and its shard files, named like the reference writer names them. */
export function writeSharded(
  base: string,
  shards: Record<string, TensorSpec>[],
): Record<string, Uint8Array | string> {
  const files: Record<string, Uint8Array | string> = {};
  const weightMap: Record<string, string> = {};
  shards.forEach((tensors, i) => {
    const name = `${base}-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    files[name] = writeSafetensors(tensors);
    for (const key of Object.keys(tensors)) weightMap[key] = name;
  });
  files[`${base}.safetensors.index.json`] = JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap });
  return files;
}

export type FileContent = Uint8Array | string | Record<string, unknown>;

/** An in-memory folder; strings are UTF-8 text, plain objects are written as JSON. */
export function memoryFolder(files: Record<string, FileContent>): FolderSource {
  return folderFromSources(
    Object.entries(files).map(([path, content]) => {
      const bytes =
        content instanceof Uint8Array ? content : new TextEncoder().encode(typeof content === 'string' ? content : JSON.stringify(content));
      return bytesSource(path, bytes);
    }),
  );
}

/** Wraps a source and records every read [start, end). */
export function recordingSource(source: ByteSource): ByteSource & { reads: [number, number][] } {
  const reads: [number, number][] = [];
  return {
    name: source.name,
    size: source.size,
    reads,
    read(start, end) {
      reads.push([start, end]);
      return source.read(start, end);
    },
  };
}
