/**
 * `deno task train`: train GPT-2 from scratch (a preset or config file) or fine-tune a model directory.
 *
 * Writes OUT/run.json (the resolved settings), OUT/metrics.jsonl, OUT/checkpoint/ (resumable) and the
 * final model as a Hugging Face directory in OUT/model/.
 *
 * `--data` may be a condensed set from `deno task condense` (lib/condense/train_condensed.ts): its k
 * examples are the training blocks, optionally with per-example weights (`--sample-weights`), the stored
 * teacher top-k logits as the loss (`--soft-targets`) and, for dm sets, the stored input embeddings.
 */
import { type CommandSpec, parseCommand, UsageError } from "../lib/cli/args.ts";
import { runMain } from "../lib/cli/main.ts";
import { CONDENSED_TRAIN_DEFAULTS } from "../lib/condense/train_condensed.ts";
import { runTraining } from "../lib/train/run.ts";
import { SCHEDULES } from "../lib/train/schedule.ts";

export const trainSpec = {
  name: "train",
  summary:
    "Train a GPT-2 from scratch (--config) or fine-tune a Hugging Face model directory (--init) on WebGPU.",
  usage: "deno task train [--config PRESET|FILE | --init DIR] [--data PATH] [--out DIR] [flags]",
  flags: {
    config: {
      type: "string",
      description: "model preset (tiny, small, distilgpt2, gpt2) or a GPT-2 config.json; default tiny",
      placeholder: "PRESET|FILE",
    },
    init: {
      type: "string",
      description: "fine-tune this model directory (config.json + model.safetensors)",
      placeholder: "DIR",
    },
    data: {
      type: "string",
      description: "training text: 'embedded', a WikiText folder, a .txt file or .jsonl with a text field",
      default: "embedded",
      placeholder: "PATH",
    },
    "val-data": {
      type: "string",
      description: "validation text (default: the valid split of --data when it has one)",
      placeholder: "PATH",
    },
    out: { type: "string", description: "output folder", default: "runs/train", placeholder: "DIR" },
    steps: { type: "int", description: "optimizer steps", default: 200, min: 1 },
    "max-minutes": {
      type: "float",
      description: "stop (with a checkpoint) after this long; 0 = no limit",
      default: 0,
      min: 0,
    },
    batch: { type: "int", description: "sequences per micro-batch (B)", default: 8, min: 1 },
    seq: { type: "int", description: "tokens per sequence (T)", default: 64, min: 2 },
    "grad-accum": { type: "int", description: "micro-batches per optimizer step", default: 1, min: 1 },
    lr: { type: "float", description: "peak learning rate", default: 1e-3, min: 0, exclusiveMin: true },
    schedule: {
      type: "string",
      description: "learning-rate schedule",
      default: "cosine",
      choices: SCHEDULES,
    },
    warmup: { type: "int", description: "linear warmup steps", default: 10, min: 0 },
    "weight-decay": {
      type: "float",
      description: "AdamW decoupled weight decay (2-D weights only)",
      default: 0.01,
      min: 0,
    },
    beta1: { type: "float", description: "AdamW β1", default: 0.9, min: 0, max: 0.999999 },
    beta2: { type: "float", description: "AdamW β2", default: 0.999, min: 0, max: 0.999999 },
    eps: { type: "float", description: "AdamW ε", default: 1e-8, min: 0, exclusiveMin: true },
    clip: { type: "float", description: "global gradient-norm clip (0 = off)", default: 1, min: 0 },
    seed: { type: "int", description: "seed for initialisation and data order", default: 0, min: 0 },
    "no-shuffle": { type: "boolean", description: "batch s holds blocks s·B … s·B+B−1 in order" },
    "eval-every": {
      type: "int",
      description: "validate every N steps (0 = at the end only)",
      default: 50,
      min: 0,
    },
    "eval-batches": {
      type: "int",
      description: "at most N validation batches (0 = all)",
      default: 20,
      min: 0,
    },
    "save-every": {
      type: "int",
      description: "checkpoint every N steps (0 = at the end only)",
      default: 100,
      min: 0,
    },
    resume: { type: "boolean", description: "continue from OUT/checkpoint/ exactly where it stopped" },
    "cache-dir": {
      type: "string",
      description: "token cache folder",
      default: ".cache/tokens",
      placeholder: "DIR",
    },
    json: { type: "boolean", description: "print one JSON object per step on stdout" },
  },
  examples: [
    "deno task train",
    "deno task train --config small --data ../shared/data/wikitext-2/valid.txt --seq 128 --max-minutes 10 --out runs/small",
    "deno task train --init runs/small/model --data my.jsonl --lr 1e-4 --steps 100 --out runs/ft",
    "deno task train --out runs/small --resume",
  ],
} satisfies CommandSpec;

const cd = CONDENSED_TRAIN_DEFAULTS;

/**
 * The train command: `trainSpec`'s flags (which `deno task distill` shares) plus those for condensed
 * sets, which only this command has.
 */
export const trainTaskSpec = {
  ...trainSpec,
  flags: {
    ...trainSpec.flags,
    seq: {
      ...trainSpec.flags.seq,
      description: "tokens per sequence (T); a condensed set's length when omitted",
    },
    "sample-weights": {
      type: "boolean",
      description: "condensed set: weight each example's mean loss by its stored weight (weighted mean)",
    },
    "soft-targets": {
      type: "boolean",
      description: "condensed set: distil from its stored teacher top-k logits (KL at --temperature + CLM)",
    },
    temperature: {
      type: "float",
      description: "--soft-targets: softmax temperature of the KL",
      default: cd.temperature,
      min: 0,
      exclusiveMin: true,
    },
    "alpha-ce": {
      type: "float",
      description: "--soft-targets: weight of the soft-target KL, ×T²",
      default: cd.alphaCe,
      min: 0,
    },
    "alpha-clm": {
      type: "float",
      description: "--soft-targets: weight of the causal-LM cross-entropy",
      default: cd.alphaClm,
      min: 0,
    },
  },
  examples: [
    ...trainSpec.examples,
    "deno task train --data runs/condense/kmeans.jsonl --sample-weights --val-data ../shared/data/wikitext-2/test.txt --out runs/km",
    "deno task train --data runs/condense/syn.jsonl --soft-targets --alpha-ce 1 --alpha-clm 0 --out runs/syn-kd",
  ],
} satisfies CommandSpec;

/** Runs the command with `argv` (default: the process arguments). */
export async function main(argv: readonly string[] = Deno.args): Promise<void> {
  const { values: f, given } = parseCommand(trainTaskSpec, argv);
  if (f.config && f.init) throw new UsageError("give either --config or --init, not both");
  const kdFlags = ["temperature", "alphaCe", "alphaClm"].filter((k) => given.has(k));
  if (kdFlags.length > 0 && !f.softTargets) {
    throw new UsageError("--temperature, --alpha-ce and --alpha-clm apply with --soft-targets only");
  }
  await runTraining({
    seqExplicit: given.has("seq"),
    condensed: {
      sampleWeights: f.sampleWeights,
      softTargets: f.softTargets,
      temperature: f.temperature,
      alphaCe: f.alphaCe,
      alphaClm: f.alphaClm,
    },
    config: f.config,
    init: f.init,
    data: f.data,
    valData: f.valData,
    out: f.out,
    cacheDir: f.cacheDir,
    resume: f.resume,
    json: f.json,
    settings: {
      steps: f.steps,
      maxMinutes: f.maxMinutes,
      batch: f.batch,
      seq: f.seq,
      gradAccum: f.gradAccum,
      lr: f.lr,
      schedule: f.schedule,
      warmup: f.warmup,
      weightDecay: f.weightDecay,
      beta1: f.beta1,
      beta2: f.beta2,
      eps: f.eps,
      clip: f.clip,
      seed: f.seed,
      shuffle: !f.noShuffle,
      evalEvery: f.evalEvery,
      evalBatches: f.evalBatches,
      saveEvery: f.saveEvery,
    },
  });
}

/** How a denied permission is explained (this task's sandbox is in deno.json). */
export const trainPermissionHints = {
  write: "train may only write under runs/ and .cache/; pick --out (and --cache-dir) inside them",
};

if (import.meta.main) await runMain(() => main(), { permissionHints: trainPermissionHints });
