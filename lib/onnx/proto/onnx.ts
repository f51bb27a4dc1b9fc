/**
 * The subset of ONNX's protobuf schema (onnx/onnx.proto, IR version 7–10) that an exported GPT-2 needs,
 * as a protobufjs JSON descriptor, with TypeScript shapes of the messages and `encodeModel` /
 * `decodeModel` on top of protobufjs.
 *
 * Field numbers and enum values are ONNX's own (public spec, onnx.proto); only the fields we write or
 * read are declared: a decoder skips the others. Repeated numeric fields are written packed (what
 * onnx.proto3 does; proto2 parsers such as ONNX Runtime's accept both encodings).
 *
 * @module
 */
import protobuf from "protobufjs";

/** `TensorProto.DataType` values used here. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
} as const;

/** `AttributeProto.AttributeType` values used here. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
} as const;

/** `TensorProto.DataLocation`: inline (`raw_data`) or in an external file (`external_data`). */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

/** A key/value pair (`StringStringEntryProto`). */
export interface StringStringEntry {
  key: string;
  value: string;
}

/** `TensorProto`: an initializer or a constant. Data is in `raw_data` (little-endian) or external. */
export interface TensorProto {
  dims: number[];
  data_type: number;
  name?: string;
  raw_data?: Uint8Array;
  int64_data?: number[];
  float_data?: number[];
  int32_data?: number[];
  /** With `data_location` EXTERNAL: location (relative path), offset and length in bytes. */
  external_data?: StringStringEntry[];
  data_location?: number;
}

/** `AttributeProto`: one of f / i / s / t / floats / ints, as `type` says. */
export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
}

/** `NodeProto`: one operator application. */
export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute?: AttributeProto[];
}

/** `TensorShapeProto.Dimension`: a fixed size or a symbolic name. */
export interface DimensionProto {
  dim_value?: number;
  dim_param?: string;
}

/** `ValueInfoProto` of a tensor: name, element type and (possibly symbolic) shape. */
export interface ValueInfoProto {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: DimensionProto[] } } };
  doc_string?: string;
}

/** `GraphProto`. */
export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  doc_string?: string;
}

/** `OperatorSetIdProto`: "" is the default ONNX domain. */
export interface OperatorSetId {
  domain: string;
  version: number;
}

/** `ModelProto`. */
export interface ModelProto {
  ir_version: number;
  opset_import: OperatorSetId[];
  producer_name?: string;
  producer_version?: string;
  doc_string?: string;
  graph: GraphProto;
  metadata_props?: StringStringEntry[];
}

const repeated = (type: string, id: number) => ({ rule: "repeated", type, id });
const packed = (type: string, id: number) => ({ rule: "repeated", type, id, options: { packed: true } });

/** The protobufjs JSON descriptor (package "onnx"), field numbers as in onnx.proto. */
export const ONNX_DESCRIPTOR = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: {
          fields: { key: { type: "string", id: 1 }, value: { type: "string", id: 2 } },
        },
        TensorProto: {
          fields: {
            dims: packed("int64", 1),
            data_type: { type: "int32", id: 2 },
            float_data: packed("float", 4),
            int32_data: packed("int32", 5),
            int64_data: packed("int64", 7),
            name: { type: "string", id: 8 },
            raw_data: { type: "bytes", id: 9 },
            doc_string: { type: "string", id: 12 },
            external_data: repeated("StringStringEntryProto", 13),
            data_location: { type: "int32", id: 14 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: "string", id: 1 },
            f: { type: "float", id: 2 },
            i: { type: "int64", id: 3 },
            s: { type: "bytes", id: 4 },
            t: { type: "TensorProto", id: 5 },
            floats: packed("float", 7),
            ints: packed("int64", 8),
            doc_string: { type: "string", id: 13 },
            type: { type: "int32", id: 20 },
          },
        },
        NodeProto: {
          fields: {
            input: repeated("string", 1),
            output: repeated("string", 2),
            name: { type: "string", id: 3 },
            op_type: { type: "string", id: 4 },
            attribute: repeated("AttributeProto", 5),
            doc_string: { type: "string", id: 6 },
            domain: { type: "string", id: 7 },
          },
        },
        TensorShapeProto: {
          fields: { dim: repeated("Dimension", 1) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ["dim_value", "dim_param"] } },
              fields: {
                dim_value: { type: "int64", id: 1 },
                dim_param: { type: "string", id: 2 },
                denotation: { type: "string", id: 3 },
              },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ["tensor_type"] } },
          fields: { tensor_type: { type: "Tensor", id: 1 }, denotation: { type: "string", id: 6 } },
          nested: {
            Tensor: {
              fields: { elem_type: { type: "int32", id: 1 }, shape: { type: "TensorShapeProto", id: 2 } },
            },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: "string", id: 1 },
            type: { type: "TypeProto", id: 2 },
            doc_string: { type: "string", id: 3 },
          },
        },
        GraphProto: {
          fields: {
            node: repeated("NodeProto", 1),
            name: { type: "string", id: 2 },
            initializer: repeated("TensorProto", 5),
            doc_string: { type: "string", id: 10 },
            input: repeated("ValueInfoProto", 11),
            output: repeated("ValueInfoProto", 12),
            value_info: repeated("ValueInfoProto", 13),
          },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: "string", id: 1 }, version: { type: "int64", id: 2 } },
        },
        ModelProto: {
          fields: {
            ir_version: { type: "int64", id: 1 },
            producer_name: { type: "string", id: 2 },
            producer_version: { type: "string", id: 3 },
            domain: { type: "string", id: 4 },
            model_version: { type: "int64", id: 5 },
            doc_string: { type: "string", id: 6 },
            graph: { type: "GraphProto", id: 7 },
            opset_import: repeated("OperatorSetIdProto", 8),
            metadata_props: repeated("StringStringEntryProto", 14),
          },
        },
      },
    },
  },
};

let modelType: protobuf.Type | null = null;

function modelProtoType(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_DESCRIPTOR).lookupType("onnx.ModelProto");
  return modelType;
}

/**
 * Serialises a model. Throws when an object does not fit the schema (a wrong field type), naming the
 * field. The result is limited by protobuf to 2 GiB: larger models must keep weights in external data.
 */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = modelProtoType();
  const problem = type.verify(model);
  if (problem !== null) throw new Error(`invalid ONNX model object: ${problem}`);
  return type.encode(model).finish();
}

/**
 * Parses a serialised model into plain objects (int64 values as numbers, bytes as Uint8Array), keeping
 * only the fields of this subset. For tests and inspection.
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const type = modelProtoType();
  const message = type.decode(bytes);
  return type.toObject(message, {
    longs: Number,
    bytes: Uint8Array,
    arrays: true,
    defaults: false,
  }) as unknown as ModelProto;
}
