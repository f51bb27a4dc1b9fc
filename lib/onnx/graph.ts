/**
 * A small builder for ONNX graphs: named nodes with typed attributes, float32/int64 initializers and
 * tensor inputs/outputs with symbolic dims. It produces the plain objects of proto/onnx.ts.
 *
 * @module
 */
import {
  AttributeType,
  DataLocation,
  DataType,
  type DimensionProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "./proto/onnx.ts";

/** An attribute value: a number is an int unless wrapped with {@link float}; arrays are ints or floats. */
export type AttrValue =
  | number
  | string
  | { float: number }
  | { floats: number[] }
  | number[];

/** Marks a scalar attribute as FLOAT (a bare number is an INT). */
export function float(x: number): { float: number } {
  return { float: x };
}

/** A dimension: a fixed size or a symbolic name such as "batch_size". */
export type Dim = number | string;

/** Element types of graph inputs/outputs and initializers. */
export type ElemType = "float32" | "int64";

const ELEM: Record<ElemType, number> = { float32: DataType.FLOAT, int64: DataType.INT64 };

/** Where float initializers go: into the graph (raw_data) or appended to an external data file. */
export interface ExternalData {
  /** File name relative to the .onnx file, e.g. "model.onnx_data". */
  location: string;
  /** Tensors of at least this many bytes go external (ONNX's converter uses 1024). */
  threshold: number;
  /**
   * Receives an external tensor's name and bytes and returns its byte offset in the file. The bytes
   * must stay unchanged until the file is written.
   */
  append(name: string, bytes: Uint8Array): number;
}

/** Builds one graph; every node output gets a unique name from a per-op counter. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  #counts = new Map<string, number>();
  #names = new Set<string>();
  #external: ExternalData | null;

  constructor(external: ExternalData | null = null) {
    this.#external = external;
  }

  #fresh(base: string): string {
    const n = this.#counts.get(base) ?? 0;
    this.#counts.set(base, n + 1);
    const name = `${base}_${n}`;
    return this.#claim(name);
  }

  #claim(name: string): string {
    if (this.#names.has(name)) throw new Error(`ONNX graph: duplicate value name "${name}"`);
    this.#names.add(name);
    return name;
  }

  /** Declares a graph input. */
  input(name: string, type: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(this.#claim(name), type, dims));
    return name;
  }

  /** Declares `value` (an existing value) as a graph output named `name`, through Identity when renamed. */
  output(value: string, name: string, type: ElemType, dims: Dim[]): void {
    if (value !== name) this.nodes.push({ op_type: "Identity", input: [value], output: [this.#claim(name)] });
    this.outputs.push(valueInfo(name, type, dims));
  }

  /**
   * Adds a node and returns its output names (`outputs` of them; default 1). `prefix` makes the names
   * readable in tools such as Netron ("h.0.attn/MatMul_3").
   */
  node(
    op: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    outputs = 1,
    prefix = "",
  ): string[] {
    const out = Array.from({ length: outputs }, () => this.#fresh(`${prefix}${op}`));
    const attribute = Object.entries(attrs).map(([name, v]) => attribute_(name, v));
    const node: NodeProto = { op_type: op, input: inputs, output: out, name: out[0] };
    if (attribute.length > 0) node.attribute = attribute;
    this.nodes.push(node);
    return out;
  }

  /** `node` with exactly one output. */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, prefix = ""): string {
    return this.node(op, inputs, attrs, 1, prefix)[0];
  }

  /**
   * `op` whose output gets the given name: used for values that are graph outputs, so that no Identity
   * node (which ONNX Runtime runs as a copy) is needed to rename them.
   */
  opAs(name: string, op: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    const attribute = Object.entries(attrs).map(([n, v]) => attribute_(n, v));
    const node: NodeProto = { op_type: op, input: inputs, output: [this.#claim(name)], name };
    if (attribute.length > 0) node.attribute = attribute;
    this.nodes.push(node);
    return name;
  }

  /** A float32 initializer; large ones go to external data when configured. */
  floatTensor(name: string, dims: number[], data: Float32Array): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new Error(`ONNX initializer ${name}: ${data.length} floats for shape [${dims}]`);
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const t: TensorProto = { name: this.#claim(name), dims, data_type: DataType.FLOAT };
    const ext = this.#external;
    if (ext !== null && bytes.length >= ext.threshold) {
      const offset = ext.append(name, bytes);
      t.data_location = DataLocation.EXTERNAL;
      t.external_data = [
        { key: "location", value: ext.location },
        { key: "offset", value: String(offset) },
        { key: "length", value: String(bytes.length) },
      ];
    } else {
      // A view, not a copy (the encoder copies once): `data` must not change until the graph is encoded.
      t.raw_data = bytes;
    }
    this.initializers.push(t);
    return name;
  }

  /** An int64 constant initializer (shape `dims`, default 1-D) with a generated name. */
  int64s(values: number[], dims: number[] = [values.length]): string {
    const name = this.#fresh("const_i64");
    const raw = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({
      name,
      dims,
      data_type: DataType.INT64,
      raw_data: new Uint8Array(raw.buffer),
    });
    return name;
  }

  /** A float32 scalar constant initializer (shape []). */
  scalar(value: number): string {
    const name = this.#fresh("const_f32");
    this.initializers.push({
      name,
      dims: [],
      data_type: DataType.FLOAT,
      raw_data: new Uint8Array(new Float32Array([value]).buffer),
    });
    return name;
  }

  /** The finished graph. */
  build(name: string, docString?: string): GraphProto {
    const g: GraphProto = {
      name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    };
    if (docString) g.doc_string = docString;
    return g;
  }
}

function valueInfo(name: string, type: ElemType, dims: Dim[]): ValueInfoProto {
  const dim: DimensionProto[] = dims.map((d) => typeof d === "number" ? { dim_value: d } : { dim_param: d });
  return { name, type: { tensor_type: { elem_type: ELEM[type], shape: { dim } } } };
}

function attribute_(name: string, v: AttrValue) {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new Error(`ONNX attribute ${name}: ${v} is not an integer`);
    return { name, type: AttributeType.INT, i: v };
  }
  if (typeof v === "string") return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ("float" in v) return { name, type: AttributeType.FLOAT, f: v.float };
  return { name, type: AttributeType.FLOATS, floats: v.floats };
}
