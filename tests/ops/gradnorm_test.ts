import assert from "node:assert/strict";
import { gradNormScratchFloats, gradNormSquared } from "../../lib/ops/gradnorm.ts";
import { gradNormSquaredRef } from "../../lib/ref/gradnorm.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, testGpu } from "../_check.ts";

// Float32 partial sums of up to 2^18 squares each (lavapipe; 2^15 on GPUs), then a float32 sum of the partials.
const TOL = { atol: 1e-6, rtol: 2e-5 };

function refNormSq(grads: Float32Array, n = grads.length): number {
  const out = new Float64Array(1);
  gradNormSquaredRef(out, grads, n);
  return out[0];
}

Deno.test("gradNormSquared() matches a float64 sum on odd sizes", async () => {
  const gpu = await testGpu();
  const rng = new Rng(2);
  // 1 and 3: less than a vec4; 1003: odd; 2^20 + 5: several workgroup blocks plus a ragged tail.
  for (const n of [1, 3, 1003, (1 << 20) + 5]) {
    const grads = rng.uniformArray(n);
    const vg = gpu.tensor(n);
    const normSq = gpu.tensor(1);
    gpu.write(vg, grads);
    gradNormSquared(gpu, normSq, vg, n);
    assertClose(await gpu.read(normSq), [refNormSq(grads)], TOL, `normSq n=${n}`);
  }
});

Deno.test("gradNormSquared() counts only the first n floats and gives 0 for n = 0", async () => {
  const gpu = await testGpu();
  const grads = new Rng(3).uniformArray(1 << 18, 1, 2);
  const ns = [997, (1 << 15) - 1, (1 << 18) - 1];
  for (const n of ns) grads[n] = 1000; // the first float past n: stands out if it leaks in
  const vg = gpu.tensor(grads.length);
  gpu.write(vg, grads);
  const normSq = gpu.tensor(1);
  // One float short of a whole workgroup block (2^15 floats on GPUs, 2^18 on lavapipe): the last vec4
  // must be masked even where the block is otherwise full.
  for (const n of ns) {
    gradNormSquared(gpu, normSq, vg, n);
    assertClose(await gpu.read(normSq), [refNormSq(grads, n)], TOL, `normSq n=${n} of 2^18`);
  }
  gpu.write(normSq, new Float32Array([123]));
  gradNormSquared(gpu, normSq, vg, 0);
  assert.equal((await gpu.read(normSq))[0], 0);
});

Deno.test("gradNormSquared() splits the buffer into binding-sized chunks", async () => {
  const gpu = await testGpu();
  const rng = new Rng(4);
  for (const [n, chunkFloats] of [[1003, 64], [1003, 256], [40_000, 16384 + 64]]) {
    const grads = rng.uniformArray(n);
    const vg = gpu.tensor(n);
    gpu.write(vg, grads);
    const normSq = gpu.tensor(1);
    gradNormSquared(gpu, normSq, vg, n, { chunkFloats });
    assertClose(await gpu.read(normSq), [refNormSq(grads)], TOL, `normSq n=${n} chunk=${chunkFloats}`);
  }
});

Deno.test("gradNormSquared() uses a caller's scratch and rejects one too small", async () => {
  const gpu = await testGpu();
  const n = 5000;
  const chunkFloats = 1024; // 5 windows of one partial each
  const grads = new Rng(5).uniformArray(n);
  const vg = gpu.tensor(n);
  gpu.write(vg, grads);
  const floats = gradNormScratchFloats(gpu, n, chunkFloats);
  assert.equal(floats, 8); // 5 partials, rounded up to a vec4
  const normSq = gpu.tensor(1);
  gradNormSquared(gpu, normSq, vg, n, { chunkFloats, scratch: gpu.tensor(floats) });
  assertClose(await gpu.read(normSq), [refNormSq(grads)], TOL, "normSq with scratch");
  assert.throws(
    () => gradNormSquared(gpu, normSq, vg, n, { chunkFloats, scratch: gpu.tensor(4) }),
    /scratch needs 8 floats, got 4/,
  );
  assert.throws(() => gradNormSquared(gpu, normSq, vg, n + 1), /exceeds the 5000-float grads view/);
});

Deno.test("gradNormSquared() is bit-identical across runs", async () => {
  const gpu = await testGpu();
  const n = 1_000_003;
  const grads = new Rng(6).uniformArray(n);
  const vg = gpu.tensor(n);
  gpu.write(vg, grads);
  const results: number[] = [];
  for (let run = 0; run < 3; run++) {
    const normSq = gpu.tensor(1);
    gradNormSquared(gpu, normSq, vg, n);
    results.push(new Uint32Array((await gpu.read(normSq)).buffer)[0]);
  }
  assert.deepEqual(results, [results[0], results[0], results[0]]);
});

Deno.test("gradNormSquared() matches on a GPT-2-sized buffer larger than one binding", async () => {
  const gpu = await testGpu();
  // Larger than lavapipe's 128 MiB binding: wte (50304·768) plus 1 MiB, so the default chunking splits it.
  const n = 50304 * 768 + (1 << 18) + 3;
  const rng = new Rng(7);
  const grads = new Float32Array(n);
  for (let i = 0; i < n; i++) grads[i] = (rng.nextU32() / 4294967296 - 0.5) * 0.01;
  const vg = gpu.tensor(n);
  gpu.write(vg, grads);
  const normSq = gpu.tensor(1);
  gradNormSquared(gpu, normSq, vg, n);
  assertClose(await gpu.read(normSq), [refNormSq(grads)], TOL, "normSq GPT-2 size");
  vg.buffer.destroy();
});
