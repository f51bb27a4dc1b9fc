/**
 * `deno task compare`: one table for a teacher and its students: parameters, weight-file size, forward
 * tokens/s on WebGPU and in onnxruntime-node, and test perplexity (HF sliding window). Markdown on stdout,
 * or one JSON object with --json.
 *
 * Models without onnx/model.onnx are exported into --onnx-cache (default .cache/onnx), not into their folder.
 */
import { type CommandSpec, parseCommand, UsageError } from "../lib/cli/args.ts";
import { emitJson } from "../lib/cli/json.ts";
import { runMain } from "../lib/cli/main.ts";
import { compareModels, markdownTable } from "../lib/distill/compare.ts";
import { Gpu } from "../lib/gpu/runtime.ts";

export const compareSpec = {
  name: "compare",
  summary: "Compare model folders (a teacher and its students): parameters, file size, forward tokens/s on " +
    "WebGPU and onnxruntime-node, and test perplexity, as one Markdown table (JSON with --json).",
  usage: "deno task compare --models DIR [DIR …] --data PATH [--seq T] [--json]",
  positionals: { name: "DIR...", description: "more model folders (after --models DIR)" },
  flags: {
    models: { type: "string", description: "the first model folder; more follow it", placeholder: "DIR" },
    data: {
      type: "string",
      description: "text to score: 'embedded', a WikiText folder, a .txt or .jsonl file",
      default: "embedded",
      placeholder: "PATH",
    },
    split: {
      type: "string",
      description: "split of a WikiText folder or 'embedded' (a plain file is scored whole)",
      default: "test",
      choices: ["train", "valid", "test"],
    },
    seq: { type: "int", description: "window length (default: the smallest n_positions)", min: 2 },
    stride: { type: "int", description: "window stride (default: --seq)", min: 1 },
    batch: { type: "int", description: "windows per perplexity forward pass", default: 4, min: 1 },
    "max-tokens": {
      type: "int",
      description: "score at most N tokens of the text (0 = all)",
      default: 0,
      min: 0,
    },
    "bench-batch": { type: "int", description: "sequences per timed forward pass", default: 1, min: 1 },
    "bench-runs": { type: "int", description: "timed forward passes per backend", default: 3, min: 1 },
    threads: { type: "int", description: "onnxruntime-node threads (default: all cores)", min: 1 },
    "cache-dir": {
      type: "string",
      description: "token cache folder",
      default: ".cache/tokens",
      placeholder: "DIR",
    },
    "onnx-cache": {
      type: "string",
      description: "where models without onnx/model.onnx are exported",
      default: ".cache/onnx",
      placeholder: "DIR",
    },
    json: { type: "boolean", description: "print one JSON object {seq, stride, rows: [...]} on stdout" },
  },
  examples: [
    "deno task compare --models runs/teacher/model runs/distill/model --data embedded --seq 128",
    "deno task compare --models gpt2 runs/distilgpt2/model --data ../shared/data/wikitext-2 --seq 512 --json",
  ],
} satisfies CommandSpec;

/** Runs the command with `argv` (default: the process arguments). */
export async function main(argv: readonly string[] = Deno.args): Promise<void> {
  const { values: f, positionals } = parseCommand(compareSpec, argv);
  if (!f.models) throw new UsageError("--models DIR [DIR …] is required (see --help)");
  const models = [f.models, ...positionals];
  const gpu = await Gpu.create();
  const result = await compareModels({
    models,
    data: f.data,
    split: f.split as "train" | "valid" | "test",
    seq: f.seq,
    stride: f.stride,
    batch: f.batch,
    maxTokens: f.maxTokens,
    benchBatch: f.benchBatch,
    benchRuns: f.benchRuns,
    threads: f.threads,
    cacheDir: f.cacheDir,
    onnxCacheDir: f.onnxCache,
    gpu,
    log: f.json ? undefined : (m) => console.error(m),
  });
  if (f.json) {
    emitJson({
      data: f.data,
      split: result.split,
      seq: result.seq,
      stride: result.stride,
      rows: result.rows,
    });
    return;
  }
  console.log(
    `${f.data}${result.split ? ` (${result.split})` : ""}, seq ${result.seq}, stride ${result.stride}, ` +
      `forward batch ${f.benchBatch}×${result.seq} on ${gpu.adapterName}\n`,
  );
  console.log(markdownTable(result.rows));
}

/** How a denied permission is explained (this task's sandbox is in deno.json). */
export const comparePermissionHints = {
  write: "this task only writes under .cache/; pick --cache-dir and --onnx-cache inside it",
};

if (import.meta.main) await runMain(() => main(), { permissionHints: comparePermissionHints });
