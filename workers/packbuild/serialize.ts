/** Serialises the IR with the ONNX protobuf definitions of the `onnx-proto` package. */
import onnxProto from 'onnx-proto';
import type { AttrValue, Dim, IrDType, IrGraph } from './ir';
import type { onnx as OnnxTypes } from 'onnx-proto';

// onnx-proto is CommonJS: its namespace is a property of the default export.
const { onnx } = onnxProto;

const DATA_TYPE: Record<IrDType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

const IR_VERSION = 8;

function attribute(name: string, a: AttrValue): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}

function valueInfo(v: { name: string; dtype: IrDType; shape: Dim[] }): OnnxTypes.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[v.dtype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Where a graph's weights go when they leave the .onnx file (ONNX external data). */
export interface ExternalDataOptions {
  /** Shard file names are `${baseName}.data`, `${baseName}.1.data`, ...; also the `location` in each TensorProto. */
  baseName: string;
  /** No shard passes this many bytes (a tensor is never split across shards). */
  maxShardBytes: number;
  /** Tensors smaller than this stay inside the .onnx file (shapes, scalars, small norms). */
  minTensorBytes: number;
  /** Each tensor starts at a multiple of this offset inside its shard. */
  align: number;
}

export interface SerializedModel {
  model: Uint8Array;
  /** External-data shards in order; empty when every weight is inside the model. */
  shards: { file: string; bytes: Uint8Array }[];
  /** Bytes of the largest single initializer (it must fit one GPU buffer). */
  largestTensorBytes: number;
}

interface Placement {
  shard: number;
  offset: number;
}

/** Assigns each large initializer a shard and an aligned offset, filling shards in order. */
function placeTensors(g: IrGraph, ext: ExternalDataOptions): { placements: Map<string, Placement>; shardSizes: number[] } {
  const placements = new Map<string, Placement>();
  const shardSizes: number[] = [];
  for (const t of g.initializers) {
    const n = t.raw.byteLength;
    if (n < ext.minTensorBytes) continue;
    if (n > ext.maxShardBytes) throw new Error(`initializer ${t.name} (${n} bytes) is larger than a shard may be (${ext.maxShardBytes} bytes)`);
    let shard = shardSizes.length - 1;
    let offset = shard < 0 ? 0 : Math.ceil(shardSizes[shard]! / ext.align) * ext.align;
    if (shard < 0 || offset + n > ext.maxShardBytes) {
      shardSizes.push(0);
      shard = shardSizes.length - 1;
      offset = 0;
    }
    placements.set(t.name, { shard, offset });
    shardSizes[shard] = offset + n;
  }
  return { placements, shardSizes };
}

const shardName = (ext: ExternalDataOptions, i: number) => (i === 0 ? `${ext.baseName}.data` : `${ext.baseName}.${i}.data`);

/**
 * External-data shards shared by several graphs (the reference, step and full-step graphs of one
 * DiT): a weight is stored once however many graphs use it, recognised by its byte buffer (the
 * graph builders hand every graph the same Uint8Array of a weight). Place every graph's
 * initializers, then write `shards()` once.
 */
export class SharedWeights {
  private readonly placed = new Map<Uint8Array, Placement>();
  /** Placed weights by content (length and FNV-1a), for equal weights in distinct buffers (verified byte by byte). */
  private readonly byContent = new Map<string, { raw: Uint8Array; at: Placement }[]>();
  private readonly contents: { raw: Uint8Array; offset: number }[][] = [];
  private readonly sizes: number[] = [];

  constructor(readonly ext: ExternalDataOptions) {}

  /** Where a weight lives (placing it on first sight), or null when it stays inside the .onnx file. */
  place(raw: Uint8Array, name: string): { file: string; offset: number } | null {
    const ext = this.ext;
    if (raw.byteLength < ext.minTensorBytes) return null;
    let p = this.placed.get(raw);
    const key = p ? '' : contentKey(raw);
    if (!p) p = this.byContent.get(key)?.find((c) => sameBytes(c.raw, raw))?.at;
    if (!p) {
      if (raw.byteLength > ext.maxShardBytes) throw new Error(`initializer ${name} (${raw.byteLength} bytes) is larger than a shard may be (${ext.maxShardBytes} bytes)`);
      let shard = this.sizes.length - 1;
      let offset = shard < 0 ? 0 : Math.ceil(this.sizes[shard]! / ext.align) * ext.align;
      if (shard < 0 || offset + raw.byteLength > ext.maxShardBytes) {
        this.sizes.push(0);
        this.contents.push([]);
        shard = this.sizes.length - 1;
        offset = 0;
      }
      p = { shard, offset };
      this.byContent.set(key, [...(this.byContent.get(key) ?? []), { raw, at: p }]);
      this.contents[shard]!.push({ raw, offset });
      this.sizes[shard] = offset + raw.byteLength;
    }
    this.placed.set(raw, p);
    return { file: shardName(ext, p.shard), offset: p.offset };
  }

  /** Bytes stored (each shared weight once). */
  get bytes(): number {
    return this.sizes.reduce((a, b) => a + b, 0);
  }

  shards(): { file: string; bytes: Uint8Array }[] {
    return this.sizes.map((size, i) => {
      const bytes = new Uint8Array(size);
      for (const c of this.contents[i]!) bytes.set(c.raw, c.offset);
      return { file: shardName(this.ext, i), bytes };
    });
  }
}

function contentKey(raw: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < raw.length; i++) h = Math.imul(h ^ raw[i]!, 0x01000193);
  return `${raw.length}:${h >>> 0}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Serialises a graph. With `ext`, initializers of at least `minTensorBytes`
 * move to external-data shards (TensorProto data_location EXTERNAL, with
 * location/offset/length), so no protobuf and no single file nears 2 GiB.
 * With a SharedWeights store they go to its shards (written by the caller,
 * once for all the graphs that share them; `shards` is then empty and
 * `sharedFiles` names the shards this graph reads).
 */
export function serializeModelWithExternalData(
  g: IrGraph,
  ext?: ExternalDataOptions | SharedWeights,
  producer = 'subject-studio-packbuild',
): SerializedModel & { sharedFiles: string[] } {
  const shared = ext instanceof SharedWeights ? ext : null;
  const own = ext && !(ext instanceof SharedWeights) ? ext : undefined;
  const { placements, shardSizes } = own ? placeTensors(g, own) : { placements: new Map<string, Placement>(), shardSizes: [] };
  const shards = shardSizes.map((size, i) => ({ file: shardName(own!, i), bytes: new Uint8Array(size) }));
  const sharedFiles = new Set<string>();
  const external = (base: OnnxTypes.ITensorProto, file: string, offset: number, length: number): OnnxTypes.ITensorProto => ({
    ...base,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: file },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  });
  const initializer = g.initializers.map((t): OnnxTypes.ITensorProto => {
    const base = { name: t.name, dataType: DATA_TYPE[t.dtype], dims: t.dims };
    if (shared) {
      const at = shared.place(t.raw, t.name);
      if (!at) return { ...base, rawData: t.raw };
      sharedFiles.add(at.file);
      return external(base, at.file, at.offset, t.raw.byteLength);
    }
    const place = placements.get(t.name);
    if (!place) return { ...base, rawData: t.raw };
    shards[place.shard]!.bytes.set(t.raw, place.offset);
    return external(base, shards[place.shard]!.file, place.offset, t.raw.byteLength);
  });
  const model: OnnxTypes.IModelProto = {
    irVersion: IR_VERSION,
    producerName: producer,
    producerVersion: '1',
    opsetImport: Object.entries(g.opsets).map(([domain, version]) => ({ domain, version })),
    graph: {
      name: g.name,
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
      initializer,
      node: g.nodes.map((n) => ({
        name: n.name,
        opType: n.opType,
        domain: n.domain,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs).map(([k, v]) => attribute(k, v)),
      })),
    },
  };
  return {
    model: onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish(),
    shards,
    sharedFiles: [...sharedFiles],
    largestTensorBytes: g.initializers.reduce((m, t) => Math.max(m, t.raw.byteLength), 0),
  };
}

/** Serialises a graph as one self-contained .onnx file. */
export function serializeModel(g: IrGraph, producer = 'subject-studio-packbuild'): Uint8Array {
  return serializeModelWithExternalData(g, undefined, producer).model;
}
