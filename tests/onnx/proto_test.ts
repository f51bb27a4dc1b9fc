/**
 * The ONNX protobuf subset: bytes on the wire against hand-encoded protobuf (ONNX's field numbers and
 * wire types), a decode round trip, and the graph builder's checks.
 */
import assert from "node:assert/strict";
import { GraphBuilder } from "../../lib/onnx/graph.ts";
import {
  AttributeType,
  DataType,
  decodeModel,
  encodeModel,
  type ModelProto,
} from "../../lib/onnx/proto/onnx.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

Deno.test("encodeModel() writes ONNX's field numbers and wire types", () => {
  const model: ModelProto = {
    ir_version: 8,
    opset_import: [{ domain: "", version: 17 }],
    graph: { name: "g", node: [], initializer: [], input: [], output: [] },
  };
  // ir_version = 1 (varint 8) | graph = 7 (LEN: name = 2 "g") | opset_import = 8 (LEN: version = 2 17;
  // the empty default domain is omitted, as proto3 writers do and proto2 readers accept).
  assert.equal(hex(encodeModel(model)), "08 08 3a 03 12 01 67 42 02 10 11");

  const withTensor: ModelProto = {
    ir_version: 8,
    opset_import: [],
    graph: {
      name: "",
      node: [{
        op_type: "Softmax",
        input: ["x"],
        output: ["y"],
        attribute: [{ name: "axis", type: AttributeType.INT, i: -1 }],
      }],
      initializer: [{ name: "w", dims: [2, 3], data_type: DataType.FLOAT, raw_data: new Uint8Array([1, 2]) }],
      input: [],
      output: [],
    },
  };
  const bytes = hex(encodeModel(withTensor));
  // NodeProto (graph field 1): input "x", output "y", op_type = 4, attribute = 5 with name = 1,
  // i = 3 (int64 −1: ten-byte varint) and type = 20 (tag a0 01).
  const attr = "0a 04 61 78 69 73 18 ff ff ff ff ff ff ff ff ff 01 a0 01 02";
  const node = `0a 01 78 12 01 79 22 07 53 6f 66 74 6d 61 78 2a 14 ${attr}`;
  // TensorProto (graph field 5): dims = 1 packed [2, 3], data_type = 2 (FLOAT = 1), name = 8, raw_data = 9.
  const tensor = "0a 02 02 03 10 01 42 01 77 4a 02 01 02";
  assert.ok(bytes.includes(`0a 25 ${node}`), `node bytes in ${bytes}`);
  assert.ok(bytes.includes(`2a 0d ${tensor}`), `initializer bytes in ${bytes}`);

  const back = decodeModel(encodeModel(withTensor));
  assert.equal(back.graph.node[0].attribute![0].i, -1);
  assert.deepEqual(back.graph.initializer[0].dims, [2, 3]);
  assert.deepEqual(Array.from(back.graph.initializer[0].raw_data!), [1, 2]);
});

Deno.test("encodeModel() rejects objects that do not fit the schema", () => {
  const bad = { ir_version: "eight", opset_import: [], graph: { name: "g" } } as unknown as ModelProto;
  assert.throws(() => encodeModel(bad), /invalid ONNX model object: ir_version: integer\|Long expected/);
});

Deno.test("GraphBuilder names values uniquely, refuses duplicates and checks initializer sizes", () => {
  const g = new GraphBuilder();
  const x = g.input("x", "float32", ["batch_size", 4]);
  const a = g.op("Relu", [x]);
  const b = g.op("Relu", [a]);
  assert.notEqual(a, b);
  assert.throws(() => g.input("x", "float32", [1]), /duplicate value name "x"/);
  assert.throws(() => g.floatTensor("w", [2, 2], new Float32Array(3)), /w: 3 floats for shape \[2,2\]/);
  g.output(b, "y", "float32", ["batch_size", 4]);
  const graph = g.build("t");
  assert.equal(graph.node.at(-1)!.op_type, "Identity");
  assert.deepEqual(graph.input[0].type.tensor_type.shape.dim, [{ dim_param: "batch_size" }, {
    dim_value: 4,
  }]);
});
