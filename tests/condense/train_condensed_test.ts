/**
 * Training on condensed sets, at the objective level on tiny models (V = 97): per-example weights give the
 * documented weighted combination of per-example gradients (cross-entropy and soft targets), soft-target
 * training equals DistillObjective with the same top-k teacher, plain condensed training equals the
 * trainer's own step even when an example straddles two output chunks, and dm examples run the
 * EmbeddedGPT2 forward without feeding the token table's input side.
 */
import assert from "node:assert/strict";
import { readCondensedSet } from "../../lib/condense/condensed_set.ts";
import { EmbeddedGPT2 } from "../../lib/condense/embedded_forward.ts";
import {
  CONDENSED_TRAIN_DEFAULTS,
  CondensedObjective,
  type CondensedTrainOptions,
  outputSegments,
} from "../../lib/condense/train_condensed.ts";
import { DistillObjective, type DistillSettings } from "../../lib/distill/objective.ts";
import type { Gpu } from "../../lib/gpu/runtime.ts";
import { Activations, GPT2 } from "../../lib/model/gpt2.ts";
import { train } from "../../lib/train/trainer.ts";
import { assertClose, testGpu } from "../_check.ts";
import { tinyGpt2 } from "./_helpers.ts";
import { batchOf, micro, settings, StoredTeacher, writeSet } from "./_sets.ts";

const V = 97;
const CONFIG = { vocab_size: V, n_positions: 16, n_embd: 32, n_layer: 2, n_head: 2 };
const KD = { temperature: 2, alphaCe: 0.7, alphaClm: 0.3 };

function distillSettings(): DistillSettings {
  return {
    ...KD,
    alphaCos: 0,
    alphaMse: 0,
    alphaWd: 0,
    alphaRkl: 0,
    pairs: [],
    cosPairs: [],
    nCritic: 1,
    criticLr: 1e-4,
    criticHidden: 8,
    gpLambda: 0,
    criticClip: 0,
  };
}

function sum(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "train-condensed-" });
}

Deno.test("outputSegments() splits a micro-batch at example and output-chunk boundaries", () => {
  const segs = outputSegments(10, 7, 64);
  assert.equal(segs.length, 11);
  assert.deepEqual(segs[9], { row0: 63, len: 1, b: 9 });
  assert.deepEqual(segs[10], { row0: 64, len: 6, b: 9 });
  assert.equal(segs.reduce((s, x) => s + x.len, 0), 70);
  assert.deepEqual(outputSegments(2, 5, 10), [{ row0: 0, len: 5, b: 0 }, { row0: 5, len: 5, b: 1 }]);
});

/** One micro-step of the objective on examples 0 … B−1 (the first micro-batch without shuffling). */
async function objectiveStep(
  gpu: Gpu,
  params: Float32Array,
  path: string,
  B: number,
  options: CondensedTrainOptions,
): Promise<{ loss: number; grads: Float32Array }> {
  const m = tinyGpt2(CONFIG, 4);
  const set = await readCondensedSet(path);
  const model = new GPT2(gpu, m.config, params, { training: true });
  const acts = new Activations(gpu, m.config, B, set.T, true);
  const obj = new CondensedObjective(set, options);
  await obj.start({ gpu, model, acts, settings: settings({ batch: B, seq: set.T }), seed: 0 }, null);
  const { inputs, targets } = batchOf(set, [...Array(B).keys()]);
  model.zeroGrads();
  model.setBatch(acts, inputs, targets);
  await obj.microStep(micro(inputs, targets, B, set.T));
  const loss = await obj.microLoss();
  return { loss, grads: await gpu.read(model.grads!) };
}

Deno.test("--sample-weights gives Σ ω_b ∇ℓ_b / Σ ω_b of the per-example mean losses (cross-entropy and soft targets)", async () => {
  const gpu = await testGpu();
  const dir = await tempDir();
  try {
    const m = tinyGpt2(CONFIG, 4);
    const teacher = tinyGpt2(CONFIG, 9, { peaked: true });
    const weights = [1, 4, 2.5, 7, 3];
    const path = await writeSet(gpu, dir, { count: 5, T: 7, V, weights, teacher, softK: 6 });
    const set = await readCondensedSet(path);
    const B = 3, T = 7;
    for (const soft of [false, true]) {
      const got = await objectiveStep(gpu, m.params, path, B, {
        ...CONDENSED_TRAIN_DEFAULTS,
        ...KD,
        sampleWeights: true,
        softTargets: soft,
      });
      // Each example alone: its mean loss and gradient, by the model's own step or by distillation.
      const model = new GPT2(gpu, m.config, m.params, { training: true });
      const acts = new Activations(gpu, m.config, B, T, true);
      const per: { loss: number; grads: Float32Array }[] = [];
      for (let b = 0; b < B; b++) {
        const { inputs, targets } = batchOf(set, [b]);
        model.zeroGrads();
        model.setBatch(acts, inputs, targets);
        if (soft) {
          const d = new DistillObjective(new StoredTeacher(set, V), distillSettings(), { prefetch: 0 });
          await d.start({ gpu, model, acts, settings: settings({ batch: B, seq: T }), seed: 0 }, null);
          await d.microStep(micro(inputs, targets, 1, T));
          per.push({ loss: await d.microLoss(), grads: await gpu.read(model.grads!) });
        } else {
          model.step(acts, 1, T, inputs, true, 1 / (T - 1));
          per.push({
            loss: sum(await gpu.read(gpu.slice(acts.losses, 0, T))) / (T - 1),
            grads: await gpu.read(model.grads!),
          });
        }
      }
      const omega = weights.slice(0, B);
      const W = sum(omega);
      const expected = new Float32Array(got.grads.length);
      const uniform = new Float32Array(got.grads.length);
      per.forEach((p, b) => {
        for (let i = 0; i < expected.length; i++) {
          expected[i] += (omega[b] / W) * p.grads[i];
          uniform[i] += p.grads[i] / B;
        }
      });
      const label = soft ? "soft targets" : "cross-entropy";
      assertClose(got.grads, expected, { atol: 1e-7, rtol: 1e-4 }, `${label}: weighted gradient`);
      const expectedLoss = per.reduce((s, p, b) => s + omega[b] * p.loss, 0) / W;
      assert.ok(
        Math.abs(got.loss - expectedLoss) < 1e-5 * expectedLoss,
        `${label}: loss ${got.loss} vs ${expectedLoss}`,
      );
      // The weights matter: the unweighted mean is far from the weighted one.
      assert.ok(maxDiff(expected, uniform) > 1e-3, `${label}: weighting changes the gradient`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--soft-targets training equals DistillObjective with the same top-k teacher, step for step", async () => {
  const gpu = await testGpu();
  const dir = await tempDir();
  try {
    const m = tinyGpt2(CONFIG, 5);
    const teacher = tinyGpt2(CONFIG, 9, { peaked: true });
    const path = await writeSet(gpu, dir, { count: 5, T: 7, V, weights: [1, 1, 1, 1, 1], teacher, softK: 6 });
    const set = await readCondensedSet(path);
    const s = settings({ steps: 3, batch: 2, seq: 7, gradAccum: 2, shuffle: true, seed: 3, clip: 1 });
    const runs: { losses: number[]; params: Float32Array }[] = [];
    for (const which of ["condensed", "distill"]) {
      const objective = which === "condensed"
        ? new CondensedObjective(set, { ...CONDENSED_TRAIN_DEFAULTS, ...KD, softTargets: true })
        : new DistillObjective(new StoredTeacher(set, V), distillSettings());
      const losses: number[] = [];
      const r = await train({
        gpu,
        config: m.config,
        params: m.params,
        train: set.ids,
        valid: null,
        settings: s,
        out: `${dir}/${which}`,
        resume: false,
        runInfo: {},
        objective,
      }, { onStep: (x) => void losses.push(x.loss) });
      runs.push({ losses, params: await r.model.readParams() });
    }
    assert.equal(runs[0].losses.length, 3);
    runs[0].losses.forEach((l, i) =>
      assert.ok(Math.abs(l - runs[1].losses[i]) < 1e-5 * l, `step ${i + 1}: ${l} vs ${runs[1].losses[i]}`)
    );
    assertClose(runs[0].params, runs[1].params, { atol: 0, rtol: 0 }, "parameters after 3 steps");
    assert.ok(maxDiff(runs[0].params, m.params) > 1e-3, "training moved the parameters");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("condensed training without weights equals the trainer's own step, also when an example straddles two output chunks", async () => {
  const gpu = await testGpu();
  const dir = await tempDir();
  try {
    const m = tinyGpt2(CONFIG, 6);
    const path = await writeSet(gpu, dir, { count: 10, T: 7, V, weights: Array(10).fill(2) });
    const set = await readCondensedSet(path);
    const B = 10, T = 7;
    // Rows 63 … 69 (example 9) span the output chunks [0, 64) and [64, 70).
    const chunked = (acts: Activations) => Object.defineProperty(acts, "chunkRows", { value: 64 });
    const model = new GPT2(gpu, m.config, m.params, { training: true });
    const acts = chunked(new Activations(gpu, m.config, B, T, true));
    const obj = new CondensedObjective(set, { ...CONDENSED_TRAIN_DEFAULTS, sampleWeights: true });
    await obj.start({ gpu, model, acts, settings: settings({ batch: B, seq: T }), seed: 0 }, null);
    const { inputs, targets } = batchOf(set, [...Array(B).keys()]);
    model.zeroGrads();
    model.setBatch(acts, inputs, targets);
    await obj.microStep(micro(inputs, targets, B, T));
    const loss = await obj.microLoss();
    const got = await gpu.read(model.grads!);

    model.zeroGrads();
    model.setBatch(acts, inputs, targets);
    model.step(acts, B, T, inputs, true, 1 / (B * (T - 1)));
    const plainLoss = sum(await gpu.read(gpu.slice(acts.losses, 0, B * T))) / (B * (T - 1));
    assertClose(got, await gpu.read(model.grads!), { atol: 0, rtol: 0 }, "gradient");
    assert.ok(Math.abs(loss - plainLoss) < 1e-6 * plainLoss, `loss ${loss} vs ${plainLoss}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dm examples train from their stored embeddings: EmbeddedGPT2's forward, no input-side wte gradient", async () => {
  const gpu = await testGpu();
  const dir = await tempDir();
  try {
    const m = tinyGpt2(CONFIG, 7);
    const C = CONFIG.n_embd;
    const path = await writeSet(gpu, dir, { count: 4, T: 7, V, weights: [3, 3, 3, 3], embedC: C });
    const set = await readCondensedSet(path);
    assert.ok(set.embeds && set.embeds.C === C);
    const B = 2, T = 7, N = B * T;
    const model = new GPT2(gpu, m.config, m.params, { training: true });
    const acts = new Activations(gpu, m.config, B, T, true);
    const obj = new CondensedObjective(set, CONDENSED_TRAIN_DEFAULTS);
    await obj.start({ gpu, model, acts, settings: settings({ batch: B, seq: T }), seed: 0 }, null);
    const { inputs, targets } = batchOf(set, [0, 1]);
    model.zeroGrads();
    model.setBatch(acts, inputs, targets);
    await obj.microStep(micro(inputs, targets, B, T));
    const loss = await obj.microLoss();
    const grads = await gpu.read(model.grads!);
    const lnf = await gpu.read(gpu.slice(acts.lnf, 0, N * C));
    assert.ok(!Object.hasOwn(model, "forwardHidden"), "the model's own forward is back");

    // EmbeddedGPT2 on the same vectors (its cross-entropy gradient is the sum, scale 1).
    const emb = new EmbeddedGPT2(gpu, m.config, m.params, { training: true });
    const acts2 = new Activations(gpu, m.config, B, T, true);
    const view = gpu.tensor(N * C);
    gpu.write(view, set.embeds!.data.subarray(0, N * C));
    emb.zeroGrads();
    emb.setBatch(acts2, inputs, targets);
    emb.stepFromEmbeddings(acts2, B, T, view, true, {});
    assertClose(
      lnf,
      await gpu.read(gpu.slice(acts2.lnf, 0, N * C)),
      { atol: 0, rtol: 0 },
      "final hidden states",
    );
    const refLoss = sum(await gpu.read(gpu.slice(acts2.losses, 0, N))) / (B * (T - 1));
    assert.ok(Math.abs(loss - refLoss) < 1e-6 * refLoss, `loss ${loss} vs ${refLoss}`);

    // Same gradients scaled to the mean, except that wte row 0 lacks the input side EmbeddedGPT2 puts there.
    const scale = 1 / (B * (T - 1));
    const expected = (await gpu.read(emb.grads!)).map((g) => g * scale);
    const dres = await gpu.read(gpu.slice(acts2.dresidual, 0, N * C));
    const wte = model.layout.byName.get("wte.weight")!;
    for (let c = 0; c < C; c++) {
      let input = 0;
      for (let n = 0; n < N; n++) input += dres[n * C + c];
      expected[wte.offset + c] -= input * scale;
    }
    assertClose(grads, expected, { atol: 1e-6, rtol: 1e-4 }, "gradients");
    const wpe = model.layout.byName.get("wpe.weight")!;
    assert.ok(
      maxDiff(grads.subarray(wpe.offset, wpe.offset + T * C), new Float32Array(T * C)) > 0,
      "wpe is trained",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
