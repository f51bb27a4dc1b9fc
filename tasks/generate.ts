/**
 * `deno task generate`: sample a continuation of a prompt with a KV cache.
 */
import { type CommandSpec, parseCommand } from "../lib/cli/args.ts";
import { emitJson } from "../lib/cli/json.ts";
import { runMain } from "../lib/cli/main.ts";
import { loadTokenizerFor } from "../lib/data/tokenizer.ts";
import { generate } from "../lib/generate/generate.ts";
import { Gpu } from "../lib/gpu/runtime.ts";
import { GPT2 } from "../lib/model/gpt2.ts";
import { loadModelDir } from "../lib/model/model_dir.ts";

export const generateSpec = {
  name: "generate",
  summary:
    "Continue a prompt with a model directory: temperature, top-k and top-p sampling, seeded, with a KV cache.",
  usage: "deno task generate --model DIR --prompt TEXT [flags]",
  flags: {
    model: { type: "string", description: "model directory", placeholder: "DIR" },
    prompt: { type: "string", description: "text to continue", placeholder: "TEXT" },
    "max-new-tokens": { type: "int", description: "tokens to generate", default: 64, min: 1 },
    temperature: { type: "float", description: "softmax temperature (0 = greedy)", default: 1, min: 0 },
    "top-k": { type: "int", description: "keep the k most likely tokens (0 = off)", default: 50, min: 0 },
    "top-p": {
      type: "float",
      description: "nucleus: keep tokens up to this probability mass",
      default: 1,
      min: 0,
      exclusiveMin: true,
      max: 1,
    },
    seed: { type: "int", description: "sampling seed", default: 0, min: 0 },
    json: { type: "boolean", description: 'print {"prompt", "text", "tokens"} as JSON' },
  },
  examples: [
    'deno task generate --model runs/train/model --prompt "The river"',
    'deno task generate --model runs/small/model --prompt "The game" --temperature 0.8 --top-p 0.95 --seed 3',
  ],
} satisfies CommandSpec;

/** Runs the command with `argv` (default: the process arguments). */
export async function main(argv: readonly string[] = Deno.args): Promise<void> {
  const { values: f } = parseCommand(generateSpec, argv);
  if (!f.model) throw new Error("--model DIR is required (see --help)");
  if (f.prompt === undefined || f.prompt === "") {
    throw new Error("--prompt TEXT is required and must not be empty");
  }
  const { config, params } = await loadModelDir(f.model);
  const tokenizer = await loadTokenizerFor(f.model);
  const prompt = tokenizer.encode(f.prompt);
  const gpu = await Gpu.create();
  const model = new GPT2(gpu, config, params, { training: false });
  if (!f.json) await Deno.stdout.write(new TextEncoder().encode(f.prompt));
  const ids: number[] = [];
  let printed = "";
  const t0 = performance.now();
  await generate(model, prompt, {
    maxNewTokens: f.maxNewTokens,
    temperature: f.temperature,
    topK: f.topK,
    topP: f.topP,
    seed: f.seed,
    stopToken: tokenizer.eosId,
  }, (id) => {
    ids.push(id);
    if (f.json) return;
    // Decode the whole continuation so multi-byte characters split across tokens print correctly.
    const text = tokenizer.decode(ids);
    if (!text.endsWith("\uFFFD")) {
      Deno.stdout.writeSync(new TextEncoder().encode(text.slice(printed.length)));
      printed = text;
    }
  });
  const seconds = (performance.now() - t0) / 1000;
  const text = tokenizer.decode(ids);
  if (f.json) emitJson({ prompt: f.prompt, text, tokens: ids.length, tokens_per_s: ids.length / seconds });
  else {
    Deno.stdout.writeSync(new TextEncoder().encode(text.slice(printed.length) + "\n"));
    console.error(
      `${ids.length} tokens in ${seconds.toFixed(2)} s (${(ids.length / seconds).toFixed(1)} tokens/s)`,
    );
  }
}

/** How a denied permission is explained (this task's sandbox is in deno.json). */
export const generatePermissionHints = {
  write: "generate writes nothing; it only reads the model folder",
};

if (import.meta.main) await runMain(() => main(), { permissionHints: generatePermissionHints });
