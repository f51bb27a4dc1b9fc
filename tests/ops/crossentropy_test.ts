import { throws as assertThrows } from "node:assert/strict";
import type { Gpu, View } from "../../lib/gpu/runtime.ts";
import { crossEntropy, softmaxRows } from "../../lib/ops/crossentropy.ts";
import {
  crossEntropyBackwardRef,
  crossEntropyForwardRef,
  softmaxRowsRef,
} from "../../lib/ref/crossentropy.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, finiteDifference, testGpu } from "../_check.ts";

const LOSS_TOL = { atol: 1e-5, rtol: 1e-5 };
const GRAD_TOL = { atol: 1e-7, rtol: 1e-4 };

/** Random logits with garbage in the padding columns (they must never matter). */
function randomLogits(rng: Rng, N: number, V: number, Vp: number, spread: number): Float32Array {
  const logits = rng.uniformArray(N * Vp, -spread, spread);
  for (let n = 0; n < N; n++) for (let v = V; v < Vp; v++) logits[n * Vp + v] = 1e4 * (1 + rng.next());
  return logits;
}

function randomTargets(rng: Rng, N: number, V: number, ignored: number[]): Int32Array {
  const targets = new Int32Array(N);
  for (let n = 0; n < N; n++) targets[n] = ignored.includes(n) ? -100 : rng.int(V);
  return targets;
}

function upload(gpu: Gpu, data: Float32Array | Int32Array): View {
  const view = gpu.tensor(data.length);
  gpu.write(view, data);
  return view;
}

/** Runs crossEntropy without, then with the gradient, checking losses, untouched logits and gradients. */
async function checkCrossEntropy(
  gpu: Gpu,
  N: number,
  V: number,
  Vp: number,
  ignored: number[],
  seed: number,
  spread: number,
): Promise<void> {
  const rng = new Rng(seed);
  const logits = randomLogits(rng, N, V, Vp, spread);
  const targets = randomTargets(rng, N, V, ignored);
  const gradScale = 1 / (N - ignored.length);
  const [vlogits, vtargets, losses] = [upload(gpu, logits), upload(gpu, targets), gpu.tensor(N)];
  const lossRef = new Float32Array(N);
  crossEntropyForwardRef(lossRef, logits, targets, N, V, Vp);

  crossEntropy(gpu, losses, vlogits, vtargets, N, V, Vp, { writeGradient: false, gradScale });
  assertClose(await gpu.read(losses), lossRef, LOSS_TOL, "losses (no gradient)");
  assertClose(await gpu.read(vlogits), logits, { atol: 0, rtol: 0 }, "logits untouched");

  gpu.zero(losses);
  crossEntropy(gpu, losses, vlogits, vtargets, N, V, Vp, { writeGradient: true, gradScale });
  assertClose(await gpu.read(losses), lossRef, LOSS_TOL, "losses (with gradient)");
  const gradRef = new Float32Array(N * Vp);
  crossEntropyBackwardRef(gradRef, logits, targets, N, V, gradScale, Vp);
  assertClose(await gpu.read(vlogits), gradRef, GRAD_TOL, "dlogits");
}

Deno.test("crossEntropy() matches the reference on odd shapes with ignored targets", async () => {
  const gpu = await testGpu();
  await checkCrossEntropy(gpu, 5, 37, 40, [1, 4], 1, 3);
  await checkCrossEntropy(gpu, 3, 1021, 1024, [], 2, 3); // more columns than invocations per row
});

Deno.test("crossEntropy() matches the reference at GPT-2 size N=64 V=50257 Vp=50304", async () => {
  const gpu = await testGpu();
  await checkCrossEntropy(gpu, 64, 50257, 50304, [0, 17, 63], 3, 4);
});

Deno.test("crossEntropy() is numerically stable for very large logits", async () => {
  const gpu = await testGpu();
  const rng = new Rng(4);
  const [N, V, Vp] = [4, 37, 40];
  const logits = randomLogits(rng, N, V, Vp, 1);
  for (let i = 0; i < logits.length; i++) logits[i] += 5e3;
  const targets = randomTargets(rng, N, V, []);
  const [vlogits, losses] = [upload(gpu, logits), gpu.tensor(N)];
  crossEntropy(gpu, losses, vlogits, upload(gpu, targets), N, V, Vp, { writeGradient: true, gradScale: 1 });
  const lossRef = new Float32Array(N);
  crossEntropyForwardRef(lossRef, logits, targets, N, V, Vp);
  assertClose(await gpu.read(losses), lossRef, { atol: 2e-3, rtol: 0 }, "losses"); // f32 spacing at 5e3
  const grad = await gpu.read(vlogits);
  if (!grad.every(Number.isFinite)) throw new Error("non-finite gradient");
});

Deno.test("crossEntropy() binds logits larger than one storage binding in row parts", async () => {
  const gpu = await testGpu();
  const Vp = 50304;
  const N = Math.floor(gpu.maxBinding / (Vp * 4)) + 5; // just over one binding
  const V = 50257;
  const rng = new Rng(5);
  const logits = randomLogits(rng, N, V, Vp, 2);
  const targets = randomTargets(rng, N, V, [3, N - 1]);
  const [vlogits, losses] = [upload(gpu, logits), gpu.tensor(N)];
  crossEntropy(gpu, losses, vlogits, upload(gpu, targets), N, V, Vp, { writeGradient: true, gradScale: 0.5 });
  const lossRef = new Float32Array(N);
  crossEntropyForwardRef(lossRef, logits, targets, N, V, Vp);
  assertClose(await gpu.read(losses), lossRef, LOSS_TOL, "losses");
  // the gradient rows of the last part (the first part is covered by the GPT-2 size test)
  const tail = N - 10;
  const gradRef = new Float32Array(10 * Vp);
  crossEntropyBackwardRef(gradRef, logits.subarray(tail * Vp), targets.subarray(tail), 10, V, 0.5, Vp);
  assertClose(await gpu.read(gpu.slice(vlogits, tail * Vp, 10 * Vp)), gradRef, GRAD_TOL, "dlogits tail");
});

Deno.test("crossEntropy() is deterministic", async () => {
  const gpu = await testGpu();
  const rng = new Rng(6);
  const [N, V, Vp] = [7, 3001, 3004];
  const logits = randomLogits(rng, N, V, Vp, 5);
  const targets = upload(gpu, randomTargets(rng, N, V, [2]));
  const runs: Float32Array[] = [];
  for (let r = 0; r < 2; r++) {
    const [vlogits, losses] = [upload(gpu, logits), gpu.tensor(N)];
    crossEntropy(gpu, losses, vlogits, targets, N, V, Vp, { writeGradient: true, gradScale: 0.1 });
    runs.push(new Float32Array([...await gpu.read(losses), ...await gpu.read(vlogits)]));
  }
  for (let i = 0; i < runs[0].length; i++) {
    if (!Object.is(runs[0][i], runs[1][i])) throw new Error(`run 2 differs at ${i}`);
  }
});

Deno.test("crossEntropyBackwardRef() matches central finite differences of the loss reference", () => {
  const [N, V, Vp, gradScale] = [4, 7, 8, 0.37];
  const rng = new Rng(7);
  const logits = Float64Array.from(rng.uniformArray(N * Vp, -2, 2));
  const targets = Int32Array.from([3, -100, 0, 6]);
  const losses = new Float64Array(N);
  const loss = (x: Float64Array) => {
    crossEntropyForwardRef(losses, x, targets, N, V, Vp);
    return gradScale * losses.reduce((s, l) => s + l, 0);
  };
  const numeric = finiteDifference(loss, logits);
  const analytic = new Float64Array(N * Vp);
  crossEntropyBackwardRef(analytic, logits, targets, N, V, gradScale, Vp);
  assertClose(analytic, numeric, { atol: 1e-8, rtol: 1e-6 }, "dlogits vs finite differences");
});

Deno.test("softmaxRows() matches the reference with temperature, odd shape and GPT-2 width", async () => {
  const gpu = await testGpu();
  for (const [N, V, Vp, temperature, seed] of [[5, 37, 40, 0.7, 8], [3, 50257, 50304, 1.3, 9]]) {
    const rng = new Rng(seed);
    const logits = randomLogits(rng, N, V, Vp, 4);
    const probs = gpu.tensor(N * Vp);
    softmaxRows(gpu, probs, upload(gpu, logits), N, V, Vp, temperature);
    const expected = new Float32Array(N * Vp);
    softmaxRowsRef(expected, logits, N, V, temperature, Vp);
    assertClose(await gpu.read(probs), expected, { atol: 1e-8, rtol: 1e-4 }, `probs V=${V}`);
  }
});

Deno.test("crossEntropy() and softmaxRows() reject sizes they cannot handle", async () => {
  const gpu = await testGpu();
  const v = gpu.tensor(400);
  const opts = { writeGradient: true, gradScale: 1 };
  assertThrows(() => crossEntropy(gpu, v, v, v, 5, 37, 38, opts), /multiple of 4/);
  assertThrows(() => crossEntropy(gpu, v, v, v, 5, 41, 40, opts), /exceeds the padded width/);
  assertThrows(() => crossEntropy(gpu, v, gpu.tensor(100), v, 5, 37, 40, opts), /logits holds 100/);
  assertThrows(() => crossEntropy(gpu, v, v, v, 0, 37, 40, opts), /N must be a positive integer/);
  assertThrows(() => softmaxRows(gpu, v, v, 5, 37, 40, 1), /must not overlap/);
  assertThrows(() => softmaxRows(gpu, v, gpu.tensor(400), 5, 37, 40, 0), /temperature/);
});
