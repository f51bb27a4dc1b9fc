/**
 * The condensation experiment (`deno task condense-compare`): one model configuration and one step budget,
 * trained from scratch on the full data and on k-example sets made by every condensation method, each then
 * scored by test perplexity.
 *
 * Arms (`methods` selects the families):
 * - `full`: every T-token block of the training text.
 * - `kmeans-tfidf`, and `kmeans-model` with a teacher (mean final hidden state of the teacher on WebGPU):
 *   the real blocks nearest k-means centroids, trained with their cluster sizes as sample weights.
 * - `random-s<seed>` for `seeds` seeds: k random blocks; the seed also sets the student's init and data
 *   order (the arm is seeded), so the spread covers both. Every other arm uses `seed` for all three.
 * - `synthetic`: k sequences sampled from the teacher, or without one from this experiment's full-data
 *   model (so `full` must then be among the methods).
 * - `dm`: k sequences learned by distribution matching in the student's own initial embedding space (the
 *   student's seeded init is saved to OUT/condensed/dm-reference/ and used as dm's `--model`), trained from
 *   the stored embeddings (train_condensed.ts).
 * - with a teacher, every condensed arm again with `-soft`: trained on the teacher's stored top-k logits
 *   (added to the condensed files after condensation, soft_targets.ts).
 *
 * Condensed arms use the sample weights unless `sampleWeights` is off (for uniform weights, as random,
 * synthetic and dm have, weighting changes nothing). Every arm: same config, steps, batch, T, learning
 * rate schedule, no validation; then HF sliding-window perplexity on the test text with non-overlapping
 * windows of T tokens (stride T), on its first `maxEvalTokens` tokens when that is set.
 *
 * Files: OUT/experiment.json (the settings; a later run must match them), OUT/condensed/*.jsonl,
 * OUT/arms/<arm>/{run.json, metrics.jsonl, model/, result.json}, OUT/results.json, OUT/results.md,
 * OUT/perplexity.svg. Resumable: an arm with result.json is not run again, a condensed file with its
 * sidecar is not condensed again, and an arm interrupted after its final checkpoint resumes from it.
 *
 * @module
 */
import { hasSplit, loadBlocks, loadTokens } from "../data/dataset.ts";
import type { Split } from "../data/text.ts";
import { gpt2Tokenizer } from "../data/tokenizer.ts";
import { perplexity } from "../eval/perplexity.ts";
import { Gpu } from "../gpu/runtime.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { type GPT2Config, PRESETS } from "../model/config.ts";
import { Activations, GPT2 } from "../model/gpt2.ts";
import { loadModelDir, saveModelDir } from "../model/model_dir.ts";
import { countParameters, paramLayout } from "../model/params.ts";
import { checkpointDir, hasCheckpoint } from "../train/checkpoint.ts";
import { runTraining } from "../train/run.ts";
import { resolveModel } from "../train/run_config.ts";
import type { TrainSettings } from "../train/trainer.ts";
import { condense, CONDENSE_DEFAULTS, type CondenseOptions, type EmbedKind } from "./condense.ts";
import {
  type ArmResult,
  type GroupSummary,
  markdownReport,
  perplexitySvg,
  type ReportHeader,
  summarize,
} from "./compare_report.ts";
import { GpuLanguageModel } from "./lm.ts";
import { metaPath } from "./output.ts";
import { addSoftTargets } from "./soft_targets.ts";

/** Families of arms. */
export const ARM_FAMILIES = ["full", "kmeans", "random", "synthetic", "dm"] as const;
/** A family of arms. */
export type ArmFamily = typeof ARM_FAMILIES[number];

/** Everything the experiment needs; see the task's --help. */
export interface CompareOptions {
  /** Training text (its train split; a file is used whole). */
  data: string;
  /** Evaluation text and its split (a file is used whole). */
  test: string;
  testSplit: Split;
  k: number;
  /** Student: a preset name or a GPT-2 config.json. */
  config: string;
  steps: number;
  /** T. */
  seq: number;
  /** B. */
  batch: number;
  lr: number;
  warmup: number;
  /** Seeds of the random arm: seed, seed + 1, …. */
  seeds: number;
  seed: number;
  methods: ArmFamily[];
  /** A model directory (config.json + model.safetensors), run on WebGPU. */
  teacher?: string;
  /** Teacher logits kept per position. */
  softK: number;
  temperature: number;
  alphaCe: number;
  alphaClm: number;
  /** Condensed arms train with --sample-weights. */
  sampleWeights: boolean;
  dmIterations: number;
  /** Windows per perplexity forward pass. */
  evalBatch: number;
  /** Score only the first N test tokens (0 = all). */
  maxEvalTokens: number;
  out: string;
  cacheDir: string;
  /** One device for everything (tests); by default every arm gets a fresh one, destroyed afterwards. */
  gpu?: Gpu;
  log?: (line: string) => void;
}

/** Defaults of the optional settings. */
export const COMPARE_DEFAULTS = {
  testSplit: "test" as Split,
  k: 120,
  config: "tiny",
  steps: 20,
  seq: 128,
  batch: 8,
  lr: 1e-3,
  seeds: 3,
  seed: 0,
  methods: [...ARM_FAMILIES] as ArmFamily[],
  softK: 16,
  temperature: 2,
  alphaCe: 0.5,
  alphaClm: 0.5,
  sampleWeights: true,
  dmIterations: CONDENSE_DEFAULTS.dmIterations,
  evalBatch: 8,
  maxEvalTokens: 0,
  cacheDir: ".cache/tokens",
} satisfies Partial<CompareOptions>;

/** The default warmup: a tenth of the steps. */
export function defaultWarmup(steps: number): number {
  return Math.ceil(steps / 10);
}

/** What the experiment wrote. */
export interface CompareOutcome {
  arms: ArmResult[];
  groups: GroupSummary[];
  /** Arms whose results were already in OUT. */
  skipped: string[];
  results: Record<string, unknown>;
  markdown: string;
}

/** One planned arm. */
interface Arm {
  name: string;
  group: string;
  family: ArmFamily;
  embed: EmbedKind | null;
  seed: number;
  soft: boolean;
  /** The condensed file's base name (shared by an arm and its -soft twin); null for full data. */
  condensed: string | null;
}

/** The arms of the options, in the order they run (full first: synthetic may need its model). */
export function planArms(o: CompareOptions): Arm[] {
  const arms: Arm[] = [];
  const has = (f: ArmFamily) => o.methods.includes(f);
  const add = (base: Omit<Arm, "soft" | "name" | "group"> & { name: string; group: string }) => {
    arms.push({ ...base, soft: false });
    if (o.teacher) arms.push({ ...base, name: `${base.name}-soft`, group: `${base.group}-soft`, soft: true });
  };
  if (has("full")) {
    arms.push({
      name: "full",
      group: "full",
      family: "full",
      embed: null,
      seed: o.seed,
      soft: false,
      condensed: null,
    });
  }
  if (has("kmeans")) {
    const embeds: EmbedKind[] = o.teacher ? ["tfidf", "model"] : ["tfidf"];
    for (const embed of embeds) {
      const name = `kmeans-${embed}`;
      add({ name, group: name, family: "kmeans", embed, seed: o.seed, condensed: name });
    }
  }
  if (has("random")) {
    for (let i = 0; i < o.seeds; i++) {
      const seed = o.seed + i;
      add({
        name: `random-s${seed}`,
        group: "random",
        family: "random",
        embed: null,
        seed,
        condensed: `random-s${seed}`,
      });
    }
  }
  if (has("synthetic")) {
    add({
      name: "synthetic",
      group: "synthetic",
      family: "synthetic",
      embed: null,
      seed: o.seed,
      condensed: "synthetic",
    });
  }
  if (has("dm")) add({ name: "dm", group: "dm", family: "dm", embed: null, seed: o.seed, condensed: "dm" });
  return arms;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Throws a one-line Error for settings that cannot work, before anything runs. */
export function checkCompareOptions(o: CompareOptions): void {
  const int = (name: string, x: number, min: number) => {
    if (!Number.isInteger(x) || x < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${x}`);
  };
  int("--k", o.k, 1);
  int("--steps", o.steps, 1);
  int("--seq", o.seq, 2);
  int("--batch", o.batch, 1);
  int("--seeds", o.seeds, 1);
  int("--seed", o.seed, 0);
  int("--soft-k", o.softK, 1);
  int("--eval-batch", o.evalBatch, 1);
  int("--max-eval-tokens", o.maxEvalTokens, 0);
  int("--dm-iterations", o.dmIterations, 0);
  int("--warmup", o.warmup, 0);
  if (!(o.lr > 0)) throw new Error(`--lr must be > 0, got ${o.lr}`);
  if (o.methods.length === 0) throw new Error("--methods names no arm");
  for (const m of o.methods) {
    if (!ARM_FAMILIES.includes(m)) {
      throw new Error(`unknown method "${m}" (expected ${ARM_FAMILIES.join(", ")})`);
    }
  }
  if (o.methods.includes("synthetic") && !o.teacher && !o.methods.includes("full")) {
    throw new Error("synthetic without --teacher samples from the full-data model: add full to --methods");
  }
  if (!o.out) throw new Error("an output folder is required (--out DIR)");
}

/**
 * The settings that define the experiment's results (a resumed run must have the same); where files go and
 * how many windows one evaluation pass holds do not change them.
 */
function experimentSettings(o: CompareOptions): Record<string, unknown> {
  const { gpu: _gpu, log: _log, out: _out, cacheDir: _cache, evalBatch: _eb, methods, ...rest } = o;
  return { ...rest, methods: [...methods].sort() };
}

/** Training settings of an arm. */
function trainSettings(o: CompareOptions, seed: number): TrainSettings {
  return {
    steps: o.steps,
    maxMinutes: 0,
    batch: o.batch,
    seq: o.seq,
    gradAccum: 1,
    lr: o.lr,
    schedule: "cosine",
    warmup: o.warmup,
    weightDecay: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    clip: 1,
    seed,
    shuffle: true,
    evalEvery: 0,
    evalBatches: 0,
    saveEvery: 0,
  };
}

/** Runs the experiment; see the module doc. */
export async function condenseCompare(o: CompareOptions): Promise<CompareOutcome> {
  checkCompareOptions(o);
  const log = o.log ?? (() => {});
  const out = o.out;

  // Inputs are checked before any work: the student, the teacher, the texts.
  const student = await resolveModel({ config: o.config, seed: o.seed, maxSeq: o.seq });
  const tokenizer = await gpt2Tokenizer();
  if (tokenizer.vocabSize > student.config.vocab_size) {
    throw new Error(`the student's vocabulary (${student.config.vocab_size}) is smaller than GPT-2's`);
  }
  let teacherConfig: GPT2Config | null = null;
  if (o.teacher) {
    const t = await loadModelDir(o.teacher).catch((e) => {
      throw new Error(`--teacher ${o.teacher}: ${(e as Error).message}`);
    });
    teacherConfig = t.config;
    if (t.config.vocab_size !== student.config.vocab_size) {
      throw new Error(
        `--teacher has V = ${t.config.vocab_size}, the student ${student.config.vocab_size}: soft targets need one vocabulary`,
      );
    }
    if (o.seq > t.config.n_positions) {
      throw new Error(`--seq ${o.seq} exceeds the teacher's n_positions ${t.config.n_positions}`);
    }
  }
  const fullBlocks = await loadBlocks(o.data, "train", tokenizer, o.seq, o.cacheDir);
  const nBlocks = fullBlocks.length / o.seq;
  const hasCondensed = o.methods.some((m) => m !== "full");
  if (hasCondensed && o.k > nBlocks) {
    throw new Error(
      `--k ${o.k} is larger than the number of ${o.seq}-token blocks in ${o.data} (${nBlocks})`,
    );
  }
  if (o.test !== "embedded" && !(await exists(o.test))) throw new Error(`--test ${o.test}: not found`);
  if (
    o.test !== "embedded" && (await Deno.stat(o.test)).isDirectory && !(await hasSplit(o.test, o.testSplit))
  ) {
    throw new Error(`--test ${o.test} has no ${o.testSplit} split`);
  }
  let testIds = await loadTokens(o.test, o.testSplit, tokenizer, o.cacheDir);
  const testTokensTotal = testIds.length;
  if (o.maxEvalTokens > 0 && testIds.length > o.maxEvalTokens) testIds = testIds.subarray(0, o.maxEvalTokens);
  if (testIds.length < 2) throw new Error(`--test ${o.test} has fewer than 2 tokens`);

  // The experiment's settings: a rerun into the same OUT must use the same ones.
  await Deno.mkdir(`${out}/condensed`, { recursive: true });
  const settings = experimentSettings(o);
  const settingsPath = `${out}/experiment.json`;
  if (await exists(settingsPath)) {
    const before = JSON.parse(await Deno.readTextFile(settingsPath));
    const changed = [...new Set([...Object.keys(before), ...Object.keys(settings)])].find((key) =>
      JSON.stringify(before[key]) !== JSON.stringify(settings[key])
    );
    if (changed) {
      throw new Error(
        `${out} holds an experiment with other settings ("${changed}": ${
          JSON.stringify(before[changed])
        } there, ` +
          `${JSON.stringify(settings[changed])} now); use another --out`,
      );
    }
  } else await writeFileAtomic(settingsPath, JSON.stringify(settings, null, 2) + "\n");

  const arms = planArms(o);
  const results: ArmResult[] = [];
  const skipped: string[] = [];
  const withGpu = async <R>(fn: (gpu: Gpu) => Promise<R>): Promise<R> => {
    const gpu = o.gpu ?? await Gpu.create();
    try {
      return await fn(gpu);
    } finally {
      if (!o.gpu) gpu.destroy();
    }
  };

  /** Makes OUT/condensed/NAME.jsonl unless it is complete already (its sidecar, and soft targets if due). */
  const condensedFile = async (arm: Arm): Promise<string> => {
    const file = `${out}/condensed/${arm.condensed}.jsonl`;
    const meta = await Deno.readTextFile(metaPath(file)).then(JSON.parse, () => null);
    if (meta && (!o.teacher || meta.soft_targets)) return file;
    const t0 = performance.now();
    const options: CondenseOptions = {
      ...CONDENSE_DEFAULTS,
      data: o.data,
      split: "train",
      k: o.k,
      seq: o.seq,
      seed: arm.seed,
      out: file,
      cacheDir: o.cacheDir,
      method: arm.family as CondenseOptions["method"],
      embed: arm.embed ?? "tfidf",
      dmIterations: o.dmIterations,
      // Big passes: on lavapipe a small pass is mostly overhead. About 2048 tokens per embedding pass;
      // synthetic decodes up to 8192 / T sequences at once (each decoding step costs about the same).
      batch: arm.family === "synthetic"
        ? Math.min(o.k, Math.max(CONDENSE_DEFAULTS.batch, Math.floor(8192 / o.seq)))
        : Math.max(CONDENSE_DEFAULTS.batch, Math.floor(2048 / o.seq)),
      gpu: o.gpu,
    };
    if (arm.family === "kmeans" && arm.embed === "model") options.model = o.teacher;
    if (arm.family === "synthetic") options.model = o.teacher ?? `${out}/arms/full/model`;
    if (arm.family === "dm") options.model = await dmReference(student.config, student.params, out);
    if (!meta) await condense(options);
    if (o.teacher) {
      await withGpu(async (gpu) => {
        const t = await loadModelDir(o.teacher!);
        const lm = new GpuLanguageModel(
          new GPT2(gpu, t.config, t.params, { training: false }),
          `webgpu:${o.teacher}`,
          8,
        );
        await addSoftTargets(file, lm, o.softK);
      });
    }
    log(`condensed ${arm.condensed} (k = ${o.k}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return file;
  };

  for (const arm of arms) {
    const dir = `${out}/arms/${arm.name}`;
    const resultPath = `${dir}/result.json`;
    if (await exists(resultPath)) {
      results.push(JSON.parse(await Deno.readTextFile(resultPath)));
      skipped.push(arm.name);
      log(`${arm.name}: already done (${resultPath})`);
      continue;
    }
    const data = arm.condensed ? await condensedFile(arm) : o.data;
    const result = await withGpu(async (gpu) => {
      const t0 = performance.now();
      const outcome = await runTraining({
        config: o.config,
        data,
        valData: null,
        out: dir,
        cacheDir: o.cacheDir,
        resume: await hasCheckpoint(dir),
        json: false,
        quiet: true,
        gpu,
        settings: trainSettings(o, arm.seed),
        condensed: arm.condensed
          ? {
            sampleWeights: o.sampleWeights,
            softTargets: arm.soft,
            temperature: o.temperature,
            alphaCe: o.alphaCe,
            alphaClm: o.alphaClm,
          }
          : undefined,
      });
      const trainSeconds = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      const acts = new Activations(gpu, outcome.model.config, o.evalBatch, o.seq, false);
      const ppl = await perplexity(outcome.model, acts, testIds, o.seq, o.seq);
      const metrics = (await Deno.readTextFile(outcome.metricsPath)).split("\n").filter(Boolean)
        .map((l) => JSON.parse(l)).filter((m) => m.event === "step");
      const r: ArmResult = {
        name: arm.name,
        group: arm.group,
        method: arm.family,
        embed: arm.embed,
        seed: arm.seed,
        soft_targets: arm.soft,
        sample_weights: arm.condensed !== null && o.sampleWeights,
        condensed_file: arm.condensed ? data : null,
        examples: arm.condensed ? o.k : nBlocks,
        steps: outcome.steps,
        train_tokens_seen: outcome.steps * o.batch * o.seq,
        final_train_loss: metrics.at(-1)?.loss ?? NaN,
        test_nll: ppl.nll,
        test_ppl: ppl.ppl,
        test_tokens: ppl.tokens,
        train_seconds: trainSeconds,
        eval_seconds: (performance.now() - t1) / 1000,
      };
      return r;
    });
    await writeFileAtomic(resultPath, JSON.stringify(result, null, 2) + "\n");
    // The model folder stays; the checkpoint (weights + AdamW moments) is only needed until the result exists.
    await Deno.remove(checkpointDir(dir), { recursive: true }).catch(() => {});
    results.push(result);
    log(
      `${arm.name}: test perplexity ${result.test_ppl.toFixed(2)} (train ${
        result.train_seconds.toFixed(1)
      } s, ` +
        `eval ${result.eval_seconds.toFixed(1)} s)`,
    );
  }

  const groups = summarize(results);
  const header = reportHeader(o, {
    nBlocks,
    student: student.config,
    studentOrigin: student.origin,
    teacher: teacherConfig,
    testScored: results[0]?.test_tokens ?? 0,
    testTokens: testIds.length,
    testTokensTotal,
  });
  const markdown = markdownReport(header, groups);
  const json = {
    format: "condense-compare",
    version: 1,
    title: header.title,
    description: header.lines,
    settings,
    train_data: { path: o.data, split: "train", blocks: nBlocks, seq: o.seq },
    eval: {
      path: o.test,
      split: o.testSplit,
      seq: o.seq,
      stride: o.seq,
      tokens_used: testIds.length,
      tokens_total: testTokensTotal,
      max_eval_tokens: o.maxEvalTokens,
    },
    student: { origin: student.origin, config: student.config, params: countParameters(student.config) },
    arms: results,
    groups,
  };
  await writeFileAtomic(`${out}/results.json`, JSON.stringify(json, null, 2) + "\n");
  await writeFileAtomic(`${out}/results.md`, markdown);
  const subtitle = `trained on ${o.data} (k = ${o.k}), ${o.steps} steps × ${o.batch} × ${o.seq} tokens; ` +
    `tested on ${o.test}${o.maxEvalTokens > 0 ? ` (first ${testIds.length} tokens)` : ""}`;
  await writeFileAtomic(`${out}/perplexity.svg`, await perplexitySvg(header.title, subtitle, groups));
  return { arms: results, groups, skipped, results: json, markdown };
}

/**
 * Saves the student's seeded initial weights as dm's reference model (OUT/condensed/dm-reference/), so
 * that the dm vectors live in the embedding space the students start from. No tokenizer files: condense
 * then uses GPT-2's, as the students do.
 */
async function dmReference(config: GPT2Config, params: Float32Array, out: string): Promise<string> {
  const dir = `${out}/condensed/dm-reference`;
  if (!(await exists(`${dir}/model.safetensors`))) {
    await saveModelDir(dir, config, paramLayout(config), params);
  }
  return dir;
}

/** The report's title and the lines that say what was trained and evaluated on. */
function reportHeader(
  o: CompareOptions,
  x: {
    nBlocks: number;
    student: GPT2Config;
    studentOrigin: string;
    teacher: GPT2Config | null;
    testScored: number;
    testTokens: number;
    testTokensTotal: number;
  },
): ReportHeader {
  const c = x.student;
  const preset = o.config in PRESETS ? `preset ${o.config}` : `config ${o.config}`;
  const seeded = o.methods.includes("random")
    ? `; random-k uses seeds ${o.seed} … ${o.seed + o.seeds - 1} for its subset, init and data order`
    : "";
  const evalPart = o.maxEvalTokens > 0 && x.testTokens < x.testTokensTotal
    ? `its first ${x.testTokens} of ${x.testTokensTotal} tokens only`
    : `all ${x.testTokensTotal} tokens`;
  const lines = [
    `Training data: \`${o.data}\` (train split where it has splits; a file whole): ${x.nBlocks} blocks of ` +
    `${o.seq} tokens for the full-data arm; every other arm trains on k = ${o.k} examples condensed from it ` +
    `(files in \`${o.out}/condensed/\`)${
      o.sampleWeights ? ", with their weights as per-example loss weights" : ""
    }.`,
    `Evaluation: \`${o.test}\` (${o.testSplit} split where it has splits), ${evalPart}; HF sliding-window ` +
    `perplexity with non-overlapping windows of ${o.seq} tokens (${x.testScored} scored tokens).`,
    `Budget: ${o.steps} steps × batch ${o.batch} × ${o.seq} tokens = ${
      o.steps * o.batch * o.seq
    } tokens per arm ` +
    `(AdamW, lr ${o.lr}, cosine, warmup ${o.warmup}).`,
    `Student: ${preset} (${c.n_layer} layers × ${c.n_embd} channels, ${c.n_head} heads, ` +
    `${
      (countParameters(c) / 1e6).toFixed(2)
    }M parameters), trained from scratch with init seed ${o.seed}${seeded}.`,
    o.teacher
      ? `Teacher: \`${o.teacher}\` (${x.teacher!.n_layer} × ${
        x.teacher!.n_embd
      }): k-means over its mean final ` +
        `hidden states, synthetic sequences, and the top-${o.softK} soft targets of the "+ soft targets" arms ` +
        `(${o.alphaCe}·KL at T = ${o.temperature} + ${o.alphaClm}·CLM).`
      : "No teacher: k-means over TF-IDF only; synthetic sequences are sampled from this experiment's full-data model.",
    `Distribution matching: ${o.dmIterations} iterations in the students' initial embedding space (seed ${o.seed}).`,
    "Last train loss: the loss of each arm's last step (weighted cross-entropy; with soft targets " +
    "α_ce·KL + α_clm·CE), not comparable across the two kinds.",
  ];
  return { title: `Dataset condensation: test perplexity after ${o.steps} steps`, lines };
}
