import assert from "node:assert/strict";
import { type Gpu, type RowPart, rowParts, type View } from "../../lib/gpu/runtime.ts";
import { bucketTokens, encoderBackward, EncoderBackwardPlan, encoderForward } from "../../lib/ops/encoder.ts";
import { encoderBackwardRef, encoderForwardRef } from "../../lib/ref/encoder.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, finiteDifference, testGpu } from "../_check.ts";

const TOL = { atol: 1e-6, rtol: 1e-6 };

/** Parts of a (rows, C) matrix at 64-row boundaries, as `rowParts` makes for a small maxBinding. */
function partsOf64(gpu: Gpu, view: View, rows: number, C: number): RowPart[] {
  const parts: RowPart[] = [];
  for (let row0 = 0; row0 < rows; row0 += 64) {
    const n = Math.min(64, rows - row0);
    parts.push({ view: gpu.slice(view, row0 * C, n * C), row0, rows: n });
  }
  return parts;
}

function upload(gpu: Gpu, data: Float32Array | Uint32Array): View {
  const v = gpu.tensor(data.length);
  gpu.write(v, data);
  return v;
}

/** Token ids over all of [0, V), with a few frequent ones so buckets hold several positions. */
function makeTokens(rng: Rng, n: number, V: number): Uint32Array {
  const frequent = [0, 1, V - 1, 63, 64, rng.int(V)];
  return Uint32Array.from(
    { length: n },
    () => rng.next() < 0.4 ? frequent[rng.int(frequent.length)] : rng.int(V),
  );
}

interface Case {
  B: number;
  T: number;
  C: number;
  V: number;
  maxT: number;
  pos0: number;
  parts: "64-row" | "rowParts";
}

async function checkForwardBackward(c: Case, seed: number): Promise<void> {
  const gpu = await testGpu();
  const { B, T, C, V, maxT, pos0 } = c;
  const N = B * T;
  const rng = new Rng(seed);
  const tokens = makeTokens(rng, N, V);
  const wte = rng.uniformArray(V * C), wpe = rng.uniformArray(maxT * C), dout = rng.uniformArray(N * C);
  const dwte0 = rng.uniformArray(V * C), dwpe0 = rng.uniformArray(maxT * C);
  const split = (v: View) => c.parts === "64-row" ? partsOf64(gpu, v, V, C) : rowParts(gpu, v, V, C);

  const out = upload(gpu, new Float32Array(N * C).fill(NaN)); // every row must be written
  const vTokens = upload(gpu, tokens), vwpe = upload(gpu, wpe), vdout = upload(gpu, dout);
  const wteParts = split(upload(gpu, wte));
  assert.ok(wteParts.length > 1 || V * C * 4 <= gpu.maxBinding, "a wte larger than one binding is split");
  encoderForward(gpu, out, vTokens, wteParts, vwpe, B, T, C, pos0);
  const expected = new Float32Array(N * C);
  encoderForwardRef(expected, tokens, wte, wpe, B, T, C, pos0);
  assertClose(await gpu.read(out), expected, TOL, "out");

  const vdwte = upload(gpu, dwte0), vdwpe = upload(gpu, dwpe0);
  const plan = new EncoderBackwardPlan(gpu, tokens, N);
  encoderBackward(gpu, split(vdwte), vdwpe, vdout, plan, B, T, C);
  const eDwte = dwte0.slice(), eDwpe = dwpe0.slice();
  encoderBackwardRef(eDwte, eDwpe, dout, tokens, B, T, C);
  // Sums of up to N terms of magnitude ≤ 1.
  const sumTol = { atol: 1e-6 * Math.sqrt(N), rtol: 1e-5 };
  assertClose(await gpu.read(vdwte), eDwte, sumTol, "dwte");
  assertClose(await gpu.read(vdwpe), eDwpe, sumTol, "dwpe");
}

Deno.test("encoderForward() and encoderBackward() match the reference on odd shapes with wte in 64-row parts", async () => {
  await checkForwardBackward({ B: 3, T: 7, C: 24, V: 200, maxT: 7, pos0: 0, parts: "64-row" }, 1);
  await checkForwardBackward({ B: 5, T: 13, C: 40, V: 131, maxT: 16, pos0: 0, parts: "64-row" }, 2);
});

Deno.test("encoderForward() adds positions from pos0 (KV-cache decoding)", async () => {
  await checkForwardBackward({ B: 3, T: 7, C: 24, V: 200, maxT: 32, pos0: 25, parts: "64-row" }, 3);
  await checkForwardBackward({ B: 2, T: 1, C: 24, V: 70, maxT: 32, pos0: 31, parts: "64-row" }, 4);
});

Deno.test("encoderForward() and encoderBackward() match the reference at GPT-2 size (B=4 T=1024 C=768 V=50257, rowParts)", async () => {
  await checkForwardBackward({ B: 4, T: 1024, C: 768, V: 50257, maxT: 1024, pos0: 0, parts: "rowParts" }, 5);
});

Deno.test("encoderBackward() is deterministic: two runs are bit-identical", async () => {
  const gpu = await testGpu();
  const B = 8, T = 128, C = 768, V = 300, N = B * T;
  const rng = new Rng(6);
  const tokens = Uint32Array.from({ length: N }, () => rng.int(V));
  const vdout = upload(gpu, rng.uniformArray(N * C));
  const plan = new EncoderBackwardPlan(gpu, tokens, N);
  const runs: Uint32Array[] = [];
  for (let run = 0; run < 2; run++) {
    const dwte = gpu.tensor(V * C), dwpe = gpu.tensor(T * C);
    encoderBackward(gpu, partsOf64(gpu, dwte, V, C), dwpe, vdout, plan, B, T, C);
    const bytes = [await gpu.readBytes(dwte), await gpu.readBytes(dwpe)];
    runs.push(new Uint32Array(bytes.flatMap((b) => [...new Uint32Array(b)])));
  }
  assert.deepEqual(runs[0], runs[1]);
});

Deno.test("EncoderBackwardPlan.update() switches to the next batch and rejects too many tokens", async () => {
  const gpu = await testGpu();
  const B = 2, T = 9, C = 16, V = 100, N = B * T;
  const rng = new Rng(8);
  const first = makeTokens(rng, N, V), second = makeTokens(rng, N, V);
  const dout = rng.uniformArray(N * C);
  const vdout = upload(gpu, dout);
  const plan = new EncoderBackwardPlan(gpu, first, N);
  const ids = plan.ids.buffer;
  plan.update(second);
  assert.equal(plan.ids.buffer, ids, "buffers are reused");
  const dwte = gpu.tensor(V * C), dwpe = gpu.tensor(T * C);
  encoderBackward(gpu, partsOf64(gpu, dwte, V, C), dwpe, vdout, plan, B, T, C);
  const eDwte = new Float32Array(V * C), eDwpe = new Float32Array(T * C);
  encoderBackwardRef(eDwte, eDwpe, dout, second, B, T, C);
  assertClose(await gpu.read(dwte), eDwte, TOL, "dwte");
  assert.throws(() => plan.update(new Uint32Array(N + 1)), /exceed maxTokens/);
  plan.update(first.subarray(0, T));
  assert.throws(
    () => encoderBackward(gpu, [{ view: dwte, row0: 0, rows: V }], dwpe, vdout, plan, B, T, C),
    /B·T is 18/,
  );
});

Deno.test("encoder ops reject out-of-range positions, tokens and malformed parts", async () => {
  const gpu = await testGpu();
  const C = 8, v = gpu.tensor(64 * C);
  const parts = [{ view: v, row0: 0, rows: 64 }];
  assert.throws(() => encoderForward(gpu, v, v, parts, gpu.tensor(4 * C), 1, 3, C, 2), /wpe/);
  assert.throws(() => encoderForward(gpu, v, v, [{ view: v, row0: 1, rows: 63 }], v, 1, 3, C), /tile/);
  const plan = new EncoderBackwardPlan(gpu, [1, 64], 2);
  assert.throws(() => encoderBackward(gpu, parts, v, v, plan, 1, 2, C), /token id 64 is outside/);
});

Deno.test("bucketTokens() groups positions by ascending id, positions ascending", () => {
  const b = bucketTokens([5, 2, 5, 7, 2, 5]);
  assert.deepEqual([...b.ids], [2, 5, 7]);
  assert.deepEqual([...b.starts], [0, 2, 5, 6]);
  assert.deepEqual([...b.positions], [1, 4, 0, 2, 5, 3]);
  assert.deepEqual(bucketTokens([]), {
    ids: new Uint32Array(0),
    starts: new Uint32Array([0]),
    positions: new Uint32Array(0),
  });

  const rng = new Rng(9);
  const tokens = Array.from({ length: 5000 }, () => rng.int(50257));
  const { ids, starts, positions } = bucketTokens(tokens);
  const naive = new Map<number, number[]>();
  tokens.forEach((id, pos) => naive.set(id, [...(naive.get(id) ?? []), pos]));
  const sortedIds = [...naive.keys()].sort((x, y) => x - y);
  assert.deepEqual([...ids], sortedIds);
  sortedIds.forEach((id, u) =>
    assert.deepEqual([...positions.subarray(starts[u], starts[u + 1])], naive.get(id))
  );
  assert.throws(() => bucketTokens([1, -1]), /not a valid token id/);
});

Deno.test("encoderBackwardRef() matches central finite differences in float64", () => {
  const B = 2, T = 3, C = 4, V = 5, maxT = 4, N = B * T;
  const rng = new Rng(10);
  const tokens = [1, 3, 1, 4, 1, 0];
  const wte = Float64Array.from(rng.uniformArray(V * C)), wpe = Float64Array.from(rng.uniformArray(maxT * C));
  const w = Float64Array.from(rng.uniformArray(N * C)); // loss = Σ out · w, so dout = w
  const loss = () => {
    const out = new Float64Array(N * C);
    encoderForwardRef(out, tokens, wte, wpe, B, T, C);
    return out.reduce((s, o, i) => s + o * w[i], 0);
  };
  const dwte = new Float64Array(V * C), dwpe = new Float64Array(maxT * C);
  encoderBackwardRef(dwte, dwpe, w, tokens, B, T, C);
  const tol = { atol: 1e-8, rtol: 1e-6 };
  assertClose(dwte, finiteDifference(loss, wte), tol, "dwte");
  assertClose(dwpe, finiteDifference(loss, wpe), tol, "dwpe");
});
