/**
 * `deno task eval`: perplexity of a model directory on a text, computed as Hugging Face documents it
 * (sliding window of --seq tokens advancing by --stride; context-only tokens are not scored).
 */
import { type CommandSpec, parseCommand } from "../lib/cli/args.ts";
import { emitJson } from "../lib/cli/json.ts";
import { runMain } from "../lib/cli/main.ts";
import { Progress } from "../lib/cli/progress.ts";
import { loadTokens } from "../lib/data/dataset.ts";
import { listSplits, type Split } from "../lib/data/text.ts";
import { loadTokenizerFor } from "../lib/data/tokenizer.ts";
import { perplexity } from "../lib/eval/perplexity.ts";
import { Gpu } from "../lib/gpu/runtime.ts";
import { Activations, GPT2 } from "../lib/model/gpt2.ts";
import { loadModelDir } from "../lib/model/model_dir.ts";

export const evalSpec = {
  name: "eval",
  summary:
    "Perplexity of a model on a text: mean NLL per scored token, perplexity and the number of scored tokens.",
  usage: "deno task eval --model DIR --data PATH [--seq T] [--stride S] [--json]",
  flags: {
    model: {
      type: "string",
      description: "model directory (config.json + model.safetensors)",
      placeholder: "DIR",
    },
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
    seq: { type: "int", description: "window length (default: the model's n_positions)", min: 2 },
    stride: { type: "int", description: "window stride (default: --seq, i.e. no overlap)", min: 1 },
    batch: { type: "int", description: "windows per forward pass", default: 4, min: 1 },
    "max-tokens": {
      type: "int",
      description:
        "score only the first N tokens of the text (0 = all); the output says how many were scored",
      default: 0,
      min: 0,
    },
    "cache-dir": {
      type: "string",
      description: "token cache folder",
      default: ".cache/tokens",
      placeholder: "DIR",
    },
    json: { type: "boolean", description: 'print {"nll", "ppl", "tokens"} as JSON on stdout' },
  },
  examples: [
    "deno task eval --model runs/train/model",
    "deno task eval --model runs/small/model --data ../shared/data/wikitext-2/test.txt --seq 128 --stride 64",
  ],
} satisfies CommandSpec;

/** Runs the command with `argv` (default: the process arguments). */
export async function main(argv: readonly string[] = Deno.args): Promise<void> {
  const { values: f } = parseCommand(evalSpec, argv);
  if (!f.model) throw new Error("--model DIR is required (see --help)");
  const { config, params } = await loadModelDir(f.model);
  const seq = f.seq ?? config.n_positions;
  const stride = f.stride ?? seq;
  if (seq > config.n_positions) {
    throw new Error(`--seq ${seq} is longer than the model's n_positions ${config.n_positions}`);
  }
  if (stride > seq) throw new Error(`--stride ${stride} must not exceed --seq ${seq}`);
  const tokenizer = await loadTokenizerFor(f.model);
  const splits = await listSplits(f.data);
  const split: Split = splits.length === 1 ? splits[0] : f.split as Split;
  const all = await loadTokens(f.data, split, tokenizer, f.cacheDir);
  const ids = f.maxTokens > 0 && all.length > f.maxTokens ? all.subarray(0, f.maxTokens) : all;

  const gpu = await Gpu.create();
  const model = new GPT2(gpu, config, params, { training: false });
  const acts = new Activations(gpu, config, f.batch, seq, false);
  const progress = new Progress({ label: "eval", unit: "win", enabled: !f.json });
  const t0 = performance.now();
  const r = await perplexity(model, acts, ids, seq, stride, (done, total) => {
    progress.update(done, { of: total });
  });
  progress.done();
  const seconds = (performance.now() - t0) / 1000;
  if (f.json) {
    emitJson({
      nll: r.nll,
      ppl: r.ppl,
      tokens: r.tokens,
      windows: r.windows,
      text_tokens: all.length,
      seconds,
    });
  } else {
    console.log(
      `${f.model} on ${f.data}${splits.length > 1 ? ` (${split})` : ""}, seq ${seq}, stride ${stride}: ` +
        `nll ${r.nll.toFixed(4)}, perplexity ${r.ppl.toFixed(3)}, ${r.tokens} scored tokens (${
          seconds.toFixed(1)
        } s)`,
    );
  }
}

/** How a denied permission is explained (this task's sandbox is in deno.json). */
export const evalPermissionHints = {
  write: "eval only writes its token cache under .cache/; pick --cache-dir inside it",
};

if (import.meta.main) await runMain(() => main(), { permissionHints: evalPermissionHints });
