import assert from "node:assert/strict";
import type { Gpu, View } from "../../lib/gpu/runtime.ts";
import { type AdamWHyper, adamwUpdate } from "../../lib/ops/adamw.ts";
import { gradNormSquared } from "../../lib/ops/gradnorm.ts";
import { adamwUpdateRef } from "../../lib/ref/adamw.ts";
import { gradNormSquaredRef } from "../../lib/ref/gradnorm.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, testGpu } from "../_check.ts";

// Float32 state against a float64 reference over a few steps.
const P_TOL = { atol: 2e-6, rtol: 1e-5 };
const M_TOL = { atol: 1e-7, rtol: 1e-5 };
const V_TOL = { atol: 1e-10, rtol: 1e-5 };

const BASE: AdamWHyper = {
  lr: 1e-2,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.1,
  step: 1,
  gradScale: 0.5,
  maxNorm: 0,
};

/** GPU buffers and the float64 reference state of one optimizer, started from the same random values. */
class Harness {
  readonly p: View;
  readonly g: View;
  readonly m: View;
  readonly v: View;
  readonly normSq: View;
  readonly refP: Float64Array;
  readonly refM: Float64Array;
  readonly refV: Float64Array;
  grads: Float32Array = new Float32Array(0);

  constructor(readonly gpu: Gpu, readonly total: number, readonly rng: Rng) {
    [this.p, this.g, this.m, this.v] = [0, 1, 2, 3].map(() => gpu.tensor(total));
    this.normSq = gpu.tensor(1);
    const p = rng.uniformArray(total);
    // Non-zero moments so that outside-range elements would show any stray write.
    const m = rng.uniformArray(total, -0.1, 0.1);
    const v = rng.uniformArray(total, 0, 0.01);
    gpu.write(this.p, p);
    gpu.write(this.m, m);
    gpu.write(this.v, v);
    this.refP = Float64Array.from(p);
    this.refM = Float64Array.from(m);
    this.refV = Float64Array.from(v);
  }

  /** New random gradients on the GPU and their float64 squared norm. */
  newGrads(scale = 1): number {
    this.grads = this.rng.uniformArray(this.total, -scale, scale);
    this.gpu.write(this.g, this.grads);
    const out = new Float64Array(1);
    gradNormSquaredRef(out, this.grads, this.total);
    return out[0];
  }

  update(start: number, count: number, h: AdamWHyper, normSq: number, chunkFloats?: number): void {
    adamwUpdate(this.gpu, this.p, this.g, this.m, this.v, this.normSq, start, count, h, { chunkFloats });
    adamwUpdateRef(this.refP, this.grads, this.refM, this.refV, normSq, start, count, h);
  }

  async check(label: string): Promise<void> {
    assertClose(await this.gpu.read(this.p), this.refP, P_TOL, `${label} params`);
    assertClose(await this.gpu.read(this.m), this.refM, M_TOL, `${label} m`);
    assertClose(await this.gpu.read(this.v), this.refV, V_TOL, `${label} v`);
  }
}

Deno.test("adamwUpdate() matches the reference over several steps on odd, unaligned ranges", async () => {
  const gpu = await testGpu();
  const h = new Harness(gpu, 1100, new Rng(10));
  for (let step = 1; step <= 5; step++) {
    h.newGrads();
    // Two weight-decay groups that start and end inside vec4s; [0, 37) and [1040, 1100) stay untouched.
    h.update(37, 500, { ...BASE, step }, 0);
    h.update(537, 503, { ...BASE, step, weightDecay: 0 }, 0);
    await h.check(`step ${step}`);
  }
});

Deno.test("adamwUpdate() clips the scaled gradient by the norm computed on the GPU", async () => {
  const gpu = await testGpu();
  const n = 1003;
  for (const [label, maxNorm] of [["active", 1.0], ["inactive", 1e6]] as const) {
    const h = new Harness(gpu, n, new Rng(11));
    for (let step = 1; step <= 3; step++) {
      const normSq = h.newGrads(2);
      gradNormSquared(gpu, h.normSq, h.g, n);
      // With gradScale 0.5 the scaled norm is ≈ 0.5·√(1003·4/3) ≈ 18, so maxNorm 1 clips by ≈ 18×.
      h.update(0, n, { ...BASE, step, maxNorm }, normSq);
      await h.check(`clip ${label}, step ${step}`);
    }
  }
});

Deno.test("adamwUpdate() with clipping off ignores the norm buffer", async () => {
  const gpu = await testGpu();
  const h = new Harness(gpu, 1003, new Rng(12));
  h.newGrads();
  gpu.write(h.normSq, new Float32Array([NaN]));
  h.update(0, 1003, { ...BASE, maxNorm: 0 }, NaN);
  await h.check("maxNorm 0, NaN norm");
});

Deno.test("adamwUpdate() processes ranges larger than a chunk", async () => {
  const gpu = await testGpu();
  for (const chunkFloats of [64, 128, 320]) {
    const h = new Harness(gpu, 1100, new Rng(13));
    for (let step = 1; step <= 2; step++) {
      const normSq = h.newGrads();
      gradNormSquared(gpu, h.normSq, h.g, 1100, { chunkFloats });
      h.update(37, 1003, { ...BASE, step, maxNorm: 5 }, normSq, chunkFloats);
      await h.check(`chunk ${chunkFloats}, step ${step}`);
    }
  }
});

Deno.test("adamwUpdate() rejects bad ranges and hyperparameters", async () => {
  const gpu = await testGpu();
  const h = new Harness(gpu, 100, new Rng(14));
  const call = (start: number, count: number, hyper: AdamWHyper) => () =>
    adamwUpdate(gpu, h.p, h.g, h.m, h.v, h.normSq, start, count, hyper);
  assert.throws(call(50, 51, BASE), /range \[50, 101\) exceeds the 100-float params view/);
  assert.throws(call(-1, 5, BASE), /non-negative integers/);
  assert.throws(call(0, 10, { ...BASE, step: 0 }), /step must be an integer >= 1/);
  assert.throws(call(0, 10, { ...BASE, beta2: 1 }), /beta2 must be in \[0, 1\)/);
  assert.throws(
    () => adamwUpdate(gpu, h.p, h.g, h.m, h.v, h.normSq, 0, 10, BASE, { chunkFloats: 100 }),
    /multiple of 64/,
  );
});

Deno.test("adamwUpdate() is bit-identical across runs", async () => {
  const gpu = await testGpu();
  const results: Float32Array[] = [];
  for (let run = 0; run < 2; run++) {
    const h = new Harness(gpu, 4099, new Rng(15));
    for (let step = 1; step <= 3; step++) {
      h.newGrads();
      gradNormSquared(gpu, h.normSq, h.g, 4099);
      adamwUpdate(gpu, h.p, h.g, h.m, h.v, h.normSq, 0, 4099, { ...BASE, step, maxNorm: 1 });
    }
    results.push(await gpu.read(h.p));
  }
  assert.deepEqual(new Uint32Array(results[1].buffer), new Uint32Array(results[0].buffer));
});

Deno.test("adamwUpdate() matches the reference on one GPT-2 block (C=768)", async () => {
  const gpu = await testGpu();
  const C = 768;
  const n = 12 * C * C + 13 * C; // the parameters of one transformer block: 7,087,872 floats
  const h = new Harness(gpu, n, new Rng(16));
  for (let step = 1; step <= 2; step++) {
    const normSq = h.newGrads(0.01);
    gradNormSquared(gpu, h.normSq, h.g, n);
    h.update(0, n, { ...BASE, lr: 6e-4, step, gradScale: 1, maxNorm: 1 }, normSq);
    await h.check(`GPT-2 block step ${step}`);
  }
  for (const view of [h.p, h.g, h.m, h.v]) view.buffer.destroy();
});
