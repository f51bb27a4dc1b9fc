/**
 * `deno task distill`: knowledge distillation of a GPT-2 student from a teacher (a model directory on
 * WebGPU, or an ONNX export in onnxruntime-node), with every loss term of HF's distiller and more (soft-target
 * KL at temperature T, causal LM, cosine on hidden states, layer-wise MSE with a learned projection, a
 * Wasserstein critic per mapped layer, reverse KL) and every feature of `deno task train`.
 *
 * Writes OUT/run.json, OUT/metrics.jsonl (each loss term and the teacher wait per step), OUT/checkpoint/
 * (resumable, with projection and critic state) and the student as a Hugging Face folder in OUT/model/.
 */
import { type CommandSpec, type FlagValues, parseCommand, UsageError } from "../lib/cli/args.ts";
import { runMain } from "../lib/cli/main.ts";
import { type DistillRunOptions, runDistillation, type TeacherBackend } from "../lib/distill/run.ts";
import { DISTILGPT2_LOSS } from "../lib/distill/objective.ts";
import { trainSpec } from "./train.ts";

/** Flags of `deno task train` that distill shares (the student replaces --config and --init). */
const { config: _config, init: _init, ...trainFlags } = trainSpec.flags;

/** HF distiller's DistilGPT2 recipe; applied to every flag not given on the command line. */
export const DISTILGPT2_RECIPE = {
  ...DISTILGPT2_LOSS,
  lr: 2.5e-4,
  eps: 1e-6,
  clip: 5,
  weightDecay: 0,
  schedule: "linear" as const,
  /** Fraction of the steps spent in warmup (HF distiller's warmup_prop). */
  warmupFraction: 0.05,
  batch: 5,
  gradAccum: 50,
};

export const distillSpec = {
  name: "distill",
  summary: "Distil a GPT-2 student from a teacher (a model directory on WebGPU or an .onnx file in " +
    "onnxruntime-node) with soft-target KL, causal-LM, cosine, MSE, Wasserstein and reverse-KL losses.",
  usage:
    "deno task distill --teacher PATH (--student PRESET|FILE|DIR | --init-from-teacher [LAYERS]) [flags]",
  flags: {
    teacher: {
      type: "string",
      description: "teacher: a model directory (run on WebGPU) or an .onnx file (our export with --hidden, " +
        "or an optimum/transformers.js export), run in onnxruntime-node",
      placeholder: "PATH",
    },
    "teacher-backend": {
      type: "string",
      description: "where the teacher runs: auto (a folder with weights on WebGPU, an .onnx file in ORT), " +
        "webgpu, or onnx (a folder's onnx/hidden.onnx or onnx/model.onnx)",
      default: "auto",
      choices: ["auto", "webgpu", "onnx"],
    },
    "teacher-topk": {
      type: "int",
      description: "ONNX teacher: keep only its k largest logits per position (0 = all)",
      default: 0,
      min: 0,
    },
    "teacher-cache": {
      type: "string",
      description: "ONNX teacher: cache its batches on disk here (e.g. .cache/teacher); off by default",
      placeholder: "DIR",
    },
    "teacher-threads": { type: "int", description: "ONNX teacher: ORT threads (default: all cores)", min: 1 },
    prefetch: {
      type: "int",
      description: "ONNX teacher: micro-batches it computes ahead of the student",
      default: 2,
      min: 0,
    },
    student: {
      type: "string",
      description: "student: a preset (tiny, small, distilgpt2, gpt2) or config.json (fresh weights), or a " +
        "model directory; with --init-from-teacher a preset/config gives the architecture",
      placeholder: "PRESET|FILE|DIR",
    },
    "init-from-teacher": {
      type: "string",
      description: "copy the student from the teacher: embeddings, ln_f and these teacher blocks (default: " +
        "evenly spaced, DistilGPT2's 0,2,4,7,9,11 for 12 → 6; half the teacher's depth without --student)",
      placeholder: "[LAYERS]",
    },
    preset: {
      type: "string",
      description:
        "a recipe: distilgpt2 = T 2, alpha ce 5 / clm 2 / cos 1, lr 2.5e-4, AdamW eps 1e-6, clip 5, " +
        "no weight decay, linear schedule with 5% warmup, batch 5 × grad-accum 50, student copied from the " +
        "teacher; explicit flags win",
      choices: ["distilgpt2"],
    },
    "alpha-ce": {
      type: "float",
      description: "weight of the soft-target KL at --temperature, ×T²",
      default: 0.5,
      min: 0,
    },
    "alpha-clm": {
      type: "float",
      description: "weight of the causal-LM cross-entropy",
      default: 0.5,
      min: 0,
    },
    "alpha-cos": {
      type: "float",
      description: "weight of the cosine loss on the last hidden states (on every pair with --layer-map)",
      default: 0,
      min: 0,
    },
    "alpha-mse": {
      type: "float",
      description: "weight of the layer-wise MSE (learned projection when widths differ)",
      default: 0,
      min: 0,
    },
    "alpha-wd": {
      type: "float",
      description: "weight of the Wasserstein distance estimated by a critic per mapped layer",
      default: 0,
      min: 0,
    },
    "alpha-rkl": {
      type: "float",
      description: "weight of the reverse KL at --temperature, ×T²",
      default: 0,
      min: 0,
    },
    temperature: {
      type: "float",
      description: "softmax temperature T of the KL terms",
      default: 2,
      min: 0,
      exclusiveMin: true,
    },
    "layer-map": {
      type: "string",
      description: "student:teacher hidden-state pairs for mse/wd (and cos), HF numbering (0 = embeddings, " +
        "L = ln_f), e.g. 2:4,4:8,6:12; default from the copied blocks or evenly spaced",
      placeholder: "S:T,...",
    },
    "n-critic": {
      type: "int",
      description: "critic updates per student step (alpha-wd)",
      default: 5,
      min: 1,
    },
    "critic-lr": {
      type: "float",
      description: "critics' AdamW learning rate (β = 0, 0.9)",
      default: 1e-4,
      min: 0,
      exclusiveMin: true,
    },
    "critic-hidden": { type: "int", description: "hidden width of each critic MLP", default: 256, min: 1 },
    "gp-lambda": {
      type: "float",
      description: "WGAN-GP gradient-penalty weight (default 10, or 0 with --critic-clip)",
      min: 0,
    },
    "critic-clip": {
      type: "float",
      description: "WGAN weight clipping bound instead of the gradient penalty (0 = off)",
      default: 0,
      min: 0,
    },
    ...trainFlags,
    out: { type: "string", description: "output folder", default: "runs/distill", placeholder: "DIR" },
  },
  examples: [
    "deno task distill --teacher runs/train/model --init-from-teacher --steps 100 --out runs/distill",
    "deno task distill --teacher gpt2 --preset distilgpt2 --data ../shared/data/wikitext-2 --seq 256 --max-minutes 60",
    "deno task distill --teacher gpt2/onnx/hidden.onnx --student small --alpha-mse 1 --alpha-ce 1 --alpha-clm 0",
    "deno task distill --teacher runs/train/model --student tiny --alpha-wd 0.1 --layer-map 1:2,2:4 --n-critic 5",
    "deno task distill --out runs/distill --resume (with the same flags as the first run)",
  ],
} satisfies CommandSpec;

/**
 * `--init-from-teacher` may come without its value: argv gets "default" inserted when the flag is last or
 * followed by another flag.
 */
export function withOptionalValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  argv.forEach((arg, i) => {
    out.push(arg);
    if (arg === "--init-from-teacher" && (i + 1 === argv.length || argv[i + 1].startsWith("--"))) {
      out.push("default");
    }
  });
  return out;
}

/**
 * The run options from parsed flags: the --preset recipe fills every setting not given explicitly, warmup
 * becomes 5% of the steps, and the recipe's student is copied from the teacher unless --student is given.
 *
 * @param f flag values of `parseFlags(distillSpec, …)`
 * @param given camelCase names of the flags given on the command line
 */
export function distillOptions(
  f: FlagValues<typeof distillSpec.flags>,
  given: Set<string>,
): Omit<DistillRunOptions, "gpu" | "quiet"> {
  if (!f.teacher) throw new UsageError("--teacher PATH is required (see --help)");
  if (given.has("gpLambda") && f.criticClip > 0) {
    throw new UsageError("give either --gp-lambda (WGAN-GP) or --critic-clip (weight clipping), not both");
  }
  const r = f.preset === "distilgpt2" ? DISTILGPT2_RECIPE : null;
  const pick = <K extends keyof typeof DISTILGPT2_RECIPE & keyof typeof f>(key: K): (typeof f)[K] =>
    (r && !given.has(key) ? r[key] : f[key]) as (typeof f)[K];
  return {
    teacher: f.teacher,
    teacherBackend: f.teacherBackend as TeacherBackend,
    teacherTopK: f.teacherTopk,
    teacherCache: f.teacherCache,
    teacherThreads: f.teacherThreads,
    prefetch: f.prefetch,
    student: f.student,
    initFromTeacher: f.initFromTeacher ?? (r && f.student === undefined ? "default" : undefined),
    layerMap: f.layerMap,
    distill: {
      temperature: pick("temperature"),
      alphaCe: pick("alphaCe"),
      alphaClm: pick("alphaClm"),
      alphaCos: pick("alphaCos"),
      alphaMse: pick("alphaMse"),
      alphaWd: pick("alphaWd"),
      alphaRkl: pick("alphaRkl"),
      nCritic: f.nCritic,
      criticLr: f.criticLr,
      criticHidden: f.criticHidden,
      gpLambda: f.gpLambda ?? (f.criticClip > 0 ? 0 : 10),
      criticClip: f.criticClip,
    },
    data: f.data,
    valData: f.valData,
    out: f.out,
    cacheDir: f.cacheDir,
    resume: f.resume,
    json: f.json,
    settings: {
      steps: f.steps,
      maxMinutes: f.maxMinutes,
      batch: pick("batch"),
      seq: f.seq,
      gradAccum: pick("gradAccum"),
      lr: pick("lr"),
      schedule: pick("schedule"),
      warmup: r && !given.has("warmup") ? Math.ceil(f.steps * r.warmupFraction) : f.warmup,
      weightDecay: pick("weightDecay"),
      beta1: f.beta1,
      beta2: f.beta2,
      eps: pick("eps"),
      clip: pick("clip"),
      seed: f.seed,
      shuffle: !f.noShuffle,
      evalEvery: f.evalEvery,
      evalBatches: f.evalBatches,
      saveEvery: f.saveEvery,
    },
  };
}

/** Runs the command with `argv` (default: the process arguments). */
export async function main(argv: readonly string[] = Deno.args): Promise<void> {
  const { values, given } = parseCommand(distillSpec, withOptionalValues(argv));
  await runDistillation(distillOptions(values, given));
}

/** How a denied permission is explained (this task's sandbox is in deno.json). */
export const distillPermissionHints = {
  write: "this task may only write under runs/ and .cache/; pick --out (and --teacher-cache) inside them",
  ffi: "the ONNX teacher needs onnxruntime-node's native addon: run through `deno task distill`",
};

if (import.meta.main) await runMain(() => main(), { permissionHints: distillPermissionHints });
