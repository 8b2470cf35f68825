/**
 * A safetensors reader over ByteSource: the header is parsed and checked in full when a file is
 * opened; a tensor read fetches only that tensor's byte range. Sharded checkpoints (an
 * `*.safetensors.index.json` with a `weight_map`) open as one TensorIndex over all their shards.
 *
 * Format: u64 little-endian header length N, N bytes of JSON
 * `{ key: { dtype, shape, data_offsets: [begin, end) }, __metadata__?: { string: string } }`, then the
 * data section; offsets are relative to the data section's start.
 */
import { ConvertError, formatBytes, formatShape } from './errors';
import { normalizePath, readJson, type ByteSource, type FolderSource } from './source';

/** The dtypes whose headers are accepted. Only the float ones convert to Float32Array. */
export type DType = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Readonly<Record<DType, number>> = { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 };
export const FLOAT_DTYPES: readonly DType[] = ['F32', 'F16', 'BF16'];

/** The safetensors format's 100 MB header limit. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  readonly key: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** The file that holds it (its path inside the model folder). */
  readonly file: string;
  /** Absolute byte range [begin, end) in that file. */
  readonly begin: number;
  readonly end: number;
}

export interface RawTensor {
  readonly key: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Little-endian bytes, as stored. */
  readonly bytes: Uint8Array;
}

export interface ReadOptions {
  /** Read only rows [start, end) of dimension 0 (a slice of a large matrix); the result's shape[0] is end - start. */
  rows?: readonly [number, number];
}

/** A set of tensors by key: one safetensors file or a sharded checkpoint. */
export interface TensorIndex {
  /** The file (or the index file of a sharded checkpoint), for messages. */
  readonly name: string;
  /** The safetensors files behind it. */
  readonly files: readonly string[];
  /** `__metadata__` of a single file; the index's `metadata` of a sharded one (values as strings). */
  readonly metadata: Readonly<Record<string, string>>;
  keys(): string[];
  has(key: string): boolean;
  /** The tensor's dtype, shape and place; throws 'missing-key'. */
  info(key: string): TensorInfo;
  /** The stored bytes of one tensor (any accepted dtype). */
  readTensorRaw(key: string, options?: ReadOptions): Promise<RawTensor>;
  /** One float tensor as Float32Array (F16 and BF16 widened exactly); 'unsupported-dtype' for integer tensors. */
  readTensor(key: string, options?: ReadOptions): Promise<Float32Array>;
}

const FORMAT_DTYPES_REJECTED: Readonly<Record<string, string>> = {
  F64: 'fp64 weights: use an fp32, fp16 or bf16 download',
  F8_E4M3: 'an fp8 checkpoint: use the fp16 or bf16 download',
  F8_E5M2: 'an fp8 checkpoint: use the fp16 or bf16 download',
  F8_E8M0: 'an fp8 checkpoint: use the fp16 or bf16 download',
  F4: 'a 4-bit checkpoint: use the fp16 or bf16 download',
  F6_E2M3: 'a 6-bit checkpoint: use the fp16 or bf16 download',
  F6_E3M2: 'a 6-bit checkpoint: use the fp16 or bf16 download',
};

function isDType(value: string): value is DType {
  return Object.prototype.hasOwnProperty.call(DTYPE_BYTES, value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function missingKey(name: string, key: string): ConvertError {
  return new ConvertError('missing-key', `key ${key} is missing from ${name}`, { file: name, key });
}

/** Checks a rows option against a tensor and returns the absolute byte range and the result's shape. */
function sliceRange(info: TensorInfo, options: ReadOptions | undefined): { begin: number; end: number; shape: number[] } {
  const rows = options?.rows;
  if (rows === undefined) return { begin: info.begin, end: info.end, shape: [...info.shape] };
  const [start, stop] = rows;
  const dim0 = info.shape[0];
  if (dim0 === undefined || !Number.isSafeInteger(start) || !Number.isSafeInteger(stop) || start < 0 || stop < start || stop > dim0) {
    throw new RangeError(`${info.file}: cannot read rows [${start}, ${stop}) of key ${info.key} with shape ${formatShape(info.shape)}`);
  }
  const rowBytes = dim0 === 0 ? 0 : (info.end - info.begin) / dim0;
  return { begin: info.begin + start * rowBytes, end: info.begin + stop * rowBytes, shape: [stop - start, ...info.shape.slice(1)] };
}

async function readRaw(source: ByteSource, info: TensorInfo, options: ReadOptions | undefined): Promise<RawTensor> {
  const { begin, end, shape } = sliceRange(info, options);
  const bytes = await source.read(begin, end);
  if (bytes.byteLength !== end - begin) {
    throw new ConvertError('read-failed', `${info.file}: reading key ${info.key} returned ${formatBytes(bytes.byteLength)} bytes instead of ${formatBytes(end - begin)}`, {
      file: info.file,
      key: info.key,
    });
  }
  return { key: info.key, dtype: info.dtype, shape, bytes };
}

/** One safetensors file. Open with openSafetensors. */
export class SafetensorsFile implements TensorIndex {
  readonly name: string;
  readonly files: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  /** Where the data section starts (8 + header length). */
  readonly dataStart: number;
  private readonly source: ByteSource;
  private readonly tensors: ReadonlyMap<string, TensorInfo>;

  constructor(source: ByteSource, dataStart: number, tensors: ReadonlyMap<string, TensorInfo>, metadata: Record<string, string>) {
    this.source = source;
    this.name = source.name;
    this.files = [source.name];
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  keys(): string[] {
    return [...this.tensors.keys()];
  }

  has(key: string): boolean {
    return this.tensors.has(key);
  }

  info(key: string): TensorInfo {
    const info = this.tensors.get(key);
    if (info === undefined) throw missingKey(this.name, key);
    return info;
  }

  readTensorRaw(key: string, options?: ReadOptions): Promise<RawTensor> {
    return readRaw(this.source, this.info(key), options);
  }

  async readTensor(key: string, options?: ReadOptions): Promise<Float32Array> {
    const info = this.info(key);
    if (!FLOAT_DTYPES.includes(info.dtype)) {
      throw new ConvertError('unsupported-dtype', `key ${key} in ${this.name} has dtype ${info.dtype}; only F32, F16 and BF16 tensors convert to float`, {
        file: this.name,
        key,
      });
    }
    const raw = await readRaw(this.source, info, options);
    return toFloat32(raw.dtype, raw.bytes);
  }
}

function parseHeaderJson(name: string, bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new ConvertError('bad-json', `${name}: the header is not UTF-8 text (this is not a safetensors file, or it is damaged)`, { file: name, cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ConvertError('bad-json', `${name}: the header is not valid JSON (${(cause as Error).message}); this is not a safetensors file, or it is damaged`, {
      file: name,
      cause,
    });
  }
  if (!isRecord(parsed)) throw new ConvertError('bad-json', `${name}: the header is not a JSON object`, { file: name });
  return parsed;
}

function parseEntry(name: string, key: string, value: unknown, dataStart: number): TensorInfo {
  const bad = (what: string): ConvertError => new ConvertError('bad-json', `${name}: the header entry for key ${key} ${what}`, { file: name, key });
  if (!isRecord(value)) throw bad('is not an object');
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') throw bad('has no dtype');
  if (!Array.isArray(shape) || !shape.every((d): d is number => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw bad(`has shape ${JSON.stringify(shape)}: a shape is a list of non-negative integers`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o): o is number => Number.isSafeInteger(o) && (o as number) >= 0)
  ) {
    throw bad(`has data_offsets ${JSON.stringify(offsets)}: they are two non-negative integers [begin, end)`);
  }
  if (!isDType(dtype)) {
    const hint = FORMAT_DTYPES_REJECTED[dtype];
    throw new ConvertError(
      'unsupported-dtype',
      `unsupported dtype ${dtype} for key ${key} in ${name}: the studio reads F32, F16 and BF16 weights${hint ? ` (${hint})` : ''}`,
      { file: name, key },
    );
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) {
    throw new ConvertError('offsets', `${name}: key ${key} has data_offsets [${begin}, ${end}): the end is before the begin`, { file: name, key });
  }
  const need = DTYPE_BYTES[dtype] * elementCount(shape);
  if (end - begin !== need) {
    throw new ConvertError(
      'offsets',
      `${name}: key ${key} has data_offsets [${formatBytes(begin)}, ${formatBytes(end)}) holding ${formatBytes(end - begin)} bytes, but ${dtype} ${formatShape(shape)} needs ${formatBytes(need)}`,
      { file: name, key },
    );
  }
  return { key, dtype, shape, file: name, begin: dataStart + begin, end: dataStart + end };
}

/** Opens one safetensors file: reads its header (two small reads) and checks every entry. */
export async function openSafetensors(source: ByteSource): Promise<SafetensorsFile> {
  const name = source.name;
  if (source.size < 8) {
    throw new ConvertError('truncated', `${name} is truncated: it has ${formatBytes(source.size)} bytes, less than the 8-byte header length a safetensors file starts with`, {
      file: name,
    });
  }
  const lengthBytes = await source.read(0, 8);
  const view = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > source.size - 8) {
    throw new ConvertError(
      'header-size',
      `${name}: the header length says ${formatBytes(headerLength)} bytes, but the file has only ${formatBytes(source.size - 8)} bytes after it (it is not a safetensors file, or it is cut off inside its header)`,
      { file: name },
    );
  }
  if (headerLength > MAX_HEADER_BYTES) {
    throw new ConvertError('header-size', `${name}: the header length says ${formatBytes(headerLength)} bytes, more than the ${formatBytes(MAX_HEADER_BYTES)} the safetensors format allows`, {
      file: name,
    });
  }
  const dataStart = 8 + headerLength;
  const header = parseHeaderJson(name, await source.read(8, dataStart));

  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [key, value] of Object.entries(header)) {
    if (key === '__metadata__') {
      if (!isRecord(value)) throw new ConvertError('bad-json', `${name}: __metadata__ in the header is not an object`, { file: name });
      for (const [k, v] of Object.entries(value)) metadata[k] = typeof v === 'string' ? v : JSON.stringify(v);
      continue;
    }
    tensors.set(key, parseEntry(name, key, value, dataStart));
  }

  // No two tensors may share bytes (empty tensors share nothing). Gaps are tolerated.
  const ranges = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin || a.end - b.end);
  let previous: TensorInfo | undefined;
  for (const t of ranges) {
    if (previous !== undefined && t.begin < previous.end) {
      const rel = (x: TensorInfo): string => `[${formatBytes(x.begin - dataStart)}, ${formatBytes(x.end - dataStart)})`;
      throw new ConvertError('offsets', `${name}: keys ${previous.key} ${rel(previous)} and ${t.key} ${rel(t)} overlap`, { file: name, key: t.key });
    }
    if (previous === undefined || t.end > previous.end) previous = t;
  }

  const dataLength = source.size - dataStart;
  const used = ranges.reduce((m, t) => Math.max(m, t.end - dataStart), 0);
  if (used > dataLength) {
    // Named so that a header which lies about one tensor can be told from a download cut short.
    const cut = ranges.filter((t) => t.end - dataStart > dataLength);
    const first = cut[0]!;
    const which = cut.length === 1 ? `key ${first.key} lies` : `${formatBytes(cut.length)} tensors from key ${first.key} on lie`;
    throw new ConvertError(
      'truncated',
      `${name} is truncated: the header says the data is ${formatBytes(used)} bytes, the file has ${formatBytes(dataLength)}, so ${which} past its end. It was probably cut off while downloading: download it again`,
      { file: name, key: first.key },
    );
  }
  if (used < dataLength) {
    throw new ConvertError(
      'offsets',
      `${name}: the header says the data is ${formatBytes(used)} bytes, the file has ${formatBytes(dataLength)} (${formatBytes(dataLength - used)} bytes that no tensor uses)`,
      { file: name },
    );
  }
  return new SafetensorsFile(source, dataStart, tensors, metadata);
}

function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** A sharded checkpoint: every key of every shard, looked up through one object. */
class ShardedCheckpoint implements TensorIndex {
  readonly name: string;
  readonly files: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  private readonly byKey: ReadonlyMap<string, SafetensorsFile>;

  constructor(name: string, shards: readonly SafetensorsFile[], byKey: ReadonlyMap<string, SafetensorsFile>, metadata: Record<string, string>) {
    this.name = name;
    this.files = shards.map((s) => s.name);
    this.byKey = byKey;
    this.metadata = metadata;
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  private shard(key: string): SafetensorsFile {
    const shard = this.byKey.get(key);
    if (shard === undefined) throw missingKey(this.name, key);
    return shard;
  }

  info(key: string): TensorInfo {
    return this.shard(key).info(key);
  }

  readTensorRaw(key: string, options?: ReadOptions): Promise<RawTensor> {
    return this.shard(key).readTensorRaw(key, options);
  }

  readTensor(key: string, options?: ReadOptions): Promise<Float32Array> {
    return this.shard(key).readTensor(key, options);
  }
}

/**
 * Opens a sharded checkpoint from its index (`model.safetensors.index.json`,
 * `diffusion_pytorch_model.safetensors.index.json`, ...); shard names in its weight_map are relative
 * to the index's folder. Every shard's header is read and checked.
 */
export async function openShardedSafetensors(folder: FolderSource, indexPath: string): Promise<TensorIndex> {
  const path = normalizePath(indexPath);
  const source = folder.open(path);
  if (source === undefined) throw new ConvertError('missing-file', `${path} is missing`, { file: path });
  const index = await readJson(source);
  if (!isRecord(index) || !isRecord(index.weight_map)) {
    throw new ConvertError('bad-json', `${path} has no weight_map object: it is not a safetensors index`, { file: path });
  }
  const weightMap = index.weight_map;
  const dir = dirname(path);
  const perShard = new Map<string, string[]>();
  for (const [key, file] of Object.entries(weightMap)) {
    if (typeof file !== 'string') {
      throw new ConvertError('bad-json', `${path}: weight_map puts key ${key} in ${JSON.stringify(file)}, which is not a file name`, { file: path, key });
    }
    const shardPath = normalizePath(dir === '' ? file : `${dir}/${file}`);
    perShard.set(shardPath, [...(perShard.get(shardPath) ?? []), key]);
  }
  if (perShard.size === 0) throw new ConvertError('bad-json', `${path}: weight_map is empty`, { file: path });

  const shardSources: ByteSource[] = [];
  for (const [shardPath, keys] of perShard) {
    const shard = folder.open(shardPath);
    if (shard === undefined) {
      throw new ConvertError('missing-file', `${shardPath} is missing (${path} lists ${formatBytes(keys.length)} keys in it)`, { file: shardPath });
    }
    shardSources.push(shard);
  }
  const shards = await Promise.all(shardSources.map((s) => openSafetensors(s)));

  const byKey = new Map<string, SafetensorsFile>();
  for (const shard of shards) {
    for (const key of shard.keys()) {
      const other = byKey.get(key);
      if (other !== undefined) {
        throw new ConvertError('duplicate-key', `key ${key} is in two shards of ${path}: ${other.name} and ${shard.name}`, { file: shard.name, key });
      }
      byKey.set(key, shard);
    }
  }
  for (const [shardPath, keys] of perShard) {
    for (const key of keys) {
      if (byKey.get(key)?.name !== shardPath) {
        throw new ConvertError('missing-key', `key ${key} is missing from ${shardPath} (${path} says it is there)`, { file: shardPath, key });
      }
    }
  }
  const metadata: Record<string, string> = {};
  if (isRecord(index.metadata)) for (const [k, v] of Object.entries(index.metadata)) metadata[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return new ShardedCheckpoint(path, shards, byKey, metadata);
}

/** Opens `path` in `folder` as a checkpoint: an index (*.index.json, sharded) or one safetensors file. */
export async function openCheckpoint(folder: FolderSource, path: string): Promise<TensorIndex> {
  if (path.endsWith('.json')) return openShardedSafetensors(folder, path);
  const source = folder.open(path);
  if (source === undefined) throw new ConvertError('missing-file', `${normalizePath(path)} is missing`, { file: normalizePath(path) });
  return openSafetensors(source);
}

/** Expected dimensions; null matches any size. */
export type ExpectedShape = readonly (number | null)[];

/**
 * For converters: the tensor's info after checking it exists ('missing-key'), has the expected shape
 * ('bad-shape') and, by default, a float dtype ('unsupported-dtype').
 */
export function expectTensor(reader: TensorIndex, key: string, shape: ExpectedShape, options: { dtypes?: readonly DType[] } = {}): TensorInfo {
  if (!reader.has(key)) throw missingKey(reader.name, key);
  const info = reader.info(key);
  const ok = info.shape.length === shape.length && shape.every((d, i) => d === null || d === info.shape[i]);
  if (!ok) {
    throw new ConvertError('bad-shape', `key ${key} has shape ${formatShape(info.shape)}, expected ${formatShape(shape)} (in ${info.file})`, {
      file: info.file,
      key,
    });
  }
  const dtypes = options.dtypes ?? FLOAT_DTYPES;
  if (!dtypes.includes(info.dtype)) {
    throw new ConvertError('unsupported-dtype', `key ${key} in ${info.file} has dtype ${info.dtype}, expected ${dtypes.join(' or ')}`, { file: info.file, key });
  }
  return info;
}

// ---------------------------------------------------------------------------------------------------
// Float widening

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let f16Table: Uint32Array | undefined;

/** f32 bit patterns of all 65536 half floats (exact: subnormals, signed zeros, inf, NaN payloads). */
function halfTable(): Uint32Array {
  if (f16Table !== undefined) return f16Table;
  const table = new Uint32Array(65536);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) {
      f[0] = mant * 2 ** -24; // zero or subnormal: exact in f32
      table[h] = (u[0]! | sign) >>> 0;
    } else if (exp === 31) {
      table[h] = (sign | 0x7f800000 | (mant << 13)) >>> 0;
    } else {
      table[h] = (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
    }
  }
  f16Table = table;
  return table;
}

/** The f32 value of one IEEE half (binary16) bit pattern. */
export function halfToFloat(bits: number): number {
  const f = new Float32Array(new Uint32Array([halfTable()[bits & 0xffff]!]).buffer);
  return f[0]!;
}

/** The f32 value of one bfloat16 bit pattern. */
export function bfloat16ToFloat(bits: number): number {
  return new Float32Array(new Uint32Array([(bits & 0xffff) << 16]).buffer)[0]!;
}

/** Little-endian u16 values of bytes (a view when aligned on a little-endian host). */
function u16s(bytes: Uint8Array): Uint16Array {
  const n = bytes.byteLength >> 1;
  if (LITTLE_ENDIAN) {
    const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
    return new Uint16Array(aligned.buffer, aligned.byteOffset, n);
  }
  const out = new Uint16Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getUint16(2 * i, true);
  return out;
}

/** Widens stored float bytes (little-endian F32, F16 or BF16) to a Float32Array. */
export function toFloat32(dtype: DType, bytes: Uint8Array): Float32Array {
  if (dtype === 'F32') {
    const n = bytes.byteLength >> 2;
    if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
    const out = new Float32Array(n);
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
    else {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
    }
    return out;
  }
  if (dtype === 'F16') {
    const src = u16s(bytes);
    const table = halfTable();
    const out = new Uint32Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = table[src[i]!]!;
    return new Float32Array(out.buffer);
  }
  if (dtype === 'BF16') {
    const src = u16s(bytes);
    const out = new Uint32Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = src[i]! << 16;
    return new Float32Array(out.buffer);
  }
  throw new ConvertError('unsupported-dtype', `dtype ${dtype} does not convert to float`);
}
