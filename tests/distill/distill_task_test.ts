/**
 * `deno task distill` end to end: kill and resume gives the losses of an uninterrupted run (critics and
 * projection restored exactly, ONNX prefetch restarting at the right batch), every loss term is reported,
 * and bad teachers or student settings fail before training with one line.
 */
import assert from "node:assert/strict";
import { DistillObjective, type DistillSettings } from "../../lib/distill/objective.ts";
import { runDistillation } from "../../lib/distill/run.ts";
import { validateConfig } from "../../lib/model/config.ts";
import { saveModelDir } from "../../lib/model/model_dir.ts";
import { initParams, paramLayout } from "../../lib/model/params.ts";
import { exportOnnx } from "../../lib/onnx/export.ts";
import { GraphBuilder } from "../../lib/onnx/graph.ts";
import { encodeModel } from "../../lib/onnx/proto/onnx.ts";
import { OnnxTeacher } from "../../lib/onnx/teacher.ts";
import { Rng } from "../../lib/rng.ts";
import { type StepMetrics, train, type TrainSettings } from "../../lib/train/trainer.ts";
import { testGpu } from "../_check.ts";
import { saveTemp, testSettings, tinyModel } from "./_helpers.ts";
import { type DenoRun, denoRun } from "../_deno_run.ts";

const DISTILL = new URL("../../tasks/distill.ts", import.meta.url).pathname;
const PERMS = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi"];

async function run(args: string[]): Promise<DenoRun> {
  return await denoRun([...PERMS, DISTILL, ...args]);
}

/** Step lines of --json output, by step. */
function stepLines(stdout: string): Map<number, Record<string, number>> {
  const steps = new Map<number, Record<string, number>>();
  for (const line of stdout.split("\n").filter((l) => l.startsWith("{"))) {
    const j = JSON.parse(line);
    if (j.event === undefined && j.step !== undefined) steps.set(j.step, j);
  }
  return steps;
}

/** A GPT-2-vocabulary teacher folder (the task tokenizes with GPT-2's BPE), small enough to be fast. */
async function teacherDir(layers: number, width: number, seed: number): Promise<string> {
  const config = validateConfig({
    vocab_size: 50257,
    n_positions: 64,
    n_embd: width,
    n_layer: layers,
    n_head: 2,
  });
  const layout = paramLayout(config);
  const dir = await Deno.makeTempDir({ prefix: "distill-teacher-" });
  await saveModelDir(dir, config, layout, initParams(config, layout, seed));
  return dir;
}

const TERMS = ["loss_ce", "loss_clm", "loss_rkl", "loss_cos", "loss_wd", "teacher_wait"];

Deno.test("distill: a run killed mid-way and resumed (critics included) gives the losses of one that was not", async () => {
  const dir = await Deno.makeTempDir();
  const teacher = await teacherDir(4, 32, 3);
  try {
    const args = [
      "--teacher",
      teacher,
      "--init-from-teacher",
      "0,3",
      "--alpha-ce",
      "1",
      "--alpha-clm",
      "0.5",
      "--alpha-rkl",
      "0.1",
      "--alpha-cos",
      "1",
      "--alpha-wd",
      "0.1",
      "--n-critic",
      "2",
      "--critic-hidden",
      "16",
      "--batch",
      "2",
      "--seq",
      "16",
      "--steps",
      "6",
      "--save-every",
      "2",
      "--schedule",
      "cosine",
      "--warmup",
      "2",
      "--eval-every",
      "0",
      "--eval-batches",
      "1",
      "--seed",
      "4",
      "--json",
      "--cache-dir",
      `${dir}/tokens`,
    ];
    const whole = await run([...args, "--out", `${dir}/whole`]);
    assert.equal(whole.code, 0, whole.stderr);
    const lw = stepLines(whole.stdout);
    assert.equal(lw.size, 6);
    for (const k of TERMS) assert.ok(k in lw.get(1)!, `step lines carry ${k}`);
    const done = JSON.parse(whole.stdout.trim().split("\n").at(-1)!);
    assert.equal(done.event, "done");
    assert.ok(done.teacher_wait_fraction >= 0 && done.teacher_wait_fraction <= 1);

    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...PERMS, DISTILL, ...args, "--out", `${dir}/cut`],
      stdout: "null",
      stderr: "null",
      env: { XDG_RUNTIME_DIR: "/tmp" },
    }).spawn();
    const state = `${dir}/cut/checkpoint/state.json`;
    for (let i = 0; i < 1200; i++) {
      if (await Deno.stat(state).then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill("SIGKILL");
    await child.status;
    const saved = JSON.parse(await Deno.readTextFile(state));
    assert.ok(saved.step >= 2 && saved.step < 6, `checkpoint at step ${saved.step}`);
    assert.equal(saved.objective.critics.length, 2);
    assert.equal(saved.objective.critics[0].step, 2 * saved.step);

    const resumed = await run([...args, "--out", `${dir}/cut`, "--resume"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const lr = stepLines(resumed.stdout);
    assert.equal(Math.min(...lr.keys()), saved.step + 1);
    for (const [step, line] of lr) {
      assert.equal(line.loss, lw.get(step)!.loss, `step ${step} loss`);
      for (const k of TERMS.slice(0, 5)) assert.equal(line[k], lw.get(step)![k], `step ${step} ${k}`);
    }
    const a = await Deno.readFile(`${dir}/whole/model/model.safetensors`);
    const b = await Deno.readFile(`${dir}/cut/model/model.safetensors`);
    assert.ok(a.length === b.length && a.every((x, i) => x === b[i]), "final students are identical");
    // A different setting is refused on resume.
    const changed = await run([
      ...args.map((x) => (x === "0.1" ? "0.2" : x)),
      "--out",
      `${dir}/cut`,
      "--resume",
    ]);
    assert.notEqual(changed.code, 0);
    assert.match(changed.stderr, /cannot resume: setting "distill" differs/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(teacher, { recursive: true });
  }
});

/** Runs `train` with a distillation objective and collects its step metrics. */
async function trainWith(
  objective: DistillObjective,
  model: ReturnType<typeof tinyModel>,
  blocks: Uint32Array,
  settings: TrainSettings,
  out: string,
  resume: boolean,
) {
  const steps: StepMetrics[] = [];
  const result = await train({
    gpu: await testGpu(),
    config: model.config,
    params: model.params,
    train: blocks,
    valid: null,
    settings,
    out,
    resume,
    runInfo: {},
    objective,
  }, { onStep: (m) => void steps.push(m) });
  return { steps, params: await result.model.readParams() };
}

Deno.test("distill: an ONNX teacher with prefetch and an MSE projection resume exactly from a checkpoint", async () => {
  const out = await Deno.makeTempDir();
  const tm = tinyModel({ n_embd: 24, n_layer: 3, n_positions: 16 }, 61);
  const sm = tinyModel({ n_embd: 16, n_layer: 2, n_positions: 16 }, 62);
  const teacher = await saveTemp(tm);
  const T = 8;
  const rng = new Rng(63);
  const blocks = Uint32Array.from({ length: 40 * T }, () => rng.int(67));
  const s: DistillSettings = {
    temperature: 2,
    alphaCe: 1,
    alphaClm: 0.5,
    alphaCos: 0,
    alphaMse: 1,
    alphaWd: 0,
    alphaRkl: 0,
    pairs: [{ student: 1, teacher: 1 }, { student: 2, teacher: 3 }],
    cosPairs: [],
    nCritic: 1,
    criticLr: 1e-4,
    criticHidden: 8,
    gpLambda: 10,
    criticClip: 0,
  };
  const settings = (steps: number) =>
    testSettings({ steps, batch: 2, seq: T, gradAccum: 2, shuffle: true, seed: 5, lr: 3e-3, saveEvery: 0 });
  const open = () => OnnxTeacher.open(teacher, { vocabSize: 67, seq: T, needHidden: true }, { threads: 1 });
  try {
    await exportOnnx(teacher, { hidden: true });
    let t = await open();
    const whole = await trainWith(
      new DistillObjective(t, s, { prefetch: 3 }),
      sm,
      blocks,
      settings(4),
      `${out}/a`,
      false,
    );
    t.close();
    t = await open();
    const first = await trainWith(
      new DistillObjective(t, s, { prefetch: 3 }),
      sm,
      blocks,
      settings(2),
      `${out}/b`,
      false,
    );
    t.close();
    t = await open();
    const rest = await trainWith(
      new DistillObjective(t, s, { prefetch: 3 }),
      sm,
      blocks,
      settings(4),
      `${out}/b`,
      true,
    );
    t.close();
    assert.deepEqual(first.steps.map((m) => m.loss), whole.steps.slice(0, 2).map((m) => m.loss));
    assert.deepEqual(rest.steps.map((m) => m.step), [3, 4]);
    assert.deepEqual(rest.steps.map((m) => m.loss), whole.steps.slice(2).map((m) => m.loss));
    assert.deepEqual(
      rest.steps.map((m) => m.terms!.loss_mse),
      whole.steps.slice(2).map((m) => m.terms!.loss_mse),
    );
    assert.ok(
      whole.steps[3].terms!.loss_mse < whole.steps[0].terms!.loss_mse,
      "the projection and student learn",
    );
    assert.deepEqual(rest.params, whole.params);
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(teacher, { recursive: true });
  }
});

Deno.test("distill: bad teachers and students fail before training with one line", async () => {
  const gpu = await testGpu();
  const dir = await Deno.makeTempDir();
  const small = await saveTemp(tinyModel({}, 71)); // V = 67: not GPT-2's vocabulary
  const teacher = await teacherDir(2, 32, 72);
  try {
    await Deno.writeTextFile(`${dir}/notes.txt`, "hello");
    await Deno.writeFile(`${dir}/garbage.onnx`, new TextEncoder().encode("not a protobuf"));
    const g = new GraphBuilder();
    const x = g.input("pixel_values", "float32", ["batch_size", 3]);
    g.output(g.op("Relu", [x]), "logits", "float32", ["batch_size", 3]);
    await Deno.writeFile(
      `${dir}/image.onnx`,
      encodeModel({
        ir_version: 8,
        opset_import: [{ domain: "", version: 17 }],
        graph: g.build("not_an_lm"),
      }),
    );
    const base = {
      teacherBackend: "auto" as const,
      teacherTopK: 0,
      prefetch: 2,
      student: "tiny",
      distill: {
        temperature: 2,
        alphaCe: 1,
        alphaClm: 0,
        alphaCos: 0,
        alphaMse: 0,
        alphaWd: 0,
        alphaRkl: 0,
        nCritic: 1,
        criticLr: 1e-4,
        criticHidden: 8,
        gpLambda: 10,
        criticClip: 0,
      },
      data: "embedded",
      out: `${dir}/out`,
      cacheDir: `${dir}/tokens`,
      resume: false,
      json: true,
      quiet: true,
      gpu,
      settings: testSettings({ seq: 16, batch: 1, steps: 1 }),
    };
    const cases: [Partial<Parameters<typeof runDistillation>[0]> & { teacher: string }, RegExp][] = [
      [{ teacher: `${dir}/missing` }, /^teacher .*missing: not found$/],
      [{ teacher: `${dir}/notes.txt` }, /neither an \.onnx file nor a model directory/],
      [{ teacher: `${dir}/garbage.onnx` }, /cannot load ONNX model .*garbage\.onnx/],
      [{ teacher: `${dir}/image.onnx` }, /has no input "input_ids" \(inputs: pixel_values\)/],
      [{ teacher: small }, /vocabulary mismatch: the teacher has V = 67, the student 50257/],
      [{ teacher, student: undefined }, /give the student/],
      [{ teacher, initFromTeacher: "0,5" }, /block 5 does not exist/],
      [{ teacher, initFromTeacher: "default" }, /widths differ \(student n_embd 128, teacher 32\)/],
      [{ teacher, distill: { ...base.distill, alphaCos: 1 } }, /--alpha-cos needs equal widths/],
      [{ teacher, teacherTopK: 5 }, /--teacher-topk applies to ONNX teachers only/],
      [
        { teacher, layerMap: "1:7", distill: { ...base.distill, alphaMse: 1 } },
        /teacher hidden state 7 does not exist/,
      ],
      [{ teacher, resume: true }, /no checkpoint to resume from/],
    ];
    for (const [o, re] of cases) {
      await assert.rejects(runDistillation({ ...base, ...o }), (e: Error) => {
        assert.match(e.message, re);
        assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
        return true;
      });
      assert.ok(!(await Deno.stat(`${dir}/out`).then(() => true, () => false)), `${re}: nothing written`);
    }
    // The command line prints exactly one line and exits non-zero.
    const r = await run(["--teacher", small, "--student", "tiny", "--out", `${dir}/out`, "--steps", "1"]);
    assert.equal(r.code, 1);
    const lines = r.stderr.split("\n").filter((l) => l.trim());
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^error: teacher .*: vocabulary mismatch/);
    const u = await run([
      "--teacher",
      teacher,
      "--gp-lambda",
      "5",
      "--critic-clip",
      "0.01",
      "--student",
      "tiny",
    ]);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /give either --gp-lambda .* or --critic-clip/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(small, { recursive: true });
    await Deno.remove(teacher, { recursive: true });
  }
});
