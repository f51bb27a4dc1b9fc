import { throws as assertThrows } from "node:assert/strict";
import type { Gpu, View } from "../../lib/gpu/runtime.ts";
import {
  distillLogits,
  type DistillLogitsOptions,
  type DistillTeacher,
} from "../../lib/ops/distill_logits.ts";
import {
  distillLogitsBackwardRef,
  distillLogitsForwardRef,
  type DistillLogitsRefOptions,
  type TeacherRef,
} from "../../lib/ref/distill_logits.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, finiteDifference, testGpu } from "../_check.ts";

const LOSS_TOL = { atol: 2e-4, rtol: 2e-5 };

function upload(gpu: Gpu, data: Float32Array | Int32Array | Uint32Array): View {
  const view = gpu.tensor(data.length);
  gpu.write(view, data);
  return view;
}

/** Random (rows, width) logits with garbage past column V (it must never matter). */
function randomLogits(rng: Rng, rows: number, V: number, width: number, spread: number): Float32Array {
  const x = new Float32Array(rows * width);
  for (let n = 0; n < rows; n++) {
    for (let v = 0; v < width; v++) x[n * width + v] = v < V ? spread * rng.normal() : 1e4 * (1 + rng.next());
  }
  return x;
}

function randomLabels(rng: Rng, rows: number, V: number, ignored: number[]): Int32Array {
  const labels = new Int32Array(rows);
  for (let n = 0; n < rows; n++) labels[n] = ignored.includes(n) ? -100 : rng.int(V);
  return labels;
}

function maskWith(rows: number, padded: number[]): Uint32Array {
  const mask = new Uint32Array(rows).fill(1);
  for (const n of padded) mask[n] = 0;
  return mask;
}

/** k distinct random indices per row and their teacher logits (correlated with the student's, like a real teacher). */
function randomTopk(rng: Rng, rows: number, V: number, k: number, spread: number) {
  const indices = new Uint32Array(rows * k);
  const logits = new Float32Array(rows * k);
  for (let n = 0; n < rows; n++) {
    const perm = Array.from({ length: V }, (_, i) => i);
    for (let j = 0; j < k; j++) {
      const pick = j + rng.int(V - j);
      [perm[j], perm[pick]] = [perm[pick], perm[j]];
      indices[n * k + j] = perm[j];
      logits[n * k + j] = spread * rng.normal() + 2;
    }
  }
  return { indices, logits };
}

interface Case {
  rows: number;
  V: number;
  Vp: number;
  z: Float32Array;
  labels: Int32Array;
  mask: Uint32Array | null;
  teacherRef: TeacherRef;
  upload: (gpu: Gpu) => DistillTeacher;
  options: DistillLogitsRefOptions;
}

function fullCase(
  rows: number,
  V: number,
  Vp: number,
  stride: number,
  seed: number,
  o: Partial<Case> = {},
): Case {
  const rng = new Rng(seed);
  const z = randomLogits(rng, rows, V, Vp, 2);
  const t = randomLogits(rng, rows, V, stride, 2.5);
  return {
    rows,
    V,
    Vp,
    z,
    labels: randomLabels(rng, rows, V, [1]),
    mask: maskWith(rows, rows > 3 ? [3] : []),
    teacherRef: { kind: "full", logits: t, stride },
    upload: (gpu) => ({ kind: "full", logits: upload(gpu, t), stride }),
    options: {
      temperature: 2,
      alphaClm: 0.7,
      alphaCe: 1.3,
      alphaRkl: 0.4,
      gradScale: 1 / (rows - 1),
      topkFloor: 1e-7,
    },
    ...o,
  };
}

function topkCase(rows: number, V: number, Vp: number, k: number, seed: number, o: Partial<Case> = {}): Case {
  const rng = new Rng(seed);
  const z = randomLogits(rng, rows, V, Vp, 2);
  const { indices, logits } = randomTopk(rng, rows, V, k, 1.5);
  return {
    rows,
    V,
    Vp,
    z,
    labels: randomLabels(rng, rows, V, [1]),
    mask: maskWith(rows, rows > 3 ? [3] : []),
    teacherRef: { kind: "topk", indices, logits, k },
    upload: (gpu) => ({ kind: "topk", indices: upload(gpu, indices), logits: upload(gpu, logits), k }),
    options: {
      temperature: 1.5,
      alphaClm: 0.5,
      alphaCe: 1.1,
      alphaRkl: 0.8,
      gradScale: 0.25,
      topkFloor: 0.01 / V,
    },
    ...o,
  };
}

/** Runs the GPU op without, then with the gradient and checks losses, untouched logits and gradient. */
async function checkAgainstReference(gpu: Gpu, c: Case): Promise<void> {
  const { rows, V, Vp } = c;
  const lossRef = new Float64Array(rows * 3);
  distillLogitsForwardRef(lossRef, c.z, c.labels, c.mask, c.teacherRef, rows, V, Vp, c.options);
  const gradRef = new Float64Array(rows * Vp);
  distillLogitsBackwardRef(gradRef, c.z, c.labels, c.mask, c.teacherRef, rows, V, Vp, c.options);
  const teacher = c.upload(gpu);
  const [z, labels, losses] = [upload(gpu, c.z), upload(gpu, c.labels), gpu.tensor(rows * 3)];
  const mask = c.mask ? upload(gpu, c.mask) : null;
  const options: DistillLogitsOptions = { ...c.options };

  distillLogits(gpu, losses, z, labels, mask, teacher, rows, V, Vp, { ...options, writeGradient: false });
  assertClose(await gpu.read(losses), lossRef, LOSS_TOL, "losses (no gradient)");
  assertClose(await gpu.read(z), c.z, { atol: 0, rtol: 0 }, "logits untouched");

  gpu.zero(losses);
  distillLogits(gpu, losses, z, labels, mask, teacher, rows, V, Vp, options);
  assertClose(await gpu.read(losses), lossRef, LOSS_TOL, "losses (with gradient)");
  // Tolerance relative to the row's largest entry: most entries are tiny probabilities.
  const maxGrad = gradRef.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
  assertClose(await gpu.read(z), gradRef, { atol: 2e-5 * maxGrad, rtol: 2e-4 }, "dz");
}

Deno.test("distillLogits() matches the reference with a full teacher on odd shapes, ignored label, padding row", async () => {
  const gpu = await testGpu();
  await checkAgainstReference(gpu, fullCase(5, 37, 40, 37, 1)); // teacher stride V (unaligned rows)
  await checkAgainstReference(gpu, fullCase(5, 37, 40, 40, 2)); // teacher stride Vp, garbage padding
  const unit = fullCase(5, 37, 40, 37, 3);
  await checkAgainstReference(gpu, { ...unit, mask: null, options: { ...unit.options, temperature: 1 } });
  await checkAgainstReference(gpu, fullCase(3, 1021, 1024, 1021, 4)); // more vec4s than invocations
});

Deno.test("distillLogits() matches the reference with a top-k teacher on odd shapes (k 7)", async () => {
  const gpu = await testGpu();
  await checkAgainstReference(gpu, topkCase(5, 37, 40, 7, 5));
  const unit = topkCase(5, 37, 40, 7, 6);
  await checkAgainstReference(gpu, { ...unit, mask: null, options: { ...unit.options, temperature: 1 } });
  await checkAgainstReference(gpu, topkCase(3, 1021, 1024, 300, 7)); // k > WG: several kept entries per invocation
});

Deno.test("distillLogits() matches the reference at GPT-2 size rows=32 V=50257 Vp=50304", async () => {
  const gpu = await testGpu();
  await checkAgainstReference(gpu, fullCase(32, 50257, 50304, 50304, 8));
  await checkAgainstReference(gpu, topkCase(32, 50257, 50304, 50, 9));
});

Deno.test("distillLogits() binds logits and a full teacher larger than one storage binding in row parts", async () => {
  const gpu = await testGpu();
  const [V, Vp] = [50257, 50304];
  const perPart = Math.floor(gpu.maxBinding / (Vp * 4) / 64) * 64;
  const rows = Math.floor(gpu.maxBinding / (Vp * 4)) + 33; // just over one binding
  const rng = new Rng(14);
  const z = rng.uniformArray(rows * Vp, -3, 3);
  const t = rng.uniformArray(rows * V, -3, 3); // stride V: the teacher's rows are not vec4-aligned
  const labels = randomLabels(rng, rows, V, [perPart]);
  const mask = maskWith(rows, [rows - 2]);
  const o = { temperature: 2, alphaClm: 0.5, alphaCe: 1, alphaRkl: 0.5, gradScale: 0.1, topkFloor: 1e-7 };
  const [vz, losses] = [upload(gpu, z), gpu.tensor(rows * 3)];
  distillLogits(
    gpu,
    losses,
    vz,
    upload(gpu, labels),
    upload(gpu, mask),
    { kind: "full", logits: upload(gpu, t) },
    rows,
    V,
    Vp,
    o,
  );
  const allLosses = await gpu.read(losses);
  // Rows around the part boundary and the last rows, against the reference on those rows alone.
  for (const r0 of [perPart - 3, rows - 6]) {
    const n = 6;
    const teacher: TeacherRef = { kind: "full", logits: t.subarray(r0 * V) };
    const args = [z.subarray(r0 * Vp), labels.subarray(r0), mask.subarray(r0), teacher, n, V, Vp, o] as const;
    const lossRef = new Float64Array(n * 3);
    distillLogitsForwardRef(lossRef, ...args);
    assertClose(allLosses.subarray(r0 * 3, (r0 + n) * 3), lossRef, LOSS_TOL, `losses of rows ${r0}..`);
    const gradRef = new Float64Array(n * Vp);
    distillLogitsBackwardRef(gradRef, ...args);
    const tol = { atol: 2e-5 * gradRef.reduce((m, g) => Math.max(m, Math.abs(g)), 0), rtol: 2e-4 };
    assertClose(await gpu.read(gpu.slice(vz, r0 * Vp, n * Vp)), gradRef, tol, `dz of rows ${r0}..`);
  }
});

Deno.test("distillLogits() top-k equals the full-vocabulary losses against its renormalised and floored teacher", async () => {
  // The documented top-k semantics: ce against q = softmax over the kept logits / T (zero elsewhere) and rkl
  // against q̃ = (1 − (V − k)ε)·q on the kept tokens, ε elsewhere. A full teacher with logits T·log(dist)
  // has exactly that distribution, so the fused full kernel must agree with the top-k kernel.
  const gpu = await testGpu();
  const [rows, V, Vp, k, T, eps] = [5, 37, 40, 7, 1.5, 1e-3];
  const rng = new Rng(10);
  const c = { z: randomLogits(rng, rows, V, Vp, 2), labels: randomLabels(rng, rows, V, [1]) };
  const { indices, logits } = randomTopk(rng, rows, V, k, 1.5);
  const forCe = new Float32Array(rows * V).fill(-1e4); // exp(−1e4 / T) = 0: no mass off the support
  const forRkl = new Float32Array(rows * V).fill(T * Math.log(eps));
  for (let n = 0; n < rows; n++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[n * k + j] / T);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits[n * k + j] / T - max);
    for (let j = 0; j < k; j++) {
      const logQ = logits[n * k + j] / T - max - Math.log(sum);
      forCe[n * V + indices[n * k + j]] = T * logQ;
      forRkl[n * V + indices[n * k + j]] = T * (Math.log1p(-(V - k) * eps) + logQ);
    }
  }
  const base = { temperature: T, alphaClm: 0, alphaCe: 0, alphaRkl: 0, gradScale: 1, topkFloor: eps };
  const run = async (teacher: DistillTeacher, o: Partial<DistillLogitsOptions>) => {
    const [z, losses] = [upload(gpu, c.z), gpu.tensor(rows * 3)];
    distillLogits(gpu, losses, z, upload(gpu, c.labels), null, teacher, rows, V, Vp, { ...base, ...o });
    return { losses: await gpu.read(losses), grad: await gpu.read(z) };
  };
  const topk = { kind: "topk", indices: upload(gpu, indices), logits: upload(gpu, logits), k } as const;
  const column = (x: Float32Array, j: number) => x.filter((_, i) => i % 3 === j);
  const tol = { atol: 1e-5, rtol: 1e-4 };

  const ceTopk = await run(topk, { alphaCe: 1 });
  const ceFull = await run({ kind: "full", logits: upload(gpu, forCe) }, { alphaCe: 1 });
  assertClose(column(ceTopk.losses, 1), column(ceFull.losses, 1), tol, "ce: top-k vs full");
  assertClose(ceTopk.grad, ceFull.grad, { atol: 1e-7, rtol: 1e-4 }, "dz of ce: top-k vs full");

  const rklTopk = await run(topk, { alphaRkl: 1 });
  const rklFull = await run({ kind: "full", logits: upload(gpu, forRkl) }, { alphaRkl: 1 });
  assertClose(column(rklTopk.losses, 2), column(rklFull.losses, 2), tol, "rkl: top-k vs full");
  assertClose(rklTopk.grad, rklFull.grad, { atol: 1e-7, rtol: 1e-4 }, "dz of rkl: top-k vs full");
});

for (const kind of ["full", "topk"] as const) {
  Deno.test(`distillLogitsBackwardRef() matches central finite differences of the loss reference (${kind} teacher)`, () => {
    const [rows, V, Vp, k] = [4, 9, 12, 3];
    const rng = new Rng(11);
    const z = Float64Array.from(randomLogits(rng, rows, V, Vp, 1.5));
    const labels = Int32Array.from([2, -100, 5, 0]);
    const mask = Uint32Array.from([1, 1, 0, 1]);
    const teacher: TeacherRef = kind === "full"
      ? { kind, logits: randomLogits(rng, rows, V, V, 2) }
      : { kind, k, ...randomTopk(rng, rows, V, k, 1) };
    // Weights and temperature drawn at random so no term can hide behind another.
    const o: DistillLogitsRefOptions = {
      temperature: 0.5 + 2 * rng.next(),
      alphaClm: rng.next(),
      alphaCe: rng.next(),
      alphaRkl: rng.next(),
      gradScale: 0.5 + rng.next(),
      topkFloor: 0.02,
    };
    const losses = new Float64Array(rows * 3);
    const loss = (x: Float64Array) => {
      distillLogitsForwardRef(losses, x, labels, mask, teacher, rows, V, Vp, o);
      let s = 0;
      for (let n = 0; n < rows; n++) {
        s += o.alphaClm * losses[3 * n] + o.alphaCe * losses[3 * n + 1] + o.alphaRkl * losses[3 * n + 2];
      }
      return o.gradScale * s;
    };
    const numeric = finiteDifference(loss, z);
    const analytic = new Float64Array(rows * Vp);
    distillLogitsBackwardRef(analytic, z, labels, mask, teacher, rows, V, Vp, o);
    assertClose(analytic, numeric, { atol: 1e-8, rtol: 1e-6 }, "dz vs finite differences");
  });
}

Deno.test("distillLogits() is deterministic", async () => {
  const gpu = await testGpu();
  for (const c of [fullCase(7, 3001, 3004, 3001, 12), topkCase(7, 3001, 3004, 600, 13)]) {
    const teacher = c.upload(gpu);
    const [labels, mask] = [upload(gpu, c.labels), upload(gpu, c.mask!)];
    const runs: Float32Array[] = [];
    for (let r = 0; r < 2; r++) {
      const [z, losses] = [upload(gpu, c.z), gpu.tensor(c.rows * 3)];
      distillLogits(gpu, losses, z, labels, mask, teacher, c.rows, c.V, c.Vp, c.options);
      runs.push(new Float32Array([...await gpu.read(losses), ...await gpu.read(z)]));
    }
    for (let i = 0; i < runs[0].length; i++) {
      if (!Object.is(runs[0][i], runs[1][i])) throw new Error(`${c.teacherRef.kind}: run 2 differs at ${i}`);
    }
  }
});

Deno.test("distillLogits() rejects bad sizes and options with clear errors", async () => {
  const gpu = await testGpu();
  const [z, losses, labels] = [gpu.tensor(5 * 40), gpu.tensor(15), gpu.tensor(5)];
  const full: DistillTeacher = { kind: "full", logits: gpu.tensor(5 * 37) };
  const o = { temperature: 2, alphaClm: 1, alphaCe: 1, alphaRkl: 0, gradScale: 1 };
  assertThrows(() => distillLogits(gpu, losses, z, labels, null, full, 5, 37, 38, o), /multiple of 4/);
  assertThrows(
    () => distillLogits(gpu, losses, z, labels, null, full, 5, 41, 40, o),
    /exceeds the padded width/,
  );
  assertThrows(
    () => distillLogits(gpu, gpu.tensor(18), z, labels, null, full, 6, 37, 40, o),
    /z holds 200 elements/,
  );
  assertThrows(
    () => distillLogits(gpu, losses, z, labels, null, full, 5, 37, 40, { ...o, temperature: 0 }),
    /temperature/,
  );
  assertThrows(
    () => distillLogits(gpu, losses, z, labels, null, { ...full, stride: 36 }, 5, 37, 40, o),
    /stride 36 must be an integer ≥ V/,
  );
  const topk = (k: number): DistillTeacher => ({
    kind: "topk",
    indices: gpu.tensor(5 * k),
    logits: gpu.tensor(5 * k),
    k,
  });
  assertThrows(() => distillLogits(gpu, losses, z, labels, null, topk(0), 5, 37, 40, o), /top-k width/);
  assertThrows(
    () => distillLogits(gpu, losses, z, labels, null, topk(7), 5, 37, 40, { ...o, topkFloor: 1 / 30 }),
    /topkFloor/,
  );
});
