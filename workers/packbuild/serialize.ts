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
 * Serialises a graph. With `ext`, initializers of at least `minTensorBytes`
 * move to external-data shards (TensorProto data_location EXTERNAL, with
 * location/offset/length), so no protobuf and no single file nears 2 GiB.
 */
export function serializeModelWithExternalData(g: IrGraph, ext?: ExternalDataOptions, producer = 'subject-studio-packbuild'): SerializedModel {
  const { placements, shardSizes } = ext ? placeTensors(g, ext) : { placements: new Map<string, Placement>(), shardSizes: [] };
  const shards = shardSizes.map((size, i) => ({ file: shardName(ext!, i), bytes: new Uint8Array(size) }));
  const initializer = g.initializers.map((t): OnnxTypes.ITensorProto => {
    const place = placements.get(t.name);
    const base = { name: t.name, dataType: DATA_TYPE[t.dtype], dims: t.dims };
    if (!place) return { ...base, rawData: t.raw };
    shards[place.shard]!.bytes.set(t.raw, place.offset);
    return {
      ...base,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: shards[place.shard]!.file },
        { key: 'offset', value: String(place.offset) },
        { key: 'length', value: String(t.raw.byteLength) },
      ],
    };
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
    largestTensorBytes: g.initializers.reduce((m, t) => Math.max(m, t.raw.byteLength), 0),
  };
}

/** Serialises a graph as one self-contained .onnx file. */
export function serializeModel(g: IrGraph, producer = 'subject-studio-packbuild'): Uint8Array {
  return serializeModelWithExternalData(g, undefined, producer).model;
}
