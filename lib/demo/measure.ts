/**
 * What the demo measures on each trained model: test perplexity (HF's sliding window with stride = window,
 * lib/eval/perplexity.ts) with the forward throughput it reached, and a sampled continuation of a prompt.
 *
 * @module
 */
import type { Tokenizer } from "../data/tokenizer.ts";
import { perplexity } from "../eval/perplexity.ts";
import { generate } from "../generate/generate.ts";
import type { Gpu } from "../gpu/runtime.ts";
import { Activations, GPT2 } from "../model/gpt2.ts";
import { loadModelDir } from "../model/model_dir.ts";
import { countParameters } from "../model/params.ts";

/** Test-set numbers of one model. */
export interface EvalResult {
  /** Mean negative log-likelihood per scored token (nats). */
  nll: number;
  ppl: number;
  /** Scored tokens. */
  tokens: number;
  /** Wall time of the perplexity pass. */
  seconds: number;
  /** Tokens run through the model per second (every window position, scored or not). */
  forwardTokensPerS: number;
  /** Parameters (tied head counted once). */
  params: number;
}

/**
 * Perplexity of the model in `modelDir` on `ids` with windows of `seq` tokens that do not overlap,
 * `batch` windows per forward pass.
 */
export async function evaluateModel(
  gpu: Gpu,
  modelDir: string,
  ids: Uint32Array,
  seq: number,
  batch: number,
): Promise<EvalResult> {
  const { config, params } = await loadModelDir(modelDir);
  const model = new GPT2(gpu, config, params, { training: false });
  const acts = new Activations(gpu, config, batch, seq, false);
  const t0 = performance.now();
  const r = await perplexity(model, acts, ids, seq, seq);
  const seconds = (performance.now() - t0) / 1000;
  return {
    nll: r.nll,
    ppl: r.ppl,
    tokens: r.tokens,
    seconds,
    forwardTokensPerS: ids.length / seconds,
    params: countParameters(config),
  };
}

/** A sampled continuation (temperature 0.8, top-k 40, seeded) of `prompt` by the model in `modelDir`. */
export async function sampleModel(
  gpu: Gpu,
  modelDir: string,
  tokenizer: Tokenizer,
  prompt: string,
  maxNewTokens: number,
  seed: number,
): Promise<string> {
  const { config, params } = await loadModelDir(modelDir);
  const model = new GPT2(gpu, config, params, { training: false });
  const ids = await generate(model, tokenizer.encode(prompt), {
    maxNewTokens,
    temperature: 0.8,
    topK: 40,
    topP: 1,
    seed,
    stopToken: tokenizer.eosId,
  });
  return prompt + tokenizer.decode(ids);
}
