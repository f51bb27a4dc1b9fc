import assert from "node:assert/strict";
import { encodeSafetensors, parseSafetensors, safetensorsMetadata } from "../../lib/model/safetensors.ts";
import { Rng } from "../../lib/rng.ts";
import { f32Bytes, rawFile, rawSafetensors, u16Bytes } from "./_helpers.ts";

const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

Deno.test("encodeSafetensors() round-trips F32 tensors and metadata through parseSafetensors()", () => {
  const rng = new Rng(1);
  const tensors = [
    { name: "wte.weight", shape: [7, 3], data: rng.uniformArray(21) },
    { name: "h.0.ln_1.bias", shape: [5], data: rng.uniformArray(5) },
    { name: "scalar", shape: [], data: new Float32Array([Math.PI]) },
    { name: "empty", shape: [0, 4], data: new Float32Array(0) },
  ];
  tensors[0].data[3] = NaN;
  tensors[0].data[4] = -0;
  const bytes = encodeSafetensors(tensors, { format: "pt" });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLength % 8, 0, "header padded to 8 bytes");
  assert.equal(bytes.length, 8 + headerLength + (21 + 5 + 1) * 4);
  const parsed = parseSafetensors(bytes, "round.safetensors");
  assert.deepEqual([...parsed.keys()], tensors.map((t) => t.name));
  for (const t of tensors) {
    const p = parsed.get(t.name)!;
    assert.equal(p.dtype, "F32");
    assert.deepEqual(p.shape, t.shape);
    assert.deepEqual(bits(p.data), bits(t.data), t.name);
  }
  assert.deepEqual(safetensorsMetadata(bytes, "round.safetensors"), { format: "pt" });
  assert.deepEqual(encodeSafetensors(tensors, { format: "pt" }), bytes, "deterministic bytes");
});

Deno.test("parseSafetensors() decodes F16 to the hand-computed float32 values", () => {
  const cases: [number, number][] = [
    [0x3c00, 1],
    [0xc000, -2],
    [0x3800, 0.5],
    [0x3555, 0.333251953125], // 1 + 341/1024, times 2^-2
    [0x7bff, 65504], // largest finite
    [0x0400, 2 ** -14], // smallest normal
    [0x0001, 2 ** -24], // smallest subnormal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x8000, -0],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  const bytes = rawSafetensors([
    { name: "h", dtype: "F16", shape: [cases.length], bytes: u16Bytes(cases.map((c) => c[0])) },
    { name: "nan", dtype: "F16", shape: [1], bytes: u16Bytes([0x7e00]) },
  ]);
  const parsed = parseSafetensors(bytes, "f16.safetensors");
  assert.equal(parsed.get("h")!.dtype, "F16");
  assert.deepEqual([...parsed.get("h")!.data], cases.map((c) => c[1]));
  assert.ok(Number.isNaN(parsed.get("nan")!.data[0]));
});

Deno.test("parseSafetensors() decodes BF16 to the hand-computed float32 values", () => {
  const cases: [number, number][] = [
    [0x3f80, 1],
    [0xc040, -3],
    [0x4049, 3.140625], // 1 + 73/128, times 2
    [0x3eab, 0.333984375], // 1 + 43/128, times 2^-2
    [0x0080, 2 ** -126], // smallest normal
    [0x0001, 2 ** -133], // smallest subnormal
    [0x7f7f, 3.3895313892515355e38], // largest finite
    [0xff80, -Infinity],
  ];
  // Odd byte offset of the data: forces the copying path.
  const file = rawSafetensors([
    { name: "pad", dtype: "U8", shape: [1], bytes: new Uint8Array([7]) },
    { name: "b", dtype: "BF16", shape: [2, 4], bytes: u16Bytes(cases.map((c) => c[0])) },
  ]);
  const parsed = parseSafetensors(file, "bf16.safetensors", { keep: (name) => name !== "pad" });
  assert.deepEqual(parsed.get("b")!.shape, [2, 4]);
  assert.deepEqual([...parsed.get("b")!.data], cases.map((c) => c[1]));
  assert.equal(parsed.has("pad"), false);
});

Deno.test("parseSafetensors() reads F32 data at unaligned offsets", () => {
  const data = new Rng(2).uniformArray(10);
  const file = rawSafetensors([
    { name: "odd", dtype: "U8", shape: [3], bytes: new Uint8Array(3) },
    { name: "x", dtype: "F32", shape: [10], bytes: f32Bytes(data) },
  ]);
  // Also place the whole file at an odd byte offset of a larger buffer.
  const shifted = new Uint8Array(file.length + 1);
  shifted.set(file, 1);
  for (const bytes of [file, shifted.subarray(1)]) {
    const x = parseSafetensors(bytes, "x.safetensors", { keep: (n) => n === "x" }).get("x")!;
    assert.deepEqual(bits(x.data), bits(data));
  }
});

Deno.test("parseSafetensors() rejects truncated and corrupt files with one-line errors", () => {
  const good = encodeSafetensors([{ name: "w", shape: [4, 4], data: new Rng(3).uniformArray(16) }]);
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty file", new Uint8Array(0), /^bad\.st: not a safetensors file \(0 bytes/],
    ["header cut", good.subarray(0, 20), /header of \d+ bytes runs past the end .*truncated/],
    ["data cut", good.subarray(0, good.length - 1), /tensor "w": data ends at byte 64 but the file has 63/],
    ["huge length", new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 0]), /corrupt safetensors header length/],
    ["bad JSON", rawFile("{not json"), /corrupt safetensors header \(/],
    ["not an object", rawFile("[1, 2]"), /corrupt safetensors header \(not a JSON object\)/],
    [
      "size mismatch",
      rawFile(JSON.stringify({ w: { dtype: "F32", shape: [2, 2], data_offsets: [0, 12] } }), [
        new Uint8Array(12),
      ]),
      /tensor "w": 12 data bytes do not match F32 shape \[2,2\] \(16\)/,
    ],
    [
      "unknown dtype",
      rawFile(JSON.stringify({ w: { dtype: "F12", shape: [1], data_offsets: [0, 2] } }), [new Uint8Array(2)]),
      /tensor "w": unknown dtype "F12"/,
    ],
    [
      "unsupported dtype",
      rawFile(JSON.stringify({ w: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }), [new Uint8Array(8)]),
      /tensor "w": dtype I64 is not supported \(F32, F16, BF16\)/,
    ],
    [
      "bad offsets",
      rawFile(JSON.stringify({ w: { dtype: "F32", shape: [1], data_offsets: [4] } }), [new Uint8Array(8)]),
      /data_offsets \[4\] is not \[begin, end\]/,
    ],
    [
      "bad shape",
      rawFile(JSON.stringify({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }), [
        new Uint8Array(4),
      ]),
      /shape \[-1\] is not a list of non-negative integers/,
    ],
    [
      "overlap",
      rawFile(
        JSON.stringify({
          a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
          b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
        }),
        [new Uint8Array(12)],
      ),
      /tensors "a" and "b" overlap/,
    ],
  ];
  for (const [label, bytes, pattern] of cases) {
    assert.throws(() => parseSafetensors(bytes, "bad.st"), (e: Error) => {
      assert.match(e.message, pattern, label);
      assert.ok(!e.message.includes("\n"), `${label}: one line`);
      assert.ok(e.message.startsWith("bad.st: "), `${label}: names the file`);
      return true;
    });
  }
});

Deno.test("encodeSafetensors() rejects data that does not match the shape and duplicate names", () => {
  const data = new Float32Array(6);
  assert.throws(
    () => encodeSafetensors([{ name: "w", shape: [2, 2], data }]),
    /"w" has 6 floats, shape \[2,2\]/,
  );
  assert.throws(
    () => encodeSafetensors([{ name: "w", shape: [6], data }, { name: "w", shape: [6], data }]),
    /duplicate name "w"/,
  );
});
