import assert from "node:assert/strict";
import { type Gpu, rowParts } from "../../lib/gpu/runtime.ts";
import {
  biasBackward,
  matmul,
  type MatmulAccess,
  type MatmulArgs,
  matmulFlops,
  type MatmulVariant,
  matmulWith,
} from "../../lib/ops/matmul.ts";
import { biasBackwardRef, matmulBackwardRef, matmulForwardRef, matmulRef } from "../../lib/ref/matmul.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, finiteDifference, testGpu } from "../_check.ts";
import { withUnrolledBody } from "../../scripts/gen_matmul_subgroup.ts";

const TOL = { atol: 1e-5, rtol: 1e-4 };

/** One matmul problem: shapes, flags, strides and where each operand sits in its buffer. */
interface Case {
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  bias?: boolean;
  accumulate?: boolean;
  ldA?: number;
  ldB?: number;
  ldOut?: number;
  /** Offset of every view in its buffer, in floats (a multiple of 64: 256 bytes). */
  offset?: number;
}

function label(c: Case): string {
  const t = `${c.transA ? "T" : "N"}${c.transB ? "T" : "N"}`;
  const flags = [
    c.bias && "bias",
    c.accumulate && "accumulate",
    c.ldA && `ldA=${c.ldA}`,
    c.ldB && `ldB=${c.ldB}`,
  ]
    .concat([c.ldOut && `ldOut=${c.ldOut}`, c.offset && `offset=${c.offset}`]).filter(Boolean).join(" ");
  return `${t} M=${c.M} N=${c.N} K=${c.K} ${flags}`;
}

/**
 * Runs a case on the GPU and in the reference and compares the whole output buffer, including the row
 * padding, the floats before the view and the floats after it, which must stay untouched.
 */
async function check(
  gpu: Gpu,
  rng: Rng,
  c: Case,
  variant: MatmulVariant,
  access?: MatmulAccess,
): Promise<void> {
  const { M, N, K } = c;
  const transA = c.transA ?? false;
  const transB = c.transB ?? false;
  const ldA = c.ldA ?? (transA ? M : K);
  const ldB = c.ldB ?? (transB ? K : N);
  const ldOut = c.ldOut ?? N;
  const off = c.offset ?? 0;
  const size = (rows: number, cols: number, ld: number) =>
    rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
  const nA = size(transA ? K : M, transA ? M : K, ldA);
  const nB = size(transB ? N : K, transB ? K : N, ldB);
  const nOut = size(M, N, ldOut);
  // Each buffer has `off` floats before the view and 7 after it.
  const tensor = (n: number, data: Float32Array) => {
    const whole = gpu.tensor(off + n + 7);
    gpu.write(whole, data);
    return { whole, view: gpu.slice(whole, off, n) };
  };
  const A = rng.uniformArray(off + nA + 7);
  const B = rng.uniformArray(off + nB + 7);
  const O = rng.uniformArray(off + nOut + 7);
  const bias = rng.uniformArray(off + N + 7);
  const [a, b, out, vbias] = [tensor(nA, A), tensor(nB, B), tensor(nOut, O), tensor(N, bias)];
  const args: MatmulArgs = {
    out: out.view,
    a: a.view,
    b: b.view,
    bias: c.bias ? vbias.view : null,
    M,
    N,
    K,
    transA,
    transB,
    accumulate: c.accumulate,
    ldA: c.ldA,
    ldB: c.ldB,
    ldOut: c.ldOut,
  };
  matmulWith(gpu, args, variant, access);
  const expected = O.slice();
  matmulRef(expected.subarray(off), A.subarray(off), B.subarray(off), M, N, K, {
    transA,
    transB,
    bias: c.bias ? bias.subarray(off) : null,
    accumulate: c.accumulate,
    ldA,
    ldB,
    ldOut,
  });
  assertClose(await gpu.read(out.whole), expected, TOL, `${variant}/${access ?? "auto"} ${label(c)}`);
}

/** Round up to a multiple of 4. */
const up4 = (n: number) => Math.ceil(n / 4) * 4;

// NN, NT and TN, each plain, with bias and accumulating.
function combos(M: number, N: number, K: number, extra: (c: Case) => Case = (c) => c): Case[] {
  const cases: Case[] = [];
  for (const [transA, transB] of [[false, false], [false, true], [true, false]]) {
    for (const flags of [{}, { bias: true }, { accumulate: true }]) {
      cases.push(extra({ M, N, K, transA, transB, ...flags }));
    }
  }
  return cases;
}

// Odd shapes with their natural (mostly unaligned) strides: the scalar-access kernel.
const ODD_CASES: Case[] = [
  ...combos(7, 24, 13),
  ...combos(3, 50, 5),
  ...combos(70, 130, 45),
];

// Odd M, N, K with vec4-friendly strides (multiples of 4 with padding) and views 256 bytes into their
// buffers: exercises the masked edges, the merged last vec4 of a row and the widened bindings.
const VEC4_CASES: Case[] = combos(65, 66, 67, (c) => ({
  ...c,
  ldA: up4(c.transA ? c.M : c.K) + 4,
  ldB: up4(c.transB ? c.K : c.N) + 8,
  ldOut: up4(c.N) + 4,
  offset: 64,
}));

for (const variant of ["chunked", "looped"] as const) {
  Deno.test(`matmul() ${variant} matches the reference for NN, NT and TN on odd shapes (scalar access)`, async () => {
    const gpu = await testGpu();
    const rng = new Rng(1);
    for (const c of ODD_CASES) await check(gpu, rng, c, variant);
  });

  Deno.test(`matmul() ${variant} matches the reference with custom strides and view offsets (vec4 access)`, async () => {
    const gpu = await testGpu();
    const rng = new Rng(2);
    for (const c of VEC4_CASES) await check(gpu, rng, c, variant, "vec4");
  });
}

/** Plain, with bias and accumulating, each with padded vec4 strides and views 256 bytes into their buffers. */
function paddedCases(shapes: number[][], trans: { transA?: boolean; transB?: boolean }): Case[] {
  return shapes.flatMap(([M, N, K]) =>
    [{}, { bias: true }, { accumulate: true }].map((flags) => ({
      M,
      N,
      K,
      ...trans,
      ...flags,
      ldA: up4(trans.transA ? M : K) + 4,
      ldB: up4(trans.transB ? K : N) + 8,
      ldOut: up4(N) + 4,
      offset: 64,
    }))
  );
}

// NT products for the bcast variant: several K slabs of 64 (with a ragged last one), several windows of A
// rows, a partial last vec4 of columns.
const BCAST_CASES = paddedCases([[130, 1030, 131], [9, 5, 3], [300, 257, 64]], { transB: true });

// TN products for the bcast variant: several K slabs of 64 (with a ragged last one), a partial last vec4 of
// rows and of columns.
const BCAST_TN_CASES = paddedCases([[1030, 130, 131], [9, 5, 3], [257, 64, 300]], { transA: true });

// NN products for the bcast variant (A stored (M, K)): several K slabs of 64 (with a ragged last one),
// several workgroups of rows, a partial last vec4 of rows and of columns.
const BCAST_NN_CASES = paddedCases([[261, 130, 1031], [9, 5, 3], [257, 64, 300]], {});

Deno.test("matmul() bcast matches the reference for NT with many K slabs and row windows", async () => {
  const gpu = await testGpu();
  const rng = new Rng(7);
  for (const c of BCAST_CASES) await check(gpu, rng, c, "bcast", "vec4");
});

Deno.test("matmul() bcast matches the reference for TN with many K slabs and partial vec4s", async () => {
  const gpu = await testGpu();
  const rng = new Rng(9);
  for (const c of BCAST_TN_CASES) await check(gpu, rng, c, "bcast", "vec4");
});

Deno.test("matmul() bcast matches the reference for NN with many K slabs and partial vec4s", async () => {
  const gpu = await testGpu();
  const rng = new Rng(10);
  for (const c of BCAST_NN_CASES) await check(gpu, rng, c, "bcast", "vec4");
});

// NN and TN products whose 64 B rows do not fit one 64 KiB window (N > 256 columns): done in blocks of 256
// columns, each staged row by row; a ragged last block, padded strides and views 256 bytes in.
const BCAST_BLOCK_CASES = [
  ...paddedCases([[261, 516, 131], [9, 300, 3]], {}),
  ...paddedCases([[130, 600, 70]], { transA: true }),
  { M: 40, N: 300, K: 70, transA: true, ldA: 40, ldB: 300, ldOut: 300 },
  { M: 40, N: 300, K: 70, ldA: 72, ldB: 300, ldOut: 300 },
];

Deno.test("matmul() bcast does B rows wider than one window in column blocks (NN and TN)", async () => {
  const gpu = await testGpu();
  const rng = new Rng(11);
  for (const c of BCAST_BLOCK_CASES) await check(gpu, rng, c, "bcast", "vec4");
});

Deno.test("matmul() bcast falls back to the chunked kernel for unaligned strides", async () => {
  const gpu = await testGpu();
  const rng = new Rng(8);
  for (const c of [...combos(7, 24, 13), ...VEC4_CASES.filter((c) => !c.transB)]) {
    await check(gpu, rng, c, "bcast");
  }
});

Deno.test("matmul() scalar access handles strides and offsets that vec4 access cannot", async () => {
  const gpu = await testGpu();
  const rng = new Rng(3);
  for (
    const c of combos(
      33,
      37,
      41,
      (c) => ({ ...c, ldA: (c.transA ? 33 : 41) + 3, ldB: (c.transB ? 41 : 37) + 1, ldOut: 39, offset: 128 }),
    )
  ) {
    await check(gpu, rng, c, "chunked", "scalar");
  }
});

// Shapes for the subgroup variant: several K slabs of 64 with a ragged last one, N not a multiple of its 8
// columns per invocation, M split among workgroups along y (301 rows in 2 parts, 4500 in 2 of at most
// 4096), and workgroups of 8 and (N ≥ 4096) 64 invocations.
const SUBGROUP_SHAPES = [[7, 24, 13], [70, 130, 45], [65, 66, 200], [301, 9, 129], [4500, 12, 66], [
  3,
  4103,
  70,
]];

Deno.test("matmul() subgroup matches the reference for NN, NT and TN on odd shapes, padded strides and offsets", async () => {
  const gpu = await testGpu();
  assert(gpu.hasSubgroups || !gpu.isFallbackAdapter, "lavapipe grants subgroups of 8");
  const rng = new Rng(11);
  for (const trans of [{}, { transB: true }, { transA: true }]) {
    for (const c of paddedCases(SUBGROUP_SHAPES, trans)) await check(gpu, rng, c, "subgroup", "vec4");
  }
});

Deno.test("matmul_subgroup.wgsl's unrolled part is what scripts/gen_matmul_subgroup.ts writes", async () => {
  const file = await Deno.readTextFile(
    new URL("../../lib/gpu/kernels/matmul_subgroup.wgsl", import.meta.url),
  );
  assert.equal(file, withUnrolledBody(file), "rerun scripts/gen_matmul_subgroup.ts");
});

Deno.test("matmul() subgroup falls back to the chunked kernel for unaligned strides", async () => {
  const gpu = await testGpu();
  const rng = new Rng(12);
  for (const c of combos(9, 21, 70)) await check(gpu, rng, c, "subgroup");
});

Deno.test("matmul() with K = 0 writes the bias (or zeros) and leaves an accumulated output unchanged", async () => {
  const gpu = await testGpu();
  const rng = new Rng(4);
  for (
    const c of [{ M: 5, N: 9, K: 0, bias: true }, { M: 5, N: 9, K: 0 }, {
      M: 5,
      N: 9,
      K: 0,
      accumulate: true,
    }]
  ) {
    await check(gpu, rng, c, "chunked");
    await check(gpu, rng, c, "looped");
    await check(gpu, rng, { ...c, transB: true, ldB: 4, ldOut: 12 }, "bcast", "vec4");
    await check(gpu, rng, { ...c, transA: true, ldA: 8, ldB: 12, ldOut: 12 }, "bcast", "vec4");
    await check(gpu, rng, { ...c, ldA: 4, ldB: 12, ldOut: 12 }, "bcast", "vec4");
    await check(gpu, rng, { ...c, transB: true, ldB: 4, ldOut: 12 }, "subgroup", "vec4");
    await check(gpu, rng, { ...c, transA: true, ldA: 8, ldB: 12, ldOut: 12 }, "subgroup", "vec4");
    await check(gpu, rng, { ...c, ldA: 4, ldB: 12, ldOut: 12 }, "subgroup", "vec4");
  }
});

Deno.test("matmul() matches the reference at GPT-2 sizes (1024×768×768 NN + bias; lm_head 64×50257×768 NT, 50257×256×256 TN, 256×256×50257 NN)", async () => {
  const gpu = await testGpu();
  const rng = new Rng(5);
  // Full references would take seconds in TypeScript: compare 3000 entries, each computed exactly.
  const compare = (
    got: Float32Array,
    ldOut: number,
    M: number,
    N: number,
    K: number,
    entry: (m: number, n: number) => number,
    tol = { atol: 1e-4, rtol: 1e-4 },
  ) => {
    const actual = new Float32Array(3000);
    const expected = new Float32Array(3000);
    for (let s = 0; s < 3000; s++) {
      const m = rng.int(M);
      const n = s < 16 ? N - 1 - s : rng.int(N); // always include the last columns
      expected[s] = entry(m, n);
      actual[s] = got[m * ldOut + n];
    }
    assertClose(actual, expected, tol, `M=${M} N=${N} K=${K}`);
  };
  {
    const [M, N, K] = [1024, 768, 768];
    const A = rng.uniformArray(M * K);
    const B = rng.uniformArray(K * N);
    const bias = rng.uniformArray(N);
    const [a, b, out, vbias] = [gpu.tensor(M * K), gpu.tensor(K * N), gpu.tensor(M * N), gpu.tensor(N)];
    gpu.write(a, A);
    gpu.write(b, B);
    gpu.write(vbias, bias);
    matmul(gpu, { out, a, b, bias: vbias, M, N, K });
    compare(await gpu.read(out), N, M, N, K, (m, n) => {
      let sum = bias[n];
      for (let k = 0; k < K; k++) sum += A[m * K + k] * B[k * N + n];
      return sum;
    });
  }
  {
    // logits (M, Vp) = x (M, C) · wteᵀ, wte (V, C) bound in row parts like lib/model/gpt2.ts does.
    const [M, V, C, Vp] = [64, 50257, 768, 50304];
    const X = rng.uniformArray(M * C);
    const wte = gpu.tensor(V * C);
    const W = rng.uniformArray(V * C);
    gpu.write(wte, W);
    const x = gpu.tensor(M * C);
    gpu.write(x, X);
    const logits = gpu.tensor(M * Vp);
    for (const part of rowParts(gpu, wte, V, C)) {
      const out = gpu.slice(logits, part.row0, (M - 1) * Vp + part.rows);
      matmul(gpu, { out, a: x, b: part.view, M, N: part.rows, K: C, transB: true, ldOut: Vp });
    }
    compare(await gpu.read(logits), Vp, M, V, C, (m, n) => {
      let sum = 0;
      for (let k = 0; k < C; k++) sum += X[m * C + k] * W[n * C + k];
      return sum;
    });
  }
  {
    // dwte (V, C) += dlogits (rows, Vp)ᵀ · x (rows, C), at the `small` preset's width.
    const [rows, V, C, Vp] = [256, 50257, 256, 50304];
    const D = rng.uniformArray(rows * Vp);
    const X = rng.uniformArray(rows * C);
    const G = rng.uniformArray(V * C);
    const [dlogits, x, dwte] = [gpu.tensor(rows * Vp), gpu.tensor(rows * C), gpu.tensor(V * C)];
    gpu.write(dlogits, D);
    gpu.write(x, X);
    gpu.write(dwte, G);
    matmul(gpu, {
      out: dwte,
      a: dlogits,
      b: x,
      M: V,
      N: C,
      K: rows,
      transA: true,
      ldA: Vp,
      accumulate: true,
    });
    compare(await gpu.read(dwte), C, V, C, rows, (v, c) => {
      let sum = G[v * C + c];
      for (let k = 0; k < rows; k++) sum += D[k * Vp + v] * X[k * C + c];
      return sum;
    });
    // dx (rows, C) += dlogits (rows, Vp) · wte (V, C), the same width; wte is the dwte just computed.
    const Wt = await gpu.read(dwte);
    const DX = rng.uniformArray(rows * C);
    const dx = gpu.tensor(rows * C);
    gpu.write(dx, DX);
    matmul(gpu, { out: dx, a: dlogits, b: dwte, M: rows, N: C, K: V, ldA: Vp, accumulate: true });
    compare(await gpu.read(dx), C, rows, C, V, (m, c) => {
      let sum = DX[m * C + c];
      for (let v = 0; v < V; v++) sum += D[m * Vp + v] * Wt[v * C + c];
      return sum;
    }, { atol: 2e-3, rtol: 1e-4 }); // sums of 50257 products of size ~1: typical |entry| ≈ 75
  }
});

Deno.test("matmul() is deterministic: two runs are bit-identical", async () => {
  const gpu = await testGpu();
  const rng = new Rng(6);
  const [M, N, K] = [96, 80, 200];
  const a = gpu.tensor(M * K);
  const b = gpu.tensor(N * K);
  gpu.write(a, rng.uniformArray(M * K));
  gpu.write(b, rng.uniformArray(N * K));
  const runs: Float32Array[] = [];
  for (let i = 0; i < 2; i++) {
    const out = gpu.tensor(M * N);
    matmul(gpu, { out, a, b, M, N, K, transB: true });
    runs.push(await gpu.read(out));
  }
  assert.deepEqual(runs[0], runs[1]);
});

Deno.test("matmul() rejects TT, bias with accumulate, bad sizes and views that are too small", async () => {
  const gpu = await testGpu();
  const [a, b, out] = [gpu.tensor(6), gpu.tensor(6), gpu.tensor(4)];
  const base = { out, a, b, M: 2, N: 2, K: 3 };
  assert.throws(() => matmul(gpu, { ...base, transA: true, transB: true }), /TT/);
  assert.throws(() => matmul(gpu, { ...base, bias: gpu.tensor(2), accumulate: true }), /bias/);
  assert.throws(() => matmul(gpu, { ...base, K: 4 }), /a view/);
  assert.throws(() => matmul(gpu, { ...base, M: 1.5 }), /M must be/);
  assert.throws(() => matmul(gpu, { ...base, ldOut: 1 }), /row stride/);
  assert.throws(() => matmul(gpu, { ...base, bias: gpu.tensor(1) }), /bias has/);
  assert.throws(() => matmulWith(gpu, { ...base }, "chunked", "vec4"), /vec4/);
});

Deno.test("matmulRef() backward formulas (NT for dinp, TN for dweight, bias sums) match finite differences", () => {
  // loss = Σ out · w with out = inp · weight + bias, so dloss/dout = w; checked in float64.
  const rng = new Rng(7);
  const [N, C, OC] = [3, 5, 4];
  const inp = Float64Array.from(rng.uniformArray(N * C));
  const weight = Float64Array.from(rng.uniformArray(C * OC));
  const bias = Float64Array.from(rng.uniformArray(OC));
  const w = Float64Array.from(rng.uniformArray(N * OC));
  const loss = () => {
    const out = new Float64Array(N * OC);
    matmulForwardRef(out, inp, weight, bias, N, C, OC);
    return out.reduce((s, v, i) => s + v * w[i], 0);
  };
  const dinp = new Float64Array(N * C);
  const dweight = new Float64Array(C * OC);
  const dbias = new Float64Array(OC);
  matmulBackwardRef(dinp, dweight, dbias, w, inp, weight, N, C, OC);
  const fd = { atol: 1e-7, rtol: 1e-6 };
  assertClose(dinp, finiteDifference(loss, inp), fd, "dinp");
  assertClose(dweight, finiteDifference(loss, weight), fd, "dweight");
  assertClose(dbias, finiteDifference(loss, bias), fd, "dbias");
});

Deno.test("biasBackward() matches the reference, accumulates, and is deterministic", async () => {
  const gpu = await testGpu();
  const rng = new Rng(8);
  // One block (direct), several blocks, and a GPT-2 row count.
  for (const [N, OC] of [[7, 24], [600, 50], [4096, 768]]) {
    const dout = rng.uniformArray(N * OC);
    const start = rng.uniformArray(OC);
    const vdout = gpu.tensor(N * OC);
    gpu.write(vdout, dout);
    const results: Float32Array[] = [];
    for (let run = 0; run < 2; run++) {
      const dbias = gpu.tensor(OC);
      gpu.write(dbias, start);
      biasBackward(gpu, dbias, vdout, N, OC);
      results.push(await gpu.read(dbias));
    }
    const expected = start.slice();
    biasBackwardRef(expected, dout, N, OC);
    assertClose(results[0], expected, { atol: 1e-4, rtol: 1e-4 }, `dbias N=${N} OC=${OC}`);
    assert.deepEqual(results[0], results[1]);
  }
  assert.throws(() => biasBackward(gpu, gpu.tensor(4), gpu.tensor(8), 3, 4), /dout/);
});

Deno.test("matmulFlops() counts 2·M·N·K", () => {
  assert.equal(matmulFlops(3, 5, 7), 210);
});
