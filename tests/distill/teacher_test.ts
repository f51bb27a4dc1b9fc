/**
 * Teachers: WebGpuTeacher (a model directory on WebGPU) and OnnxTeacher (the same model exported to ONNX,
 * in onnxruntime-node) give the same logits and hidden states, and the distillation objective gives the
 * same loss and gradient with either, including a top-k teacher that keeps every token and a vocabulary
 * large enough to need several output chunks.
 */
import assert from "node:assert/strict";
import { DistillObjective, type DistillSettings } from "../../lib/distill/objective.ts";
import { WebGpuTeacher } from "../../lib/distill/webgpu_teacher.ts";
import { exportOnnx } from "../../lib/onnx/export.ts";
import { OnnxTeacher, type Teacher } from "../../lib/onnx/teacher.ts";
import { assertClose, testGpu } from "../_check.ts";
import { microBatch, randomBatch, saveTemp, student, testSettings, tinyModel } from "./_helpers.ts";

Deno.test("WebGpuTeacher and OnnxTeacher give the same logits and hidden states for the same model", async () => {
  const gpu = await testGpu();
  const m = tinyModel({ n_layer: 3 }, 21);
  const dir = await saveTemp(m);
  const B = 3, T = 7, V = m.config.vocab_size;
  const expect = { vocabSize: V, seq: T, needHidden: true };
  let onnx: OnnxTeacher | null = null;
  try {
    await exportOnnx(dir, { hidden: true });
    const web = await WebGpuTeacher.open(gpu, dir, expect);
    onnx = await OnnxTeacher.open(dir, expect, { threads: 1 });
    assert.equal(web.info.hiddenStates, 4);
    assert.equal(onnx.info.hiddenStates, 4);
    const { ids } = randomBatch(B, T, V, 22);
    const a = await web.run(ids, B, T);
    const b = await onnx.run(ids, B, T);
    assert.equal(a.logits.length, B * T * V);
    assertClose(a.logits, b.logits, { atol: 2e-4, rtol: 1e-4 }, "logits");
    assert.equal(a.hidden!.length, 4);
    for (let i = 0; i < 4; i++) {
      assertClose(a.hidden![i], b.hidden![i], { atol: 1e-4, rtol: 1e-4 }, `hidden_states.${i}`);
    }
    // Prefetched batches are the direct runs', in order; the wait is accounted.
    const t1 = web.prefetch(ids, B, T);
    const { ids: other } = randomBatch(B, T, V, 23);
    const t2 = web.prefetch(other, B, T);
    assert.deepEqual((await web.get(t1)).logits, a.logits);
    assertClose(
      (await web.get(t2)).logits!,
      (await onnx.run(other, B, T)).logits,
      { atol: 2e-4, rtol: 1e-4 },
      "t2",
    );
    assert.ok(web.stats().batches >= 3 && web.stats().waitMs >= 0);
    await assert.rejects(web.get(t1), /no prefetched batch/);
    // The decoder graph (KV-cache inputs fed an empty past) is a teacher too.
    const decoder = await OnnxTeacher.open(`${dir}/onnx/model.onnx`, { ...expect, needHidden: false }, {
      threads: 1,
    });
    try {
      assertClose(
        (await decoder.run(ids, B, T)).logits,
        a.logits,
        { atol: 2e-4, rtol: 1e-4 },
        "decoder logits",
      );
    } finally {
      decoder.close();
    }
  } finally {
    onnx?.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WebGpuTeacher.open() rejects a vocabulary mismatch, a too long sequence and a missing folder in one line", async () => {
  const gpu = await testGpu();
  const m = tinyModel({}, 24);
  const dir = await saveTemp(m);
  try {
    const bad = async (p: Promise<unknown>, re: RegExp) =>
      await assert.rejects(p, (e: Error) => re.test(e.message) && !e.message.includes("\n"));
    await bad(
      WebGpuTeacher.open(gpu, dir, { vocabSize: 50257, seq: 8, needHidden: false }),
      /vocabulary mismatch/,
    );
    await bad(
      WebGpuTeacher.open(gpu, dir, { vocabSize: 67, seq: 17, needHidden: false }),
      /exceeds .*n_positions 16/,
    );
    await bad(
      WebGpuTeacher.open(gpu, `${dir}/nope`, { vocabSize: 67, seq: 8, needHidden: false }),
      /does not exist/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function maxAbs(x: Float32Array): number {
  let m = 0;
  for (const v of x) m = Math.max(m, Math.abs(v));
  return m;
}

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

/** One objective micro-step with a given teacher: loss, terms and the student's gradient. */
async function stepWith(
  teacher: Teacher,
  s: DistillSettings,
  sm: ReturnType<typeof tinyModel>,
  B: number,
  T: number,
  seed: number,
) {
  const gpu = await testGpu();
  const { model, acts } = student(gpu, sm, B, T);
  const objective = new DistillObjective(teacher, s, { prefetch: 1 });
  await objective.start({ gpu, model, acts, settings: testSettings(), seed: 0 }, null);
  const batch = randomBatch(B, T, sm.config.vocab_size, seed);
  model.zeroGrads();
  model.setBatch(acts, batch.ids, batch.targets);
  await objective.microStep(microBatch(batch.ids, batch.targets, B, T));
  const loss = await objective.microLoss();
  const terms = await objective.stepMetrics(1);
  return { loss, terms, grads: await gpu.read(model.grads!), chunkRows: acts.chunkRows };
}

Deno.test("DistillObjective gives the same loss and gradient with ONNX (full and top-k = V) and WebGPU teachers", async () => {
  const gpu = await testGpu();
  const sm = tinyModel({}, 31);
  const tm = tinyModel({ n_layer: 3 }, 32);
  const dir = await saveTemp(tm);
  const B = 2, T = 6, V = 67;
  const expect = { vocabSize: V, seq: T, needHidden: true };
  const s = settings({
    alphaCe: 2,
    alphaClm: 1,
    alphaRkl: 0.5,
    alphaCos: 1,
    alphaMse: 1,
    pairs: [{ student: 1, teacher: 2 }],
    cosPairs: [{ student: 2, teacher: 3 }],
  });
  const teachers: Teacher[] = [];
  try {
    await exportOnnx(dir, { hidden: true });
    teachers.push(await WebGpuTeacher.open(gpu, dir, expect));
    teachers.push(await OnnxTeacher.open(dir, expect, { threads: 1 }));
    teachers.push(await OnnxTeacher.open(dir, expect, { threads: 1, topK: V }));
    const results = [];
    for (const t of teachers) results.push(await stepWith(t, s, sm, B, T, 33));
    for (const [k, r] of results.entries()) {
      assert.ok(Number.isFinite(r.loss) && r.loss > 0);
      assert.ok(r.terms.teacher_wait >= 0 && r.terms.teacher_wait_ms >= 0);
      if (k === 0) continue;
      const label = k === 1 ? "onnx full" : "onnx top-k";
      assert.ok(
        Math.abs(r.loss - results[0].loss) <= 1e-4 * results[0].loss,
        `${label}: ${r.loss} vs ${results[0].loss}`,
      );
      for (const key of ["loss_ce", "loss_clm", "loss_rkl", "loss_cos", "loss_mse"]) {
        assert.ok(
          Math.abs(r.terms[key] - results[0].terms[key]) <= 1e-4 * Math.abs(results[0].terms[key]) + 1e-6,
          `${label} ${key}`,
        );
      }
      const scale = maxAbs(results[0].grads);
      assertClose(r.grads, results[0].grads, { atol: 1e-4 * scale, rtol: 1e-3 }, `${label}: gradient`);
    }
  } finally {
    for (const t of teachers) t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with GPT-2's vocabulary the objective splits the logits into chunks and both teachers still agree", async () => {
  const gpu = await testGpu();
  const cfg = { vocab_size: 50257, n_positions: 256, n_embd: 16, n_layer: 1, n_head: 2 };
  const sm = tinyModel(cfg, 41);
  const tm = tinyModel(cfg, 42);
  const dir = await saveTemp(tm);
  const B = 4, T = 200; // 800 rows: more than one 128 MiB chunk of 50304-wide logits (667 rows)
  const expect = { vocabSize: 50257, seq: T, needHidden: false };
  const s = settings({ alphaCe: 5, alphaClm: 2, temperature: 2 });
  const teachers: Teacher[] = [];
  try {
    await exportOnnx(dir);
    teachers.push(await WebGpuTeacher.open(gpu, dir, expect));
    teachers.push(await OnnxTeacher.open(dir, expect));
    const a = await stepWith(teachers[0], s, sm, B, T, 43);
    const b = await stepWith(teachers[1], s, sm, B, T, 43);
    assert.ok(a.chunkRows < B * T, `one chunk of ${a.chunkRows} rows holds all ${B * T}`);
    assert.ok(Math.abs(a.loss - b.loss) <= 1e-4 * a.loss, `${a.loss} vs ${b.loss}`);
    const scale = maxAbs(a.grads);
    assertClose(b.grads, a.grads, { atol: 1e-4 * scale, rtol: 1e-3 }, "gradient");
  } finally {
    for (const t of teachers) t.close();
    await Deno.remove(dir, { recursive: true });
  }
});
