/**
 * Loss-term wiring of the distillation objective: a GPU micro-step's loss and student gradient against
 * finite differences of the whole distillation loss computed in float64 from the references (lib/ref/gpt2.ts
 * for both models' logits, lib/ref/distill_logits.ts for the loss), and the hidden-state terms against
 * directional derivatives of the GPU loss itself.
 */
import assert from "node:assert/strict";
import { DistillObjective, type DistillSettings } from "../../lib/distill/objective.ts";
import { WebGpuTeacher } from "../../lib/distill/webgpu_teacher.ts";
import { distillLogitsForwardRef } from "../../lib/ref/distill_logits.ts";
import { gpt2ForwardBackwardRef } from "../../lib/ref/gpt2.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, finiteDifference, testGpu } from "../_check.ts";
import { microBatch, randomBatch, saveTemp, student, testSettings, tinyModel } from "./_helpers.ts";

const B = 2, T = 5;

function settings(o: Partial<DistillSettings>): DistillSettings {
  return {
    temperature: 2,
    alphaCe: 0,
    alphaClm: 0,
    alphaCos: 0,
    alphaMse: 0,
    alphaWd: 0,
    alphaRkl: 0,
    pairs: [],
    cosPairs: [],
    nCritic: 1,
    criticLr: 1e-4,
    criticHidden: 8,
    gpLambda: 10,
    criticClip: 0,
    ...o,
  };
}

/**
 * One GPU micro-step of the objective on a fresh student: its loss and the student's gradient. The teacher
 * is a model directory served by WebGpuTeacher.
 */
async function gpuStep(
  s: DistillSettings,
  studentModel: ReturnType<typeof tinyModel>,
  teacherDir: string,
  batch: { ids: Uint32Array; targets: Int32Array },
  gradAccum = 1,
): Promise<{ loss: number; grads: Float32Array; terms: Record<string, number> }> {
  const gpu = await testGpu();
  const teacher = await WebGpuTeacher.open(gpu, teacherDir, {
    vocabSize: studentModel.config.vocab_size,
    seq: T,
    needHidden: true,
  });
  const { model, acts } = student(gpu, studentModel, B, T);
  const objective = new DistillObjective(teacher, s);
  await objective.start({ gpu, model, acts, settings: testSettings({ gradAccum }), seed: 0 }, null);
  model.zeroGrads();
  model.setBatch(acts, batch.ids, batch.targets);
  await objective.microStep(microBatch(batch.ids, batch.targets, B, T, { gradAccum }));
  const loss = await objective.microLoss();
  const grads = await gpu.read(model.grads!);
  return { loss, grads, terms: await objective.stepMetrics(1) };
}

/** The reference loss of the logit terms, Σ α·term as the objective defines them, in float64. */
function referenceLoss(
  s: DistillSettings,
  m: ReturnType<typeof tinyModel>,
  params: ArrayLike<number>,
  teacherLogits: ArrayLike<number>,
  batch: { ids: Uint32Array; targets: Int32Array },
): number {
  const N = B * T;
  const V = m.config.vocab_size;
  const { logits } = gpt2ForwardBackwardRef(m.config, m.layout, params, batch.ids, batch.targets, B, T, {
    backward: false,
  });
  const losses = new Float64Array(N * 3);
  distillLogitsForwardRef(
    losses,
    logits,
    batch.targets,
    null,
    { kind: "full", logits: teacherLogits },
    N,
    V,
    V,
    {
      temperature: s.temperature,
      alphaClm: s.alphaClm,
      alphaCe: s.alphaCe,
      alphaRkl: s.alphaRkl,
      gradScale: 1,
      topkFloor: 1e-7,
    },
  );
  let clm = 0, ce = 0, rkl = 0, scored = 0;
  for (let n = 0; n < N; n++) {
    clm += losses[3 * n];
    ce += losses[3 * n + 1];
    rkl += losses[3 * n + 2];
    if (batch.targets[n] >= 0) scored++;
  }
  return s.alphaCe * ce / N + s.alphaClm * clm / scored + s.alphaRkl * rkl / N;
}

/** Distinct indices of up to `perTensor` random parameters of every tensor (padding excluded). */
function sampleIndices(m: ReturnType<typeof tinyModel>, perTensor: number, seed: number): number[] {
  const rng = new Rng(seed);
  const out = new Set<number>();
  for (const t of m.layout.tensors) {
    for (let i = 0; i < Math.min(perTensor, t.size); i++) out.add(t.offset + rng.int(t.size));
  }
  return [...out];
}

async function checkAgainstReference(s: DistillSettings, gradAccum: number, label: string): Promise<void> {
  const sm = tinyModel({}, 3);
  // A wider, deeper teacher: the logit terms do not care about its shape.
  const tm = tinyModel({ n_embd: 24, n_layer: 3 }, 4);
  const dir = await saveTemp(tm);
  try {
    const batch = randomBatch(B, T, sm.config.vocab_size, 5);
    const { loss, grads, terms } = await gpuStep(s, sm, dir, batch, gradAccum);
    const teacherLogits =
      gpt2ForwardBackwardRef(tm.config, tm.layout, tm.params, batch.ids, batch.targets, B, T, {
        backward: false,
      }).logits;
    const x = Float64Array.from(sm.params);
    const want = referenceLoss(s, sm, x, teacherLogits, batch);
    assert.ok(
      Math.abs(loss - want) <= 1e-5 * Math.abs(want) + 1e-6,
      `${label}: loss ${loss} vs reference ${want}`,
    );
    // The reported terms are the unweighted means: each alone gives its share of the loss.
    for (
      const [key, alpha] of [["loss_ce", "alphaCe"], ["loss_clm", "alphaClm"], [
        "loss_rkl",
        "alphaRkl",
      ]] as const
    ) {
      const only = referenceLoss(
        { ...s, alphaCe: 0, alphaClm: 0, alphaRkl: 0, [alpha]: 1 },
        sm,
        x,
        teacherLogits,
        batch,
      );
      assert.ok(
        Math.abs(terms[key] - only) <= 1e-5 * only + 1e-6,
        `${label}: ${key} ${terms[key]} vs ${only}`,
      );
    }
    // Finite differences of the whole loss with respect to a sample of student parameters.
    const idx = sampleIndices(sm, 6, 9);
    const sub = Float64Array.from(idx, (i) => x[i]);
    const fd = finiteDifference(
      (v) => {
        idx.forEach((i, j) => (x[i] = v[j]));
        return referenceLoss(s, sm, x, teacherLogits, batch);
      },
      sub,
      1e-5,
    );
    idx.forEach((i, j) => (x[i] = sub[j]));
    const got = idx.map((i) => grads[i] * gradAccum);
    const scale = Math.max(...Array.from(fd, Math.abs));
    assert.ok(scale > 1e-4, `${label}: the sampled gradient is not informative (max ${scale})`);
    assertClose(got, fd, { atol: 2e-4 * scale, rtol: 2e-3 }, `${label}: gradient vs finite differences`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("DistillObjective with alpha_ce only at T=2 gives the loss and gradient of the reference distillation loss", async () => {
  await checkAgainstReference(settings({ alphaCe: 1, temperature: 2 }), 1, "ce");
});

Deno.test("DistillObjective combines ce, clm and reverse KL with their weights and scales by 1/grad-accum", async () => {
  await checkAgainstReference(
    settings({ alphaCe: 5, alphaClm: 2, alphaRkl: 0.5, temperature: 1.5 }),
    2,
    "ce+clm+rkl",
  );
});

/**
 * Checks the GPU gradient of the objective along random directions against central differences of the GPU
 * loss (float32, so a loose tolerance): this covers the hidden-state terms, whose gradients enter
 * through the backward pass's hooks.
 */
async function checkDirectional(s: DistillSettings, teacherOverrides: Record<string, number>, label: string) {
  const gpu = await testGpu();
  const sm = tinyModel({ n_layer: 3 }, 11);
  const tm = tinyModel({ n_layer: 4, ...teacherOverrides }, 12);
  const dir = await saveTemp(tm);
  try {
    const batch = randomBatch(B, T, sm.config.vocab_size, 13);
    const teacher = await WebGpuTeacher.open(gpu, dir, { vocabSize: 67, seq: T, needHidden: true });
    const { model, acts } = student(gpu, sm, B, T);
    const objective = new DistillObjective(teacher, s);
    await objective.start({ gpu, model, acts, settings: testSettings(), seed: 0 }, null);
    const lossAt = async (params: Float32Array): Promise<{ loss: number; grads: Float32Array }> => {
      gpu.write(model.params, params);
      model.zeroGrads();
      model.setBatch(acts, batch.ids, batch.targets);
      await objective.microStep(microBatch(batch.ids, batch.targets, B, T));
      const loss = await objective.microLoss();
      await objective.stepMetrics(1);
      return { loss, grads: await gpu.read(model.grads!) };
    };
    const { loss, grads } = await lossAt(sm.params);
    assert.ok(loss > 0, `${label}: loss ${loss}`);
    const rng = new Rng(17);
    const eps = 3e-3;
    for (let k = 0; k < 3; k++) {
      const d = new Float32Array(sm.params.length);
      for (const t of sm.layout.tensors) for (let i = 0; i < t.size; i++) d[t.offset + i] = rng.normal();
      let gd = 0;
      for (let i = 0; i < d.length; i++) gd += grads[i] * d[i];
      const plus = sm.params.map((p, i) => p + eps * d[i]);
      const minus = sm.params.map((p, i) => p - eps * d[i]);
      const fd = ((await lossAt(plus)).loss - (await lossAt(minus)).loss) / (2 * eps);
      assert.ok(
        Math.abs(fd - gd) <= 0.03 * Math.abs(gd) + 1e-4,
        `${label}, direction ${k}: g·d = ${gd}, finite difference ${fd}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("DistillObjective's cosine and MSE terms on mapped layers follow the directional derivative of the loss", async () => {
  const pairs = [{ student: 1, teacher: 2 }, { student: 3, teacher: 4 }];
  await checkDirectional(
    settings({ alphaCos: 1, alphaMse: 0.5, pairs, cosPairs: [{ student: 0, teacher: 0 }, ...pairs] }),
    {},
    "cos+mse",
  );
});

Deno.test("DistillObjective's MSE through a learned projection (teacher wider) follows the directional derivative", async () => {
  const pairs = [{ student: 2, teacher: 2 }, { student: 3, teacher: 4 }];
  await checkDirectional(settings({ alphaMse: 1, alphaCe: 0.1, pairs }), { n_embd: 24 }, "mse+projection");
});
