import { addInto, residualForward } from "../../lib/ops/residual.ts";
import { addIntoRef, residualForwardRef } from "../../lib/ref/residual.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, testGpu } from "../_check.ts";

const TOL = { atol: 1e-6, rtol: 1e-6 };

for (
  const [label, n] of [["odd shape B=3 T=7 C=24", 3 * 7 * 24], [
    "GPT-2 size B=4 T=1024 C=768",
    4 * 1024 * 768,
  ]]
) {
  Deno.test(`residualForward() and addInto() match the reference, ${label}`, async () => {
    const gpu = await testGpu();
    const rng = new Rng(1);
    const a = rng.uniformArray(n as number);
    const b = rng.uniformArray(n as number);
    const [va, vb, vout] = [gpu.tensor(n as number), gpu.tensor(n as number), gpu.tensor(n as number)];
    gpu.write(va, a);
    gpu.write(vb, b);
    residualForward(gpu, vout, va, vb, n as number);
    const expected = new Float32Array(n as number);
    residualForwardRef(expected, a, b, n as number);
    assertClose(await gpu.read(vout), expected, TOL, "residual out");

    addInto(gpu, vout, va, n as number);
    addIntoRef(expected, a, n as number);
    assertClose(await gpu.read(vout), expected, TOL, "add_into dst");
  });
}

Deno.test("Gpu.read() reuses pooled staging buffers and reads exact bytes at any offset", async () => {
  const gpu = await testGpu();
  const v = gpu.tensor(1000);
  const data = Float32Array.from({ length: 1000 }, (_, i) => i * 0.5);
  gpu.write(v, data);
  const before = gpu.readbackBuffersCreated;
  for (let i = 0; i < 5; i++) {
    const part = await gpu.read(gpu.slice(v, 64 * i, 37));
    assertClose(part, data.subarray(64 * i, 64 * i + 37), { atol: 0, rtol: 0 }, `read ${i}`);
  }
  // Five reads of the same size class share one staging buffer.
  if (gpu.readbackBuffersCreated - before > 1) throw new Error("staging buffers were not reused");
});
