import { throws as assertThrows } from "node:assert/strict";
import type { Gpu, View } from "../../lib/gpu/runtime.ts";
import { cosineLoss, maskCount, mseLoss, type MseProjection } from "../../lib/ops/hidden_losses.ts";
import {
  cosineLossBackwardRef,
  cosineLossRef,
  mseLossBackwardRef,
  mseLossRef,
  type ProjectionRef,
} from "../../lib/ref/hidden_losses.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, finiteDifference, testGpu } from "../_check.ts";

const LOSS_TOL = { atol: 1e-6, rtol: 1e-5 };

function upload(gpu: Gpu, data: Float32Array | Uint32Array): View {
  const view = gpu.tensor(data.length);
  gpu.write(view, data);
  return view;
}

function normals(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

function maskWith(N: number, padded: number[]): Uint32Array {
  const mask = new Uint32Array(N).fill(1);
  for (const n of padded) mask[n] = 0;
  return mask;
}

function maxAbs(x: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]));
  return max;
}

/** A gradient tolerance relative to the largest expected entry. */
function gradTol(expected: ArrayLike<number>, rel = 1e-5) {
  return { atol: rel * maxAbs(expected), rtol: 2e-5 };
}

/** Teacher states correlated with the student's (cos well away from 0 and 1), as in real distillation. */
function teacherOf(rng: Rng, hS: Float32Array): Float32Array {
  return hS.map((s) => 0.8 * s + 0.6 * rng.normal() + 0.1);
}

async function checkCosine(gpu: Gpu, N: number, C: number, padded: number[], seed: number): Promise<void> {
  const rng = new Rng(seed);
  const hS = normals(rng, N * C, 2);
  const hT = teacherOf(rng, hS);
  const mask = maskWith(N, padded);
  const [weight, gradScale] = [1.7, 0.3];
  const rowRef = new Float64Array(N);
  const lossRef = cosineLossRef(hS, hT, mask, N, C, rowRef);
  const over = new Float64Array(N * C);
  cosineLossBackwardRef(over, hS, hT, mask, N, C, weight * gradScale);
  // What the accumulate run adds onto, as large as the gradient so that errors in it cannot hide.
  const start = normals(rng, N * C, maxAbs(over));
  const dRef = Float64Array.from(start);
  cosineLossBackwardRef(dRef, hS, hT, mask, N, C, weight * gradScale, true);

  const [vS, vT, vMask, loss, rows] = [
    upload(gpu, hS),
    upload(gpu, hT),
    upload(gpu, mask),
    gpu.tensor(1),
    gpu.tensor(N),
  ];
  const dhS = upload(gpu, start);
  cosineLoss(gpu, {
    loss,
    dhS,
    hS: vS,
    hT: vT,
    mask: vMask,
    N,
    C,
    weight,
    gradScale,
    accumulate: true,
    rowLosses: rows,
  });
  assertClose(await gpu.read(loss), [lossRef], LOSS_TOL, "cosine loss");
  assertClose(await gpu.read(rows), rowRef, LOSS_TOL, "cosine row losses");
  assertClose(await gpu.read(dhS), dRef, gradTol(dRef), "dhS (accumulated)");

  // Overwrite mode: the garbage already in dhS must vanish.
  cosineLoss(gpu, { loss, dhS, hS: vS, hT: vT, mask: vMask, N, C, weight, gradScale });
  assertClose(await gpu.read(dhS), over, gradTol(over), "dhS (overwritten)");
}

Deno.test("cosineLoss() matches the reference on odd shapes N=9 C=24 with padding positions", async () => {
  await checkCosine(await testGpu(), 9, 24, [2, 7], 1);
});

Deno.test("cosineLoss() matches the reference at GPT-2 size N=256 C=768", async () => {
  await checkCosine(await testGpu(), 256, 768, [0, 100, 255], 2);
});

interface MseCase {
  N: number;
  Cs: number;
  Ct: number;
  padded: number[];
  projected: boolean;
  seed: number;
}

async function checkMse(gpu: Gpu, c: MseCase): Promise<void> {
  const { N, Cs, Ct } = c;
  const rng = new Rng(c.seed);
  const hS = normals(rng, N * Cs);
  const projRef: ProjectionRef | null = c.projected
    ? { weight: normals(rng, Cs * Ct, 1 / Math.sqrt(Cs)), bias: normals(rng, Ct, 0.1) }
    : null;
  const hT = normals(rng, N * Ct);
  const mask = maskWith(N, c.padded);
  const [weight, gradScale] = [0.6, 2];
  const lossRef = mseLossRef(hS, hT, mask, N, Cs, Ct, projRef);
  const gRef = mseLossBackwardRef(hS, hT, mask, N, Cs, Ct, projRef, weight * gradScale);
  // Accumulation targets start non-zero (everything must be +=), as large as the gradients so errors show.
  const dStart = normals(rng, N * Cs, maxAbs(gRef.dhS));
  const dWStart = normals(rng, Cs * Ct, gRef.dWeight ? maxAbs(gRef.dWeight) : 1);
  const dbStart = normals(rng, Ct, gRef.dBias ? maxAbs(gRef.dBias) : 1);

  const [vS, vT, vMask, loss, rows] = [
    upload(gpu, hS),
    upload(gpu, hT),
    upload(gpu, mask),
    gpu.tensor(1),
    gpu.tensor(N),
  ];
  const dhS = upload(gpu, dStart);
  let projection: MseProjection | null = null;
  if (projRef) {
    projection = {
      weight: upload(gpu, Float32Array.from(projRef.weight)),
      bias: upload(gpu, Float32Array.from(projRef.bias)),
      dWeight: upload(gpu, dWStart),
      dBias: upload(gpu, dbStart),
      workspace: gpu.tensor(N * Ct),
    };
  }
  mseLoss(gpu, {
    loss,
    dhS,
    hS: vS,
    hT: vT,
    mask: vMask,
    N,
    Cs,
    Ct,
    weight,
    gradScale,
    projection,
    rowLosses: rows,
  });
  assertClose(await gpu.read(loss), [lossRef], { atol: 1e-6, rtol: 1e-5 }, "mse loss");
  const rowSum = (await gpu.read(rows)).reduce((a, b) => a + b, 0);
  assertClose(
    [rowSum / ((N - c.padded.length) * Ct)],
    [lossRef],
    { atol: 1e-6, rtol: 1e-5 },
    "mse row losses",
  );
  const plus = (start: Float32Array, g: Float64Array) => start.map((x, i) => x + g[i]);
  assertClose(await gpu.read(dhS), plus(dStart, gRef.dhS), gradTol(gRef.dhS), "dhS (accumulated)");
  if (projection) {
    assertClose(
      await gpu.read(projection.dWeight),
      plus(dWStart, gRef.dWeight!),
      gradTol(gRef.dWeight!),
      "dW",
    );
    assertClose(await gpu.read(projection.dBias), plus(dbStart, gRef.dBias!), gradTol(gRef.dBias!), "db");
  }
}

Deno.test("mseLoss() matches the reference on odd shapes N=9 C=24, without and with a projection 24 → 32", async () => {
  const gpu = await testGpu();
  await checkMse(gpu, { N: 9, Cs: 24, Ct: 24, padded: [4], projected: false, seed: 3 });
  await checkMse(gpu, { N: 9, Cs: 24, Ct: 32, padded: [0, 8], projected: true, seed: 4 });
  await checkMse(gpu, { N: 9, Cs: 24, Ct: 24, padded: [], projected: true, seed: 5 });
});

Deno.test("mseLoss() matches the reference at GPT-2 size N=256 C=768, and projected 768 → 1024", async () => {
  const gpu = await testGpu();
  await checkMse(gpu, { N: 256, Cs: 768, Ct: 768, padded: [3, 200], projected: false, seed: 6 });
  await checkMse(gpu, { N: 256, Cs: 768, Ct: 1024, padded: [255], projected: true, seed: 7 });
});

Deno.test("cosineLossBackwardRef() matches central finite differences of the loss reference", () => {
  const [N, C, scale] = [5, 6, 1.3];
  const rng = new Rng(8);
  const hS = Float64Array.from(normals(rng, N * C));
  const hT = Float64Array.from(normals(rng, N * C));
  const mask = maskWith(N, [3]);
  const numeric = finiteDifference((x) => scale * cosineLossRef(x, hT, mask, N, C), hS);
  const analytic = new Float64Array(N * C);
  cosineLossBackwardRef(analytic, hS, hT, mask, N, C, scale);
  assertClose(analytic, numeric, { atol: 1e-8, rtol: 1e-6 }, "dhS vs finite differences");
});

Deno.test("mseLossBackwardRef() matches central finite differences for hS, the projection weight and bias", () => {
  const [N, Cs, Ct, scale] = [5, 3, 4, 0.7];
  const rng = new Rng(9);
  const hS = Float64Array.from(normals(rng, N * Cs));
  const hT = Float64Array.from(normals(rng, N * Ct));
  const weight = Float64Array.from(normals(rng, Cs * Ct));
  const bias = Float64Array.from(normals(rng, Ct));
  const mask = maskWith(N, [1]);
  const loss = () => scale * mseLossRef(hS, hT, mask, N, Cs, Ct, { weight, bias });
  const g = mseLossBackwardRef(hS, hT, mask, N, Cs, Ct, { weight, bias }, scale);
  const tol = { atol: 1e-8, rtol: 1e-6 };
  assertClose(g.dhS, finiteDifference(loss, hS), tol, "dhS vs finite differences");
  assertClose(g.dWeight!, finiteDifference(loss, weight), tol, "dW vs finite differences");
  assertClose(g.dBias!, finiteDifference(loss, bias), tol, "db vs finite differences");
  const plain = mseLossBackwardRef(hS, hS.map((x) => x + 1), mask, N, Cs, Cs, null, scale);
  const plainLoss = (x: Float64Array) => scale * mseLossRef(x, hS.map((v) => v + 1), mask, N, Cs, Cs, null);
  assertClose(
    plain.dhS,
    finiteDifference(plainLoss, hS.slice()),
    tol,
    "dhS (no projection) vs finite differences",
  );
});

Deno.test("hidden losses are 0 with zero gradients when every position is masked; maskCount() counts", async () => {
  const gpu = await testGpu();
  const [N, C] = [9, 24];
  const rng = new Rng(10);
  const [hS, hT] = [upload(gpu, normals(rng, N * C)), upload(gpu, normals(rng, N * C))];
  const mask = upload(gpu, new Uint32Array(N));
  const [loss, dhS] = [upload(gpu, Float32Array.of(7)), upload(gpu, normals(rng, N * C))];
  cosineLoss(gpu, { loss, dhS, hS, hT, mask, N, C, weight: 1, gradScale: 1 });
  assertClose(await gpu.read(loss), [0], { atol: 0, rtol: 0 }, "cosine loss");
  assertClose(await gpu.read(dhS), new Float32Array(N * C), { atol: 0, rtol: 0 }, "cosine dhS");
  mseLoss(gpu, { loss, dhS, hS, hT, mask, N, Cs: C, Ct: C, weight: 1, gradScale: 1, accumulate: false });
  assertClose(await gpu.read(loss), [0], { atol: 0, rtol: 0 }, "mse loss");
  assertClose(await gpu.read(dhS), new Float32Array(N * C), { atol: 0, rtol: 0 }, "mse dhS");
  const stats = gpu.tensor(4);
  maskCount(gpu, stats, upload(gpu, maskWith(1000, [1, 500, 999])), 1000);
  assertClose((await gpu.read(stats)).subarray(0, 2), [997, 1 / 997], { atol: 0, rtol: 1e-7 }, "mask count");
});

Deno.test("hidden losses are deterministic", async () => {
  const gpu = await testGpu();
  const [N, Cs, Ct] = [37, 96, 128];
  const rng = new Rng(11);
  const [hS, hT, mask] = [
    upload(gpu, normals(rng, N * Cs)),
    upload(gpu, normals(rng, N * Ct)),
    upload(gpu, maskWith(N, [5])),
  ];
  const [weight, bias] = [upload(gpu, normals(rng, Cs * Ct, 0.1)), upload(gpu, normals(rng, Ct))];
  const runs: Float32Array[] = [];
  for (let r = 0; r < 2; r++) {
    const [loss, loss2, dhS, dW, db] = [
      gpu.tensor(1),
      gpu.tensor(1),
      gpu.tensor(N * Cs),
      gpu.tensor(Cs * Ct),
      gpu.tensor(Ct),
    ];
    const projection = { weight, bias, dWeight: dW, dBias: db, workspace: gpu.tensor(N * Ct) };
    mseLoss(gpu, { loss, dhS, hS, hT, mask, N, Cs, Ct, weight: 1, gradScale: 1, projection });
    cosineLoss(gpu, {
      loss: loss2,
      dhS,
      hS,
      hT: hS,
      mask,
      N,
      C: Cs,
      weight: 1,
      gradScale: 1,
      accumulate: true,
    });
    const parts = await Promise.all([loss, loss2, dhS, dW, db].map((v) => gpu.read(v)));
    runs.push(Float32Array.from(parts.flatMap((p) => [...p])));
  }
  for (let i = 0; i < runs[0].length; i++) {
    if (!Object.is(runs[0][i], runs[1][i])) throw new Error(`run 2 differs at ${i}`);
  }
});

Deno.test("hidden losses reject bad sizes with clear errors", async () => {
  const gpu = await testGpu();
  const t = gpu.tensor(9 * 24);
  const [loss, mask] = [gpu.tensor(1), gpu.tensor(9)];
  const base = { loss, dhS: t, hS: t, hT: t, mask, N: 9, weight: 1, gradScale: 1 };
  assertThrows(() => cosineLoss(gpu, { ...base, C: 22 }), /C=22 must be a multiple of 4/);
  assertThrows(() => cosineLoss(gpu, { ...base, C: 28 }), /dhS holds 216 elements, needs 252/);
  assertThrows(
    () => mseLoss(gpu, { ...base, Cs: 24, Ct: 32 }),
    /Cs=24 differs from Ct=32: pass a projection/,
  );
  assertThrows(() => mseLoss(gpu, { ...base, N: 0, Cs: 24, Ct: 24 }), /N must be a positive integer/);
});
