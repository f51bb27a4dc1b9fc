/**
 * `deno task train --data condensed.jsonl` end to end (runTraining on a tiny GPT-2-vocabulary config): the
 * run trains on exactly the set's k examples with T = their length, `--sample-weights` weights the first
 * step's loss as documented, the objective's checkpoints resume, dm sets and soft targets added after
 * condensation train, and bad combinations fail in one line (also through the task, when --allow-run is
 * granted).
 */
import assert from "node:assert/strict";
import { condense } from "../../lib/condense/condense.ts";
import { readCondensedSet } from "../../lib/condense/condensed_set.ts";
import { GpuLanguageModel } from "../../lib/condense/lm.ts";
import { addSoftTargets } from "../../lib/condense/soft_targets.ts";
import { Activations, GPT2 } from "../../lib/model/gpt2.ts";
import { saveModelDir } from "../../lib/model/model_dir.ts";
import { paramLayout } from "../../lib/model/params.ts";
import { type RunOptions, runTraining } from "../../lib/train/run.ts";
import { resolveModel } from "../../lib/train/run_config.ts";
import { evaluateBlocks } from "../../lib/train/trainer.ts";
import { testGpu } from "../_check.ts";
import { options, tinyGpt2, topicCorpus, workspace } from "./_helpers.ts";
import { settings } from "./_sets.ts";
import { type DenoRun, denoRun } from "../_deno_run.ts";

const T = 16;
const CONFIG = { vocab_size: 50257, n_positions: 32, n_embd: 32, n_layer: 1, n_head: 2 };
const canRun = Deno.permissions.querySync({ name: "run" }).state === "granted";

/** A corpus, a config file, a 5-example k-means set, and run options for it. */
async function setup() {
  const ws = await workspace(topicCorpus(120));
  const config = `${ws.dir}/config.json`;
  await Deno.writeTextFile(config, JSON.stringify(CONFIG));
  await condense(options(ws.data, ws.out, ws.cache, { seq: T, k: 5, method: "kmeans", seed: 1 }));
  const base = (out: string, extra: Partial<RunOptions> = {}): RunOptions => ({
    config,
    data: ws.out,
    out: `${ws.dir}/${out}`,
    cacheDir: ws.cache,
    resume: false,
    json: false,
    quiet: true,
    seqExplicit: false,
    settings: settings({ steps: 2, batch: 5, seq: 64, warmup: 0, lr: 1e-3 }),
    ...extra,
  });
  return { ws, config, base };
}

/** Mean next-token loss of each example under the run's initial weights. */
async function exampleLosses(config: string, file: string): Promise<number[]> {
  const gpu = await testGpu();
  const set = await readCondensedSet(file);
  const init = await resolveModel({ config, seed: 0, maxSeq: T });
  const model = new GPT2(gpu, init.config, init.params, { training: false });
  const acts = new Activations(gpu, init.config, 1, T, false);
  const out: number[] = [];
  for (let j = 0; j < set.count; j++) {
    out.push((await evaluateBlocks(model, acts, set.ids.subarray(j * T, (j + 1) * T), T)).val_loss);
  }
  return out;
}

async function stepLosses(metricsPath: string): Promise<number[]> {
  return (await Deno.readTextFile(metricsPath)).split("\n").filter(Boolean).map((l) => JSON.parse(l))
    .filter((m) => m.event === "step").map((m) => m.loss);
}

Deno.test("training on a condensed file uses exactly its k examples, T = their length, and --sample-weights weights them", async () => {
  const gpu = await testGpu();
  const { ws, config, base } = await setup();
  try {
    const set = await readCondensedSet(ws.out);
    const per = await exampleLosses(config, ws.out);
    const mean = per.reduce((a, b) => a + b, 0) / per.length;

    const plain = await runTraining({ ...base("plain"), gpu });
    const run = JSON.parse(await Deno.readTextFile(`${ws.dir}/plain/run.json`));
    assert.equal(run.condensed.examples, 5);
    assert.equal(run.condensed.method, "kmeans");
    assert.equal(run.settings.seq, T);
    assert.equal(plain.tokens, 2 * 5 * T);
    // Batch 1 (no shuffle, B = k) is the whole set: its loss is the mean over the k examples.
    const plainLosses = await stepLosses(plain.metricsPath);
    assert.ok(Math.abs(plainLosses[0] - mean) < 1e-5 * mean, `${plainLosses[0]} vs ${mean}`);

    const weighted = await runTraining({
      ...base("weighted"),
      gpu,
      condensed: { sampleWeights: true, softTargets: false, temperature: 2, alphaCe: 0.5, alphaClm: 0.5 },
    });
    const w = Array.from(set.weights);
    const expected = per.reduce((s, l, j) => s + w[j] * l, 0) / w.reduce((a, b) => a + b, 0);
    const weightedLosses = await stepLosses(weighted.metricsPath);
    assert.ok(
      Math.abs(weightedLosses[0] - expected) < 1e-5 * expected,
      `${weightedLosses[0]} vs ${expected}`,
    );
    assert.ok(Math.abs(expected - mean) > 1e-4, "the cluster sizes differ, so the weighting shows");

    // The objective's (empty) checkpoint state resumes: a longer run continues from step 2.
    const resumed = await runTraining({
      ...base("weighted", { resume: true }),
      gpu,
      settings: { ...base("x").settings, steps: 3 },
      condensed: { sampleWeights: true, softTargets: false, temperature: 2, alphaCe: 0.5, alphaClm: 0.5 },
    });
    assert.equal(resumed.steps, 3);
    assert.deepEqual((await stepLosses(resumed.metricsPath)).slice(0, 2), weightedLosses);
  } finally {
    await Deno.remove(ws.dir, { recursive: true });
  }
});

Deno.test("condensed runs reject a different --seq, weights or soft targets on other data, and missing soft targets", async () => {
  const { ws, base } = await setup();
  try {
    const soft = { sampleWeights: false, softTargets: true, temperature: 2, alphaCe: 0.5, alphaClm: 0.5 };
    await assert.rejects(
      runTraining({ ...base("a"), seqExplicit: true, settings: settings({ seq: 32 }) }),
      /condensed set of 16-token examples: --seq must be 16/,
    );
    await assert.rejects(
      runTraining({
        ...base("b"),
        data: ws.data,
        condensed: { ...soft, softTargets: false, sampleWeights: true },
      }),
      /need a condensed set/,
    );
    await assert.rejects(runTraining({ ...base("c"), condensed: soft }), /has no soft targets/);
    assert.ok(!(await Deno.stat(`${ws.dir}/a`).then(() => true, () => false)), "nothing written");
  } finally {
    await Deno.remove(ws.dir, { recursive: true });
  }
});

Deno.test("a dm set trains from its embeddings, and soft targets added after condensation train with --soft-targets", async () => {
  const gpu = await testGpu();
  const { ws, base } = await setup();
  try {
    // dm in the student's own initial embedding space, as condense-compare does it.
    const m = tinyGpt2(CONFIG, 0);
    const init = await resolveModel({ config: `${ws.dir}/config.json`, seed: 0, maxSeq: T });
    const ref = `${ws.dir}/dm-reference`;
    await saveModelDir(ref, init.config, paramLayout(init.config), init.params);
    const dm = `${ws.dir}/dm.jsonl`;
    await condense(
      options(ws.data, dm, ws.cache, { seq: T, k: 3, method: "dm", model: ref, dmIterations: 2, gpu }),
    );
    const lm = new GpuLanguageModel(new GPT2(gpu, m.config, m.params, { training: false }), "teacher", 4);
    await addSoftTargets(dm, lm, 4);
    const set = await readCondensedSet(dm);
    assert.ok(set.embeds !== null && set.soft !== null && set.soft.k === 4);

    const r = await runTraining({
      ...base("dm"),
      data: dm,
      gpu,
      settings: settings({ steps: 1, batch: 3, seq: T }),
      condensed: { sampleWeights: true, softTargets: true, temperature: 2, alphaCe: 0.5, alphaClm: 0.5 },
    });
    const run = JSON.parse(await Deno.readTextFile(`${ws.dir}/dm/run.json`));
    assert.equal(run.condensed.input_embeddings, true);
    assert.equal(run.condensed.soft_targets.k, 4);
    const metrics = (await Deno.readTextFile(r.metricsPath)).split("\n").filter(Boolean).map((l) =>
      JSON.parse(l)
    );
    const step = metrics.find((x) => x.event === "step");
    assert.ok(Number.isFinite(step.loss) && Number.isFinite(step.loss_ce) && Number.isFinite(step.loss_clm));
  } finally {
    await Deno.remove(ws.dir, { recursive: true });
  }
});

async function task(args: string[]): Promise<DenoRun> {
  return await denoRun([
    "--allow-read",
    "--allow-write",
    "--allow-env",
    new URL("../../tasks/train.ts", import.meta.url).pathname,
    ...args,
  ]);
}

Deno.test({
  name:
    "deno task train --data condensed.jsonl: --sample-weights runs; wrong --seq and stray KD flags fail in one line",
  ignore: !canRun,
  async fn() {
    const { ws, config } = await setup();
    try {
      const common = [
        "--data",
        ws.out,
        "--config",
        config,
        "--cache-dir",
        ws.cache,
        "--steps",
        "1",
        "--batch",
        "5",
      ];
      const ok = await task([...common, "--sample-weights", "--json", "--out", `${ws.dir}/cli`]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stderr, /5 condensed examples of 16 tokens \(kmeans\); loss: weighted mean/);
      const errors: [string[], number, RegExp][] = [
        [["--seq", "32"], 1, /--seq must be 16/],
        [["--alpha-ce", "1"], 2, /apply with --soft-targets only/],
        [["--soft-targets"], 1, /has no soft targets/],
      ];
      for (const [args, code, pattern] of errors) {
        const r = await task([...common, ...args, "--out", `${ws.dir}/bad`]);
        assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
        const lines = r.stderr.split("\n").filter((l) => l.trim() && !l.includes("XDG_RUNTIME_DIR"));
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], pattern);
      }
    } finally {
      await Deno.remove(ws.dir, { recursive: true });
    }
  },
});
