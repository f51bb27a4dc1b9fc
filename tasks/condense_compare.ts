/**
 * `deno task condense-compare`: the dataset-condensation experiment. One model configuration and one step
 * budget, trained from scratch on the full data and on k examples from every condensation method (k-means
 * per embedding, random over several seeds, synthetic, distribution matching; with and without soft targets
 * when a teacher is given), each scored by test perplexity. Writes OUT/results.json, OUT/results.md and
 * OUT/perplexity.svg; rerunning with the same flags skips the arms that are done. See
 * lib/condense/compare.ts.
 */
import { type CommandSpec, parseCommand, UsageError } from "../lib/cli/args.ts";
import { emitJson } from "../lib/cli/json.ts";
import { runMain } from "../lib/cli/main.ts";
import {
  ARM_FAMILIES,
  type ArmFamily,
  COMPARE_DEFAULTS,
  condenseCompare,
  defaultWarmup,
} from "../lib/condense/compare.ts";
import { SPLITS } from "../lib/data/text.ts";

const d = COMPARE_DEFAULTS;

export const condenseCompareSpec = {
  name: "condense-compare",
  summary: "Train one model config for one step budget on the full data and on k-example condensed sets " +
    "(k-means, random over seeds, synthetic, distribution matching; ± soft targets with a teacher) and " +
    "compare test perplexity: OUT/results.json, OUT/results.md, OUT/perplexity.svg. Resumable.",
  usage:
    "deno task condense-compare --data PATH --test PATH [--k 120] [--config PRESET] [--steps N] [--seq T] [--batch B] [--seeds 3] [--teacher DIR] --out DIR",
  flags: {
    data: {
      type: "string",
      description: "training text: 'embedded', a folder (its train split), a .txt or .jsonl file",
      placeholder: "PATH",
    },
    test: {
      type: "string",
      description: "evaluation text: 'embedded', a folder or a file (used whole)",
      placeholder: "PATH",
    },
    "test-split": {
      type: "string",
      description: "split of --test when it has splits",
      default: d.testSplit,
      choices: SPLITS,
    },
    k: { type: "int", description: "examples per condensed set", default: d.k, min: 1 },
    config: {
      type: "string",
      description: "student: a preset (tiny, small, distilgpt2, gpt2) or a GPT-2 config.json",
      default: d.config,
      placeholder: "PRESET|FILE",
    },
    steps: { type: "int", description: "optimizer steps of every arm", default: d.steps, min: 1 },
    seq: {
      type: "int",
      description: "tokens per block and per evaluation window (T)",
      default: d.seq,
      min: 2,
    },
    batch: { type: "int", description: "sequences per step (B)", default: d.batch, min: 1 },
    lr: {
      type: "float",
      description: "peak learning rate (cosine schedule)",
      default: d.lr,
      min: 0,
      exclusiveMin: true,
    },
    warmup: { type: "int", description: "warmup steps (default: a tenth of --steps)", min: 0 },
    seeds: { type: "int", description: "seeds of the random-k arm (mean ± sd)", default: d.seeds, min: 1 },
    seed: { type: "int", description: "seed of init, data order and condensation", default: d.seed, min: 0 },
    methods: {
      type: "string",
      description: `arms to run, comma-separated (${ARM_FAMILIES.join(",")})`,
      default: ARM_FAMILIES.join(","),
      placeholder: "LIST",
    },
    teacher: {
      type: "string",
      description: "teacher model directory (WebGPU): k-means embedding, synthetic sequences, soft targets",
      placeholder: "DIR",
    },
    "soft-k": { type: "int", description: "teacher logits stored per position", default: d.softK, min: 1 },
    temperature: {
      type: "float",
      description: "soft-target softmax temperature",
      default: d.temperature,
      min: 0,
      exclusiveMin: true,
    },
    "alpha-ce": { type: "float", description: "soft-target KL weight (×T²)", default: d.alphaCe, min: 0 },
    "alpha-clm": {
      type: "float",
      description: "causal-LM weight with soft targets",
      default: d.alphaClm,
      min: 0,
    },
    "no-sample-weights": {
      type: "boolean",
      description: "train condensed sets without their example weights",
    },
    "dm-iterations": {
      type: "int",
      description: "distribution-matching iterations",
      default: d.dmIterations,
      min: 0,
    },
    "eval-batch": {
      type: "int",
      description: "windows per evaluation forward pass",
      default: d.evalBatch,
      min: 1,
    },
    "max-eval-tokens": {
      type: "int",
      description: "score only the first N test tokens (0 = all)",
      default: d.maxEvalTokens,
      min: 0,
    },
    out: {
      type: "string",
      description: "output folder",
      default: "runs/condense-compare",
      placeholder: "DIR",
    },
    "cache-dir": {
      type: "string",
      description: "token cache folder",
      default: d.cacheDir,
      placeholder: "DIR",
    },
    json: { type: "boolean", description: "print results.json's content as one JSON line" },
  },
  examples: [
    "deno task condense-compare --data embedded --test embedded --k 32 --steps 20 --seq 64 --out runs/cc-embedded",
    "deno task condense-compare --data ../shared/data/wikitext-2/valid.txt --test ../shared/data/wikitext-2/test.txt --k 120 --config tiny --steps 20 --seq 128 --batch 8 --seeds 3 --dm-iterations 50 --max-eval-tokens 32768 --out runs/cc-wikitext",
  ],
} satisfies CommandSpec;

/** Runs the command with `argv` (default: the process arguments). */
export async function main(argv: readonly string[] = Deno.args): Promise<void> {
  const { values: f } = parseCommand(condenseCompareSpec, argv);
  if (!f.data) throw new UsageError("--data PATH is required (see --help)");
  if (!f.test) throw new UsageError("--test PATH is required (see --help)");
  const methods = f.methods.split(",").map((m) => m.trim()).filter(Boolean);
  for (const m of methods) {
    if (!ARM_FAMILIES.includes(m as ArmFamily)) {
      throw new UsageError(`--methods: unknown method "${m}" (expected ${ARM_FAMILIES.join(", ")})`);
    }
  }
  const outcome = await condenseCompare({
    data: f.data,
    test: f.test,
    testSplit: f.testSplit,
    k: f.k,
    config: f.config,
    steps: f.steps,
    seq: f.seq,
    batch: f.batch,
    lr: f.lr,
    warmup: f.warmup ?? defaultWarmup(f.steps),
    seeds: f.seeds,
    seed: f.seed,
    methods: methods as ArmFamily[],
    teacher: f.teacher,
    softK: f.softK,
    temperature: f.temperature,
    alphaCe: f.alphaCe,
    alphaClm: f.alphaClm,
    sampleWeights: !f.noSampleWeights,
    dmIterations: f.dmIterations,
    evalBatch: f.evalBatch,
    maxEvalTokens: f.maxEvalTokens,
    out: f.out,
    cacheDir: f.cacheDir,
    log: (line) => console.error(line),
  });
  if (f.json) emitJson(outcome.results);
  else {
    console.log(outcome.markdown);
    console.error(`wrote ${f.out}/results.json, ${f.out}/results.md and ${f.out}/perplexity.svg`);
  }
}

/** How a denied permission is explained (this task's sandbox is in deno.json). */
export const condenseComparePermissionHints = {
  write: "condense-compare may only write under runs/ and .cache/; pick --out and --cache-dir inside them",
  ffi: "an ONNX teacher needs onnxruntime-node's native addon: run through `deno task condense-compare`",
};

if (import.meta.main) await runMain(() => main(), { permissionHints: condenseComparePermissionHints });
