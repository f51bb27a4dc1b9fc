import assert from "node:assert/strict";
import { geluBackward, geluForward } from "../../lib/ops/gelu.ts";
import { geluBackwardRef, geluForwardRef } from "../../lib/ref/gelu.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, finiteDifference, testGpu } from "../_check.ts";

const TOL = { atol: 2e-6, rtol: 1e-5 };

/** Mostly typical activations, plus some large magnitudes where a naive tanh overflows. */
function activations(rng: Rng, n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = i % 97 === 0 ? 60 * (rng.next() - 0.5) : 3 * rng.normal();
  return x;
}

for (
  const [label, n] of [
    ["odd shape B=3 T=7 4C=96", 3 * 7 * 96],
    ["GPT-2 size B=1 T=1024 4C=3072", 1024 * 3072],
  ] as const
) {
  Deno.test(`geluForward() and geluBackward() match the reference, ${label}`, async () => {
    const gpu = await testGpu();
    const rng = new Rng(n);
    const x = activations(rng, n);
    const dout = rng.uniformArray(n);
    const [vx, vout, vdout, vdinp] = [gpu.tensor(n), gpu.tensor(n), gpu.tensor(n), gpu.tensor(n)];
    gpu.write(vx, x);
    gpu.write(vdout, dout);
    gpu.write(vdinp, rng.uniformArray(n)); // overwritten, not accumulated into
    geluForward(gpu, vout, vx, n);
    geluBackward(gpu, vdinp, vx, vdout, n);

    const eOut = new Float32Array(n), eDinp = new Float32Array(n);
    geluForwardRef(eOut, x, n);
    geluBackwardRef(eDinp, x, dout, n);
    assertClose(await gpu.read(vout), eOut, TOL, "out");
    assertClose(await gpu.read(vdinp), eDinp, TOL, "dinp");
  });
}

Deno.test("geluBackward() in place (dinp is dout) matches the reference and the out-of-place result", async () => {
  const gpu = await testGpu();
  const n = 5 * 11 * 96;
  const rng = new Rng(3);
  const x = activations(rng, n);
  const dout = rng.uniformArray(n);
  const [vx, vd, vsep] = [gpu.tensor(n), gpu.tensor(n), gpu.tensor(n)];
  gpu.write(vx, x);
  gpu.write(vd, dout);
  geluBackward(gpu, vsep, vx, vd, n);
  geluBackward(gpu, vd, vx, vd, n);
  const expected = new Float32Array(dout);
  geluBackwardRef(expected, x, expected, n);
  const inplace = await gpu.read(vd);
  assertClose(inplace, expected, TOL, "in-place dinp");
  assert.deepEqual(inplace, await gpu.read(vsep));
});

Deno.test("geluForward() and geluBackward() give the exact limits (no NaN) for large |x|", async () => {
  const gpu = await testGpu();
  const x = new Float32Array([-1e4, -100, -20, -10, 30, 10, 20, 100, 1e4, 50, -50, 3e3]);
  const [vx, vout, vd] = [gpu.tensor(x.length), gpu.tensor(x.length), gpu.tensor(x.length)];
  gpu.write(vx, x);
  gpu.write(vd, new Float32Array(x.length).fill(1));
  geluForward(gpu, vout, vx, x.length);
  geluBackward(gpu, vd, vx, vd, x.length);
  const out = await gpu.read(vout), grad = await gpu.read(vd);
  x.forEach((xi, i) => {
    // == so that −0 counts as 0
    assert.ok(out[i] == (xi > 0 ? xi : 0), `gelu(${xi}) = ${out[i]}`);
    assert.ok(grad[i] == (xi > 0 ? 1 : 0), `gelu'(${xi}) = ${grad[i]}`);
  });
});

Deno.test("gelu ops reject n not a multiple of 4 and partially overlapping views", async () => {
  const gpu = await testGpu();
  const v = gpu.tensor(32);
  assert.throws(() => geluForward(gpu, gpu.tensor(6), gpu.tensor(6), 6), /multiple of 4/);
  assert.throws(() => geluForward(gpu, v, v, 32), /must not overlap/);
  const a = gpu.slice(v, 0, 8), b = gpu.slice(v, 4, 8);
  assert.throws(() => geluBackward(gpu, a, gpu.tensor(8), b, 8), /overlaps dout/);
});

Deno.test("geluBackwardRef() matches central finite differences in float64", () => {
  const n = 40;
  const rng = new Rng(5);
  const x = Float64Array.from(activations(rng, n).map((v) => v / 2));
  const w = Float64Array.from(rng.uniformArray(n)); // loss = Σ gelu(x) · w, so dout = w
  const loss = () => {
    const out = new Float64Array(n);
    geluForwardRef(out, x, n);
    return out.reduce((s, o, i) => s + o * w[i], 0);
  };
  const dinp = new Float64Array(n);
  geluBackwardRef(dinp, x, w, n);
  assertClose(dinp, finiteDifference(loss, x), { atol: 1e-8, rtol: 1e-6 }, "dinp");
});
