/**
 * `deno task demo`: the main job on the embedded corpus — train the `tiny` preset, evaluate its test
 * perplexity against the unigram baseline, and sample text. A few minutes on a 2-core CPU.
 */
import { type CommandSpec, parseCommand } from "../lib/cli/args.ts";
import { emitJson } from "../lib/cli/json.ts";
import { runMain } from "../lib/cli/main.ts";
import { loadTokens } from "../lib/data/dataset.ts";
import { gpt2Tokenizer } from "../lib/data/tokenizer.ts";
import { perplexity, unigramPerplexity } from "../lib/eval/perplexity.ts";
import { generate } from "../lib/generate/generate.ts";
import { Gpu } from "../lib/gpu/runtime.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { Activations } from "../lib/model/gpt2.ts";
import { runTraining } from "../lib/train/run.ts";

export const demoSpec = {
  name: "demo",
  summary: "Train a tiny GPT-2 on the embedded corpus, report test perplexity and sample text.",
  usage: "deno task demo [--out DIR] [--steps N] [--json]",
  flags: {
    data: {
      type: "string",
      description: "training data (see train --help)",
      default: "embedded",
      placeholder: "PATH",
    },
    out: { type: "string", description: "output folder", default: "runs/demo", placeholder: "DIR" },
    steps: { type: "int", description: "optimizer steps", default: 300, min: 1 },
    "max-minutes": {
      type: "float",
      description: "stop training after this long (0 = no limit)",
      default: 6,
      min: 0,
    },
    seed: { type: "int", description: "seed", default: 0, min: 0 },
    json: { type: "boolean", description: "print the summary as one JSON object" },
  },
  examples: ["deno task demo", "deno task demo --steps 100 --out runs/quick"],
} satisfies CommandSpec;

const PROMPTS = ["The river", "In 1890 the"];

async function main(): Promise<void> {
  const { values: f } = parseCommand(demoSpec);
  const t0 = performance.now();
  const gpu = await Gpu.create();
  const seq = 64;
  const outcome = await runTraining({
    config: "tiny",
    data: f.data,
    out: f.out,
    cacheDir: ".cache/tokens",
    resume: false,
    json: false,
    gpu,
    settings: {
      steps: f.steps,
      maxMinutes: f.maxMinutes,
      batch: 8,
      seq,
      gradAccum: 1,
      lr: 2e-3,
      schedule: "cosine",
      warmup: 20,
      weightDecay: 0.01,
      beta1: 0.9,
      beta2: 0.99,
      eps: 1e-8,
      clip: 1,
      seed: f.seed,
      shuffle: true,
      evalEvery: 100,
      evalBatches: 20,
      saveEvery: 0,
    },
  });

  const tokenizer = await gpt2Tokenizer();
  const trainIds = await loadTokens(f.data, "train", tokenizer, ".cache/tokens");
  const testIds = await loadTokens(f.data, "test", tokenizer, ".cache/tokens");
  const model = outcome.model;
  const acts = new Activations(gpu, model.config, 8, seq, false);
  console.error("evaluating test perplexity…");
  const test = await perplexity(model, acts, testIds, seq, seq / 2);
  const unigram = unigramPerplexity(trainIds);
  const samples: { prompt: string; text: string }[] = [];
  for (const prompt of PROMPTS) {
    const ids = await generate(model, tokenizer.encode(prompt), {
      maxNewTokens: 40,
      temperature: 0.8,
      topK: 40,
      topP: 1,
      seed: f.seed,
      stopToken: tokenizer.eosId,
    });
    samples.push({ prompt, text: prompt + tokenizer.decode(ids) });
  }
  const summary = {
    data: f.data,
    steps: outcome.steps,
    train_seconds: outcome.seconds,
    test_nll: test.nll,
    test_ppl: test.ppl,
    test_tokens: test.tokens,
    unigram_ppl_of_train_text: unigram,
    samples,
    model: outcome.modelDir,
    total_seconds: (performance.now() - t0) / 1000,
  };
  await writeFileAtomic(`${f.out}/summary.json`, JSON.stringify(summary, null, 2) + "\n");
  if (f.json) emitJson(summary);
  else {
    console.log(`\nTrained ${outcome.steps} steps in ${outcome.seconds.toFixed(0)} s on ${gpu.adapterName}.`);
    console.log(
      `Test perplexity (${f.data}, test split, window ${seq}, stride ${seq / 2}): ${test.ppl.toFixed(2)} ` +
        `over ${test.tokens} tokens; unigram perplexity of the training text: ${unigram.toFixed(1)}.`,
    );
    for (const s of samples) console.log(`\n> ${s.text.replaceAll("\n", " ")}`);
    console.log(
      `\nModel: ${outcome.modelDir} · summary: ${f.out}/summary.json · total ${
        summary.total_seconds.toFixed(0)
      } s`,
    );
  }
}

if (import.meta.main) await runMain(main);
