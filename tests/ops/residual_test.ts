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
