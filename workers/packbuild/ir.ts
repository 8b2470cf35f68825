/**
 * A small graph IR for writing ONNX models op by op. No DOM and no Node APIs:
 * the same code builds the test pack in Node and converts weights in a worker.
 */
export type IrDType = 'float32' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';
export type Dim = number | string;

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string };

export interface IrNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface IrTensor {
  name: string;
  dtype: IrDType;
  dims: number[];
  /** Little-endian raw bytes. */
  raw: Uint8Array;
}

export interface IrValueInfo {
  name: string;
  dtype: IrDType;
  shape: Dim[];
}

export interface IrGraph {
  name: string;
  inputs: IrValueInfo[];
  outputs: IrValueInfo[];
  nodes: IrNode[];
  initializers: IrTensor[];
  /** Opset per domain ('' is the default ONNX domain). */
  opsets: Record<string, number>;
}

export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  ints: (value: number[]): AttrValue => ({ kind: 'ints', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
};

/**
 * The bytes of a weight, without a copy: graphs that share a layer (the three
 * DiT graphs of a pack) then share its bytes until they are serialized, and a
 * gigabyte-sized pack is not held several times over. Weights are never
 * written after they are given to a graph.
 */
function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export class GraphBuilder {
  readonly inputs: IrValueInfo[] = [];
  readonly outputs: IrValueInfo[] = [];
  readonly nodes: IrNode[] = [];
  readonly initializers: IrTensor[] = [];
  private readonly names = new Set<string>();
  private readonly constCache = new Map<string, string>();
  private readonly weightCache = new WeakMap<Float32Array, Map<string, string>>();
  private readonly opsets: Record<string, number> = { '': 17 };
  private scopeStack: string[] = [];

  constructor(readonly name: string) {}

  /** Names created inside `fn` are prefixed with `scope/`, like module paths. */
  scope<T>(scope: string, fn: () => T): T {
    this.scopeStack.push(scope);
    try {
      return fn();
    } finally {
      this.scopeStack.pop();
    }
  }

  fresh(base: string): string {
    const prefix = this.scopeStack.length ? `${this.scopeStack.join('/')}/` : '';
    let name = `${prefix}${base}`;
    for (let i = 1; this.names.has(name); i++) name = `${prefix}${base}_${i}`;
    this.names.add(name);
    return name;
  }

  input(name: string, dtype: IrDType, shape: Dim[]): string {
    if (this.names.has(name)) throw new Error(`duplicate name ${name}`);
    this.names.add(name);
    this.inputs.push({ name, dtype, shape });
    return name;
  }

  /** Marks `value` as a graph output called `name` (through an Identity when the names differ). */
  output(value: string, name: string, dtype: IrDType, shape: Dim[]): void {
    if (value !== name) {
      if (this.names.has(name)) throw new Error(`duplicate name ${name}`);
      this.names.add(name);
      this.nodes.push({ name: `${name}_out`, opType: 'Identity', domain: '', inputs: [value], outputs: [name], attrs: {} });
    }
    this.outputs.push({ name, dtype, shape });
  }

  useOpset(domain: string, version: number): void {
    this.opsets[domain] = version;
  }

  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, domain = ''): string {
    return this.opN(opType, inputs, 1, attrs, domain)[0]!;
  }

  opN(opType: string, inputs: string[], nOutputs: number, attrs: Record<string, AttrValue> = {}, domain = ''): string[] {
    if (domain && !(domain in this.opsets)) throw new Error(`opset for domain ${domain} not declared`);
    const name = this.fresh(opType);
    const outputs = Array.from({ length: nOutputs }, (_, i) => (nOutputs === 1 ? `${name}:out` : `${name}:out${i}`));
    for (const o of outputs) this.names.add(o);
    this.nodes.push({ name, opType, domain, inputs, outputs, attrs });
    return outputs;
  }

  initializer(base: string, dtype: IrDType, dims: number[], data: ArrayBufferView): string {
    const name = this.fresh(base);
    const raw = bytesOf(data);
    const count = dims.reduce((a, b) => a * b, 1);
    const bytesPer = { float32: 4, float16: 2, int64: 8, int32: 4, int8: 1, uint8: 1, bool: 1 }[dtype];
    if (raw.byteLength !== count * bytesPer) {
      throw new Error(`initializer ${name}: ${raw.byteLength} bytes for dims [${dims}] of ${dtype}`);
    }
    this.initializers.push({ name, dtype, dims, raw });
    return name;
  }

  /**
   * A float32 weight tensor. The same array with the same dims gives the same
   * initializer: a table read twice by one graph (the positional table of the
   * image and of live reference tokens) is stored, and loaded, once.
   */
  f32(base: string, dims: number[], data: Float32Array): string {
    let byDims = this.weightCache.get(data);
    if (!byDims) this.weightCache.set(data, (byDims = new Map()));
    const key = dims.join('x');
    let name = byDims.get(key);
    if (!name) byDims.set(key, (name = this.initializer(base, 'float32', dims, data)));
    return name;
  }

  /** Small int64 constants (shapes, axes, indices), shared by content. */
  i64(values: number[], dims: number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.initializer(`const_i64`, 'int64', dims, BigInt64Array.from(values.map((v) => BigInt(v))));
    this.constCache.set(key, name);
    return name;
  }

  /** Small float32 constants, shared by content. */
  constF32(values: number[], dims: number[] = [values.length]): string {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.initializer(`const_f32`, 'float32', dims, Float32Array.from(values));
    this.constCache.set(key, name);
    return name;
  }

  build(): IrGraph {
    return {
      name: this.name,
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      nodes: [...this.nodes],
      initializers: [...this.initializers],
      opsets: { ...this.opsets },
    };
  }
}
