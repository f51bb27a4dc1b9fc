/**
 * `deno task condense`: condense a corpus into k weighted training examples (k-means over block
 * embeddings, a random subset, teacher-generated hard sequences, or distribution matching), written as
 * JSON Lines with a settings sidecar. See lib/condense/condense.ts.
 */
import { type CommandSpec, parseCommand, UsageError } from "../lib/cli/args.ts";
import { emitJson } from "../lib/cli/json.ts";
import { runMain } from "../lib/cli/main.ts";
import { Progress } from "../lib/cli/progress.ts";
import { condense, CONDENSE_DEFAULTS, EMBEDDINGS, METHODS } from "../lib/condense/condense.ts";
import { metaPath } from "../lib/condense/output.ts";
import { SPLITS } from "../lib/data/text.ts";
import { type PresetName, PRESETS } from "../lib/model/config.ts";

const d = CONDENSE_DEFAULTS;

export const condenseSpec = {
  name: "condense",
  summary: "Condense a corpus into k weighted T-token training examples: real blocks nearest k-means " +
    "centroids of their embeddings, a random subset, teacher-generated hard sequences, or sequences learned " +
    "by distribution matching. Writes FILE (JSON Lines) and FILE.meta.json (settings, statistics, timings).",
  usage: "deno task condense --data PATH --out FILE [--method kmeans|random|synthetic|dm] [--k N] [flags]",
  flags: {
    data: {
      type: "string",
      description: "corpus: 'embedded', a WikiText folder, a .txt file or .jsonl with a text field",
      placeholder: "PATH",
    },
    split: { type: "string", description: "split of a dataset folder", default: d.split, choices: SPLITS },
    out: {
      type: "string",
      description: "output JSON Lines file (also FILE.meta.json, and FILE.embeds.f32 for dm)",
      placeholder: "FILE",
    },
    k: { type: "int", description: "examples to keep", default: d.k, min: 1 },
    method: { type: "string", description: "condensation method", default: d.method, choices: METHODS },
    embed: {
      type: "string",
      description: "block embedding for kmeans: TF-IDF, --model's or --teacher's mean final hidden state",
      default: d.embed,
      choices: EMBEDDINGS,
    },
    seed: { type: "int", description: "seed (same seed, same file)", default: d.seed, min: 0 },
    seq: { type: "int", description: "tokens per block (T)", default: d.seq, min: 2 },
    teacher: {
      type: "string",
      description:
        "ONNX teacher: an .onnx file or a model folder with onnx/ (hidden.onnx for --embed teacher)",
      placeholder: "PATH",
    },
    model: { type: "string", description: "model directory run on WebGPU", placeholder: "DIR" },
    "soft-targets": {
      type: "int",
      description: "store the teacher's top-N logits per position (0 = off)",
      default: d.softTargets,
      min: 0,
    },
    "tfidf-dims": { type: "int", description: "TF-IDF projection dimensions", default: d.tfidfDims, min: 1 },
    "kmeans-iterations": {
      type: "int",
      description: "most Lloyd iterations",
      default: d.kmeansIterations,
      min: 1,
    },
    batch: {
      type: "int",
      description: "sequences per forward pass or decoding batch",
      default: d.batch,
      min: 1,
    },
    temperature: {
      type: "float",
      description: "synthetic: sampling temperature (> 1 flattens; 0 = greedy)",
      default: d.temperature,
      min: 0,
    },
    "skip-top1": {
      type: "float",
      description: "synthetic: probability of excluding the teacher's top token at a position",
      default: d.skipTop1,
      min: 0,
      max: 1,
    },
    "top-k": {
      type: "int",
      description: "synthetic: sample among the top k only (0 = all)",
      default: d.topK,
      min: 0,
    },
    "prompt-tokens": {
      type: "int",
      description: "synthetic: tokens taken from a real block's start as the prompt",
      default: d.promptTokens,
      min: 1,
    },
    "dm-iterations": { type: "int", description: "dm: Adam steps", default: d.dmIterations, min: 0 },
    "dm-lr": {
      type: "float",
      description: "dm: Adam learning rate",
      default: d.dmLr,
      min: 0,
      exclusiveMin: true,
    },
    "dm-real-batch": { type: "int", description: "dm: real blocks per step", default: d.dmRealBatch, min: 1 },
    "dm-syn-batch": {
      type: "int",
      description: "dm: synthetic sequences per step",
      default: d.dmSynBatch,
      min: 1,
    },
    "dm-inits": {
      type: "int",
      description: "dm: distinct random networks, cycled (0 = a new one every step)",
      default: d.dmInits,
      min: 0,
    },
    "dm-config": {
      type: "string",
      description: "dm: network preset when no --model is given",
      default: d.dmConfig,
      choices: Object.keys(PRESETS),
    },
    "cache-dir": {
      type: "string",
      description: "token cache folder",
      default: ".cache/tokens",
      placeholder: "DIR",
    },
    json: { type: "boolean", description: "print the sidecar's content as one JSON line" },
  },
  examples: [
    "deno task condense --data ../shared/data/wikitext-2/valid.txt --k 120 --out runs/condense/kmeans.jsonl",
    "deno task condense --data ../shared/data/wikitext-2/valid.txt --method random --k 120 --seed 1 --out runs/condense/random.jsonl",
    "deno task condense --data ../shared/data/wikitext-2/valid.txt --embed model --model runs/small/model --out runs/condense/km.jsonl",
    "deno task condense --data ../shared/data/wikitext-2/valid.txt --method synthetic --model runs/small/model --soft-targets 16 --out runs/condense/syn.jsonl",
    "deno task condense --data ../shared/data/wikitext-2/valid.txt --method dm --k 32 --out runs/condense/dm.jsonl",
  ],
} satisfies CommandSpec;

/** Runs the command with `argv` (default: the process arguments). */
export async function main(argv: readonly string[] = Deno.args): Promise<void> {
  const { values: f } = parseCommand(condenseSpec, argv);
  if (!f.data) throw new UsageError("--data PATH is required (see --help)");
  if (!f.out) throw new UsageError("--out FILE is required (see --help)");
  const bars = new Map<string, Progress>();
  const summary = await condense({
    data: f.data,
    split: f.split,
    k: f.k,
    method: f.method,
    embed: f.embed,
    seed: f.seed,
    seq: f.seq,
    out: f.out,
    teacher: f.teacher,
    model: f.model,
    softTargets: f.softTargets,
    tfidfDims: f.tfidfDims,
    kmeansIterations: f.kmeansIterations,
    batch: f.batch,
    cacheDir: f.cacheDir,
    temperature: f.temperature,
    skipTop1: f.skipTop1,
    topK: f.topK,
    promptTokens: f.promptTokens,
    dmIterations: f.dmIterations,
    dmLr: f.dmLr,
    dmRealBatch: f.dmRealBatch,
    dmSynBatch: f.dmSynBatch,
    dmInits: f.dmInits,
    dmConfig: f.dmConfig as PresetName,
    log: (line) => console.error(line),
    progress: (label, done, total, extra) => {
      let bar = bars.get(label);
      if (!bar) {
        bar = new Progress({
          label,
          total,
          unit: label === "embed" ? "block" : label === "generate" ? "tok" : "it",
        });
        bars.set(label, bar);
      }
      bar.update(done, extra);
      if (done >= total) bar.done();
    },
  });
  if (f.json) emitJson(summary.meta);
  else {
    console.error(
      `wrote ${summary.examples} examples to ${summary.out} (settings in ${metaPath(summary.out)})`,
    );
  }
}

/** How a denied permission is explained (this task's sandbox is in deno.json). */
export const condensePermissionHints = {
  write: "this task only writes under runs/ and .cache/; pick --out and --cache-dir inside them",
};

if (import.meta.main) await runMain(() => main(), { permissionHints: condensePermissionHints });
