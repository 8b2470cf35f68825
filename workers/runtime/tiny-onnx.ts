/**
 * A minimal ONNX (protobuf) writer, just enough for the start-up probe graph
 * and for tests to make small graphs without a protobuf library in the worker
 * bundle. Field numbers follow onnx/onnx.proto3.
 */
import type { DType } from '../pack/manifest';

const ONNX_DATA_TYPE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
};

export interface TinyValueInfo {
  name: string;
  dtype: DType;
  /** Numbers are fixed sizes, strings symbolic names. */
  shape: (number | string)[];
}

export interface TinyInitializer {
  name: string;
  dims: number[];
  /** float32 weights only; that is all the probe and the tests need. */
  data: Float32Array;
}

export type TinyAttribute = { name: string } & ({ i: number } | { f: number } | { ints: number[] });

export interface TinyNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: TinyAttribute[];
  domain?: string;
}

export interface TinyGraph {
  name: string;
  inputs: TinyValueInfo[];
  outputs: TinyValueInfo[];
  initializers?: TinyInitializer[];
  nodes: TinyNode[];
  opset?: number;
}

class Writer {
  private readonly parts: number[] = [];

  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.parts.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.parts.push(Number(v));
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  int(field: number, value: number): this {
    this.tag(field, 0);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.parts.push(...b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.varint(data.length);
    for (const b of data) this.parts.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function valueInfo(w: Writer, v: TinyValueInfo): void {
  w.string(1, v.name).message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, ONNX_DATA_TYPE[v.dtype]).message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

function attribute(w: Writer, a: TinyAttribute): void {
  w.string(1, a.name);
  if ('f' in a) w.float(2, a.f).int(20, 1);
  else if ('i' in a) w.int(3, a.i).int(20, 2);
  else {
    for (const i of a.ints) w.int(8, i);
    w.int(20, 7);
  }
}

/** Serialises a graph as an ONNX model (IR version 8, default opset 17). */
export function encodeTinyModel(g: TinyGraph): Uint8Array {
  const customDomains = new Set(g.nodes.flatMap((n) => (n.domain ? [n.domain] : [])));
  const w = new Writer()
    .int(1, 8)
    .string(2, 'subject-studio')
    .message(7, (graph) => {
      for (const n of g.nodes) {
        graph.message(1, (node) => {
          for (const i of n.inputs) node.string(1, i);
          for (const o of n.outputs) node.string(2, o);
          node.string(4, n.op);
          for (const a of n.attributes ?? []) node.message(5, (attr) => attribute(attr, a));
          if (n.domain) node.string(7, n.domain);
        });
      }
      graph.string(2, g.name);
      for (const t of g.initializers ?? []) {
        graph.message(5, (tensor) => {
          for (const d of t.dims) tensor.int(1, d);
          tensor.int(2, ONNX_DATA_TYPE.float32).string(8, t.name);
          tensor.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
        });
      }
      for (const v of g.inputs) graph.message(11, (vi) => valueInfo(vi, v));
      for (const v of g.outputs) graph.message(12, (vi) => valueInfo(vi, v));
    })
    .message(8, (opset) => opset.string(1, '').int(2, g.opset ?? 17));
  for (const domain of customDomains) w.message(8, (opset) => opset.string(1, domain).int(2, 1));
  return w.finish();
}
