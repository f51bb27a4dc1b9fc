import { throws as assertThrows } from "node:assert/strict";
import type { Gpu, View } from "../../lib/gpu/runtime.ts";
import { Critic, type CriticStepOptions } from "../../lib/ops/critic.ts";
import { adamwUpdateRef } from "../../lib/ref/adamw.ts";
import {
  clipParamsRef,
  criticForwardRef,
  criticGradRef,
  criticLossRef,
  criticOffsets,
  geluDerivativesRef,
  studentCriticGradRef,
  studentCriticLossRef,
} from "../../lib/ref/critic.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, finiteDifference, testGpu } from "../_check.ts";

function upload(gpu: Gpu, data: Float32Array | Uint32Array): View {
  const view = gpu.tensor(data.length);
  gpu.write(view, data);
  return view;
}

function normals(rng: Rng, n: number, scale = 1, shift = 0): Float32Array {
  return Float32Array.from({ length: n }, () => shift + scale * rng.normal());
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

/** Tolerance relative to the largest expected entry (float32 sums over rows vs float64). */
function relTol(expected: ArrayLike<number>, rel = 1e-5) {
  return { atol: rel * maxAbs(expected), rtol: 1e-4 };
}

/** Student and teacher states that differ in distribution (the teacher's are shifted and wider). */
function states(rng: Rng, N: number, C: number) {
  return { hS: normals(rng, N * C), hT: normals(rng, N * C, 1.5, 0.3) };
}

Deno.test("geluDerivativesRef() gives gelu' and gelu'' matching finite differences", () => {
  for (const x of [-3.1, -0.7, 0, 0.4, 2.2]) {
    const h = 1e-6;
    const [up, down] = [geluDerivativesRef(x + h), geluDerivativesRef(x - h)];
    const d = geluDerivativesRef(x);
    assertClose([d.d1, d.d2], [(up.f - down.f) / (2 * h), (up.d1 - down.d1) / (2 * h)], {
      atol: 1e-8,
      rtol: 1e-7,
    }, `x=${x}`);
  }
});

Deno.test("criticGradRef() (hand-derived WGAN-GP gradient) matches central finite differences of the critic loss", () => {
  const [N, C, H, lambda] = [5, 6, 4, 3.5];
  const rng = new Rng(1);
  const { hS, hT } = states(rng, N, C);
  const mask = maskWith(N, [2]);
  const eps = Float64Array.from({ length: N }, () => rng.next());
  // Weights large enough that ‖∇f‖ is far from 1 and the GELUs leave their linear range.
  const params = Float64Array.from(normals(rng, criticOffsets(C, H).total, 0.8));
  for (const lam of [0, lambda]) {
    const loss = (p: Float64Array) => criticLossRef(p, hT, hS, mask, eps, N, C, H, lam).loss;
    const numeric = finiteDifference(loss, params);
    const analytic = criticGradRef(params, hT, hS, mask, eps, N, C, H, lam);
    assertClose(analytic, numeric, { atol: 1e-8, rtol: 1e-6 }, `dparams vs finite differences, λ=${lam}`);
  }
  const { penalty } = criticLossRef(params, hT, hS, mask, eps, N, C, H, lambda);
  if (!(penalty > 0.05)) throw new Error(`penalty ${penalty} too small for the check to mean anything`);
});

Deno.test("studentCriticGradRef() matches central finite differences of −mean f(hS)", () => {
  const [N, C, H, weight] = [5, 6, 4, 0.7];
  const rng = new Rng(2);
  const hS = Float64Array.from(normals(rng, N * C));
  const params = Float64Array.from(normals(rng, criticOffsets(C, H).total, 0.8));
  const mask = maskWith(N, [0]);
  const numeric = finiteDifference((x) => weight * studentCriticLossRef(params, x, mask, N, C, H), hS);
  const analytic = new Float64Array(N * C);
  studentCriticGradRef(analytic, params, hS, mask, N, C, H, weight);
  assertClose(analytic, numeric, { atol: 1e-8, rtol: 1e-6 }, "dhS vs finite differences");
});

/**
 * One critic step on the GPU against the references: the W estimate and penalty of the batch, the gradient
 * (vs the hand-derived float64 reference) and the parameters after AdamW (+ clipping).
 */
async function checkStep(
  gpu: Gpu,
  N: number,
  C: number,
  H: number,
  padded: number[],
  o: CriticStepOptions,
  seed: number,
) {
  const rng = new Rng(seed);
  const { hS, hT } = states(rng, N, C);
  const mask = maskWith(N, padded);
  const critic = new Critic(gpu, C, H, seed);
  const [vS, vT, vMask] = [upload(gpu, hS), upload(gpu, hT), upload(gpu, mask)];
  const params0 = await gpu.read(critic.params);

  critic.criticStep(vT, vS, vMask, N, o);
  const lambda = o.lambdaGp ?? 0;
  const eps = lambda > 0 ? critic.lastEps() : new Float32Array(N);
  const ref = criticLossRef(params0, hT, hS, mask, eps, N, C, H, lambda);
  assertClose([await critic.estimate()], [ref.w], { atol: 1e-5, rtol: 1e-5 }, "W estimate");
  assertClose(
    [await critic.penalty()],
    [lambda > 0 ? ref.penalty : 0],
    { atol: 1e-5, rtol: 1e-4 },
    "penalty",
  );
  const gradRef = criticGradRef(params0, hT, hS, mask, eps, N, C, H, lambda);
  const grads = await gpu.read(critic.grads);
  assertClose(grads, gradRef, relTol(gradRef), "critic gradient");

  // AdamW on the GPU gradient (a sign flip of a near-zero entry would move it by 2·lr), then clipping.
  const expected = Float64Array.from(params0);
  const hyper = {
    lr: o.lr,
    beta1: o.beta1 ?? 0,
    beta2: o.beta2 ?? 0.9,
    eps: o.eps ?? 1e-8,
    weightDecay: o.weightDecay ?? 0,
    step: 1,
    gradScale: 1,
    maxNorm: 0,
  };
  adamwUpdateRef(
    expected,
    grads,
    new Float64Array(grads.length),
    new Float64Array(grads.length),
    0,
    0,
    grads.length,
    hyper,
  );
  if (o.clip !== undefined) clipParamsRef(expected, o.clip);
  const params1 = await gpu.read(critic.params);
  assertClose(params1, expected, { atol: 1e-6, rtol: 1e-5 }, "parameters after the step");
  if (o.clip !== undefined && maxAbs(params1) > Math.fround(o.clip)) {
    throw new Error(`a parameter exceeds the clip ${o.clip}`);
  }
  return critic;
}

Deno.test("Critic.criticStep() with gradient penalty matches the reference on odd shapes N=9 C=24 H=16 with padding", async () => {
  const gpu = await testGpu();
  await checkStep(gpu, 9, 24, 16, [3, 8], { lr: 1e-3, lambdaGp: 10 }, 3);
});

Deno.test("Critic.criticStep() with weight clipping matches the reference and keeps parameters in [−c, c]", async () => {
  const gpu = await testGpu();
  const critic = await checkStep(
    gpu,
    9,
    24,
    16,
    [0],
    { lr: 5e-3, clip: 0.1, beta1: 0.5, weightDecay: 0.01 },
    4,
  );
  const p = await gpu.read(critic.params);
  // Some parameters start outside ±0.1 (W1 ~ U(±1/√24)), so the clip must have bitten.
  if (!p.some((x) => Math.abs(x) === Math.fround(0.1))) throw new Error("no parameter was clipped");
});

Deno.test("Critic matches the reference at GPT-2 size N=256 C=768 H=128", async () => {
  const gpu = await testGpu();
  await checkStep(gpu, 256, 768, 128, [7, 130], { lr: 1e-4, lambdaGp: 10 }, 5);
});

Deno.test("Critic.forward(), estimate() and studentGrad() match the reference", async () => {
  const gpu = await testGpu();
  const [N, C, H, weight] = [9, 24, 16, 0.3];
  const rng = new Rng(6);
  const { hS, hT } = states(rng, N, C);
  const mask = maskWith(N, [4]);
  const critic = new Critic(gpu, C, H, 6);
  const [vS, vT, vMask] = [upload(gpu, hS), upload(gpu, hT), upload(gpu, mask)];
  const params = await gpu.read(critic.params);
  critic.forward(vT, vS, vMask, N);
  const ref = criticLossRef(params, hT, hS, mask, new Float32Array(N), N, C, H, 0);
  assertClose([await critic.estimate()], [ref.w], { atol: 1e-6, rtol: 1e-5 }, "W estimate");
  const fS = criticForwardRef(params, hS, N, C, H);
  if (Math.abs(ref.w) < 1e-3 || fS.every((f) => f === fS[0])) throw new Error("degenerate critic values");

  const start = normals(rng, N * C, 0.01);
  const dhS = upload(gpu, start);
  critic.studentGrad(dhS, vS, vMask, N, weight);
  const expected = Float64Array.from(start);
  studentCriticGradRef(expected, params, hS, mask, N, C, H, weight);
  const delta = expected.map((x, i) => x - start[i]);
  assertClose(await gpu.read(dhS), expected, relTol(delta, 1e-4), "dhS (accumulated)");

  // A larger shape (GPT-2 width) for the student gradient.
  const [N2, C2, H2] = [256, 768, 128];
  const big = new Critic(gpu, C2, H2, 7);
  const s2 = normals(rng, N2 * C2);
  const m2 = maskWith(N2, [0, 255]);
  const d2 = gpu.tensor(N2 * C2);
  big.studentGrad(d2, upload(gpu, s2), upload(gpu, m2), N2, weight);
  const e2 = new Float64Array(N2 * C2);
  studentCriticGradRef(e2, await gpu.read(big.params), s2, m2, N2, C2, H2, weight);
  assertClose(await gpu.read(d2), e2, relTol(e2), "dhS at N=256 C=768 H=128");
});

Deno.test("Critic training is deterministic and separates teacher from student", async () => {
  const gpu = await testGpu();
  const [N, C, H] = [33, 32, 16];
  const rng = new Rng(8);
  const { hS, hT } = states(rng, N, C);
  const [vS, vT, vMask] = [upload(gpu, hS), upload(gpu, hT), upload(gpu, maskWith(N, [1]))];
  const runs: Float32Array[] = [];
  const estimates: number[] = [];
  for (let r = 0; r < 2; r++) {
    const critic = new Critic(gpu, C, H, 9);
    critic.forward(vT, vS, vMask, N);
    estimates.push(await critic.estimate());
    for (let i = 0; i < 20; i++) critic.criticStep(vT, vS, vMask, N, { lr: 1e-2, lambdaGp: 1 });
    critic.forward(vT, vS, vMask, N);
    estimates.push(await critic.estimate());
    runs.push(await gpu.read(critic.params));
  }
  for (let i = 0; i < runs[0].length; i++) {
    if (!Object.is(runs[0][i], runs[1][i])) throw new Error(`run 2 differs at parameter ${i}`);
  }
  // Maximising W: after training, the critic scores the (shifted) teacher states above the student's.
  if (!(estimates[1] > estimates[0] + 0.1)) {
    throw new Error(`W did not grow: ${estimates[0]} → ${estimates[1]}`);
  }
});

Deno.test("Critic rejects bad sizes and options with clear errors", async () => {
  const gpu = await testGpu();
  assertThrows(() => new Critic(gpu, 22, 16, 1), /C=22 must be a multiple of 4/);
  const critic = new Critic(gpu, 24, 16, 1);
  const [h, mask] = [gpu.tensor(9 * 24), gpu.tensor(9)];
  assertThrows(() => critic.criticStep(h, h, mask, 10, { lr: 1e-3 }), /needs N·C = 240/);
  assertThrows(() => critic.criticStep(h, h, mask, 9, { lr: 1e-3, lambdaGp: -1 }), /lambdaGp must be ≥ 0/);
  assertThrows(
    () => critic.criticStep(h, h, mask, 9, { lr: 1e-3, clip: 0 }),
    /clip must be a positive number/,
  );
});
