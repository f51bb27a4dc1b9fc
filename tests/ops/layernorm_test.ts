import { layernormBackward, layernormForward, type LayernormTuning } from "../../lib/ops/layernorm.ts";
import { layernormBackwardRef, layernormForwardRef } from "../../lib/ref/layernorm.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, finiteDifference, testGpu } from "../_check.ts";
import assert from "node:assert/strict";

const EPS = 1e-5;
const TOL = { atol: 1e-5, rtol: 1e-4 };

/** Random inputs with a per-row offset and scale, so the mean/variance computation matters. */
function makeInputs(rng: Rng, N: number, C: number) {
  const inp = new Float32Array(N * C);
  for (let n = 0; n < N; n++) {
    const shift = 3 * rng.normal();
    const scale = 0.5 + 2 * rng.next();
    for (let c = 0; c < C; c++) inp[n * C + c] = shift + scale * rng.normal();
  }
  return {
    inp,
    weight: rng.uniformArray(C, 0.5, 1.5),
    bias: rng.uniformArray(C, -0.5, 0.5),
    dout: rng.uniformArray(N * C),
    // Nonzero starting gradients check that the kernels accumulate.
    dinp0: rng.uniformArray(N * C),
    dweight0: rng.uniformArray(C),
    dbias0: rng.uniformArray(C),
  };
}

async function runBoth(N: number, C: number, seed: number, tuning: LayernormTuning) {
  const gpu = await testGpu();
  const x = makeInputs(new Rng(seed), N, C);
  const t = (n: number, data?: Float32Array) => {
    const v = gpu.tensor(n);
    if (data) gpu.write(v, data);
    return v;
  };
  const inp = t(N * C, x.inp), weight = t(C, x.weight), bias = t(C, x.bias), dout = t(N * C, x.dout);
  const out = t(N * C), mean = t(N), rstd = t(N);
  const dinp = t(N * C, x.dinp0), dweight = t(C, x.dweight0), dbias = t(C, x.dbias0);
  layernormForward(gpu, out, mean, rstd, inp, weight, bias, N, C, EPS, tuning);
  layernormBackward(gpu, dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C, tuning);

  const eOut = new Float32Array(N * C), eMean = new Float32Array(N), eRstd = new Float32Array(N);
  layernormForwardRef(eOut, eMean, eRstd, x.inp, x.weight, x.bias, N, C, EPS);
  const eDinp = x.dinp0.slice(), eDweight = x.dweight0.slice(), eDbias = x.dbias0.slice();
  layernormBackwardRef(eDinp, eDweight, eDbias, x.dout, x.inp, x.weight, eMean, eRstd, N, C);

  assertClose(await gpu.read(out), eOut, TOL, "out");
  assertClose(await gpu.read(mean), eMean, TOL, "mean");
  assertClose(await gpu.read(rstd), eRstd, TOL, "rstd");
  assertClose(await gpu.read(dinp), eDinp, TOL, "dinp");
  // Parameter gradients sum N terms, so their rounding grows with N.
  const sumTol = { atol: 1e-5 * Math.sqrt(N), rtol: 1e-4 };
  assertClose(await gpu.read(dweight), eDweight, sumTol, "dweight");
  assertClose(await gpu.read(dbias), eDbias, sumTol, "dbias");
}

// Both the lavapipe variant (8 lanes per row, few blocks) and the GPU variant (64 lanes, many blocks)
// run on every adapter; the default picks one of them.
const VARIANTS: [string, LayernormTuning][] = [
  ["default variant", {}],
  ["8 lanes, 4 blocks", { lanes: 8, blocks: 4 }],
  ["64 lanes, 512 blocks", { lanes: 64, blocks: 512 }],
];
for (
  const [label, N, C] of [
    ["odd shape N=21 (B=3 T=7), C=24", 21, 24],
    ["one row N=1, C=8", 1, 8],
    ["odd N=301, C=768", 301, 768],
  ] as const
) {
  Deno.test(`layernormForward() and layernormBackward() match the reference, ${label}`, async (t) => {
    for (const [name, tuning] of VARIANTS) {
      await t.step(name, () => runBoth(N, C, N + C, tuning));
    }
  });
}

Deno.test("layernormForward() and layernormBackward() match the reference, GPT-2 size N=4096 (B=4 T=1024), C=768", async () => {
  await runBoth(4096, 768, 1, {});
});

Deno.test("layernormBackward() is deterministic: two runs are bit-identical", async () => {
  const gpu = await testGpu();
  const N = 1000, C = 768;
  const x = makeInputs(new Rng(7), N, C);
  const t = (n: number, data: Float32Array) => {
    const v = gpu.tensor(n);
    gpu.write(v, data);
    return v;
  };
  const inp = t(N * C, x.inp), weight = t(C, x.weight), bias = t(C, x.bias), dout = t(N * C, x.dout);
  const out = gpu.tensor(N * C), mean = gpu.tensor(N), rstd = gpu.tensor(N);
  layernormForward(gpu, out, mean, rstd, inp, weight, bias, N, C, EPS);
  const results: Uint32Array[] = [];
  for (let run = 0; run < 2; run++) {
    const dinp = t(N * C, x.dinp0), dweight = t(C, x.dweight0), dbias = t(C, x.dbias0);
    layernormBackward(gpu, dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
    const bytes = [await gpu.readBytes(dinp), await gpu.readBytes(dweight), await gpu.readBytes(dbias)];
    results.push(new Uint32Array(bytes.flatMap((b) => [...new Uint32Array(b)])));
  }
  assert.deepEqual(results[0], results[1]);
});

Deno.test("layernormForward() rejects C not a multiple of 4 and short views", async () => {
  const gpu = await testGpu();
  const v = gpu.tensor(64);
  assert.throws(() => layernormForward(gpu, v, v, v, v, v, v, 2, 6, EPS), /multiple of 4/);
  assert.throws(() => layernormForward(gpu, v, v, v, v, v, v, 4, 32, EPS), /out holds 64 floats, needs 128/);
});

Deno.test("layernormBackwardRef() matches central finite differences in float64", () => {
  const N = 3, C = 8;
  const rng = new Rng(11);
  const inp = Float64Array.from(makeInputs(rng, N, C).inp);
  const weight = Float64Array.from(rng.uniformArray(C, 0.5, 1.5));
  const bias = Float64Array.from(rng.uniformArray(C));
  const w = Float64Array.from(rng.uniformArray(N * C)); // loss = Σ out · w, so dout = w
  const loss = () => {
    const out = new Float64Array(N * C), mean = new Float64Array(N), rstd = new Float64Array(N);
    layernormForwardRef(out, mean, rstd, inp, weight, bias, N, C, EPS);
    return out.reduce((s, o, i) => s + o * w[i], 0);
  };
  const mean = new Float64Array(N), rstd = new Float64Array(N);
  layernormForwardRef(new Float64Array(N * C), mean, rstd, inp, weight, bias, N, C, EPS);
  const dinp = new Float64Array(N * C), dweight = new Float64Array(C), dbias = new Float64Array(C);
  layernormBackwardRef(dinp, dweight, dbias, w, inp, weight, mean, rstd, N, C);
  const tol = { atol: 1e-7, rtol: 1e-6 };
  assertClose(dinp, finiteDifference(loss, inp), tol, "dinp");
  assertClose(dweight, finiteDifference(loss, weight), tol, "dweight");
  assertClose(dbias, finiteDifference(loss, bias), tol, "dbias");
});
