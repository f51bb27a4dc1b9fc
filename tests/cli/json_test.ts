import assert from "node:assert/strict";
import { emitJson, toJsonLine } from "../../lib/cli/json.ts";

Deno.test("toJsonLine() turns NaN and ±Infinity into null so every line parses", () => {
  const line = toJsonLine({
    step: 3,
    loss: NaN,
    grad: Infinity,
    low: -Infinity,
    nested: { values: [1, NaN] },
  });
  assert.equal(line, '{"step":3,"loss":null,"grad":null,"low":null,"nested":{"values":[1,null]}}');
  assert.deepEqual(JSON.parse(line), {
    step: 3,
    loss: null,
    grad: null,
    low: null,
    nested: { values: [1, null] },
  });
});

Deno.test("toJsonLine() writes typed arrays as arrays, bigints as numbers, Maps and Sets as JSON", () => {
  const line = toJsonLine({
    probs: new Float32Array([0.5, NaN]),
    tokens: new Uint16Array([50256, 1]),
    bytes: 12n,
    huge: 2n ** 70n,
    map: new Map([["a", 1]]),
    set: new Set(["x"]),
  });
  assert.equal(
    line,
    '{"probs":[0.5,null],"tokens":[50256,1],"bytes":12,"huge":"1180591620717411303424","map":{"a":1},"set":["x"]}',
  );
});

Deno.test("toJsonLine() keeps one object on one line even with newlines in strings", () => {
  const line = toJsonLine({ text: "to be\nor not" });
  assert.ok(!line.includes("\n"));
  assert.equal(JSON.parse(line).text, "to be\nor not");
});

Deno.test("emitJson() writes one JSON object per line to stdout", () => {
  // Capture stdout in-process by swapping its writeSync (restored even when the test fails).
  const chunks: Uint8Array[] = [];
  const original = Deno.stdout.writeSync;
  Deno.stdout.writeSync = (bytes: Uint8Array) => {
    // Accept at most 5 bytes per call, as a pipe may, so the write loop is exercised.
    const n = Math.min(5, bytes.length);
    chunks.push(bytes.slice(0, n));
    return n;
  };
  try {
    emitJson({ a: 1, b: NaN });
    emitJson({ c: "x" });
  } finally {
    Deno.stdout.writeSync = original;
  }
  const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  assert.equal(text, '{"a":1,"b":null}\n{"c":"x"}\n');
});
