/**
 * Autoregressive text generation with a KV cache: the prompt is processed in one pass, then each new
 * token costs one single-position pass that reads the cached keys and values.
 *
 * @module
 */
import { Activations, type GPT2, KVCache } from "../model/gpt2.ts";
import { Rng } from "../rng.ts";
import { sampleToken, type SamplingOptions } from "./sample.ts";

/** Generation settings. */
export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seed: number;
  /** Stop early at this token id (GPT-2's <|endoftext|> = 50256), or null. */
  stopToken: number | null;
}

/**
 * Continues `prompt` (token ids) and returns only the new ids. `onToken` sees each id as it is chosen.
 * Prompt plus new tokens must fit the model's context (n_positions).
 */
export async function generate(
  model: GPT2,
  prompt: ArrayLike<number>,
  opts: GenerateOptions,
  onToken?: (id: number) => void,
): Promise<number[]> {
  const { gpu, config } = model;
  if (prompt.length === 0) throw new Error("the prompt is empty: give at least one token");
  const total = prompt.length + opts.maxNewTokens;
  if (total > config.n_positions) {
    throw new Error(
      `prompt (${prompt.length} tokens) + --max-new-tokens ${opts.maxNewTokens} exceeds the model's context of ${config.n_positions}`,
    );
  }
  const rng = new Rng(opts.seed);
  const cache = new KVCache(gpu, config, 1, total);
  const acts = new Activations(gpu, config, 1, prompt.length, false);
  model.setBatch(acts, Uint32Array.from(prompt), null);
  let logits = await gpu.read(model.decode(acts, cache, 1, prompt.length, 0));
  const out: number[] = [];
  const one = new Uint32Array(1);
  for (let i = 0; i < opts.maxNewTokens; i++) {
    const id = sampleToken(logits, config.vocab_size, opts, rng);
    out.push(id);
    onToken?.(id);
    if (id === opts.stopToken || i === opts.maxNewTokens - 1) break;
    one[0] = id;
    model.setBatch(acts, one, null);
    logits = await gpu.read(model.decode(acts, cache, 1, 1, prompt.length + i));
  }
  return out;
}
