/**
 * GPT-2 model configuration: the subset of Hugging Face's `GPT2Config` that determines the network, the
 * presets we train, and validation of configs read from `config.json`.
 *
 * @module
 */

/** The network-defining keys of a Hugging Face GPT-2 `config.json`. */
export interface GPT2Config {
  /** V: tokens in the vocabulary (50257 for GPT-2's BPE). */
  vocab_size: number;
  /** Longest sequence (rows of the position embedding). */
  n_positions: number;
  /** C: channels. */
  n_embd: number;
  /** L: transformer blocks. */
  n_layer: number;
  /** NH: attention heads; head size hs = C / NH. */
  n_head: number;
  layer_norm_epsilon: number;
  /** GELU with the tanh approximation (HF's "gelu_pytorch_tanh" is the same function and maps to this). */
  activation_function: "gelu_new";
  model_type: "gpt2";
}

function preset(n_layer: number, n_embd: number, n_head: number, n_positions: number): GPT2Config {
  return {
    vocab_size: 50257,
    n_positions,
    n_embd,
    n_layer,
    n_head,
    layer_norm_epsilon: 1e-5,
    activation_function: "gelu_new",
    model_type: "gpt2",
  };
}

/** Model sizes: two small ones for experiments, and the shapes of the released distilgpt2 and gpt2. */
export const PRESETS: {
  readonly tiny: GPT2Config;
  readonly small: GPT2Config;
  readonly distilgpt2: GPT2Config;
  readonly gpt2: GPT2Config;
} = {
  tiny: preset(2, 128, 4, 256),
  small: preset(4, 256, 4, 512),
  distilgpt2: preset(6, 768, 12, 1024),
  gpt2: preset(12, 768, 12, 1024),
};

/** Names of the presets. */
export type PresetName = keyof typeof PRESETS;

/** Activation names that mean GELU with the tanh approximation in Hugging Face transformers. */
const TANH_GELU = ["gelu_new", "gelu_pytorch_tanh"];

/**
 * Checks a parsed `config.json` (or any object) and returns the GPT-2 config it describes. Keys absent
 * from the object take Hugging Face's GPT2Config defaults only where the default cannot change the shapes
 * (layer_norm_epsilon 1e-5, activation gelu_new, model_type gpt2); `n_positions` falls back to the legacy
 * `n_ctx`. Throws a one-line Error naming the first problem. Other keys are ignored here.
 */
export function validateConfig(c: unknown): GPT2Config {
  if (typeof c !== "object" || c === null || Array.isArray(c)) {
    throw new Error(`GPT-2 config must be a JSON object, got ${c === null ? "null" : typeof c}`);
  }
  const o = c as Record<string, unknown>;
  const positiveInt = (key: string, value = o[key]): number => {
    if (value === undefined) throw new Error(`GPT-2 config is missing "${key}"`);
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
      throw new Error(`GPT-2 config "${key}" must be a positive integer, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const model_type = o.model_type ?? "gpt2";
  if (model_type !== "gpt2") {
    throw new Error(`GPT-2 config "model_type" must be "gpt2", got ${JSON.stringify(model_type)}`);
  }
  const vocab_size = positiveInt("vocab_size");
  const n_positions = o.n_positions === undefined && o.n_ctx !== undefined
    ? positiveInt("n_ctx")
    : positiveInt("n_positions");
  const n_embd = positiveInt("n_embd");
  const n_layer = positiveInt("n_layer");
  const n_head = positiveInt("n_head");
  if (n_embd % n_head !== 0) {
    throw new Error(`GPT-2 config "n_embd" (${n_embd}) must be divisible by "n_head" (${n_head})`);
  }
  if ((n_embd / n_head) % 4 !== 0) {
    // The kernels load head vectors as vec4.
    throw new Error(`GPT-2 config head size n_embd / n_head = ${n_embd / n_head} must be a multiple of 4`);
  }
  const eps = o.layer_norm_epsilon ?? 1e-5;
  if (typeof eps !== "number" || !(eps > 0) || !Number.isFinite(eps)) {
    throw new Error(
      `GPT-2 config "layer_norm_epsilon" must be a positive number, got ${JSON.stringify(eps)}`,
    );
  }
  const act = o.activation_function ?? "gelu_new";
  if (typeof act !== "string" || !TANH_GELU.includes(act)) {
    throw new Error(
      `GPT-2 config "activation_function" must be "gelu_new" or "gelu_pytorch_tanh", got ${
        JSON.stringify(act)
      }`,
    );
  }
  // Hugging Face options that change the network; only their default values are supported.
  if (o.n_inner !== undefined && o.n_inner !== null && o.n_inner !== 4 * n_embd) {
    throw new Error(`GPT-2 config "n_inner" must be null or 4·n_embd (${4 * n_embd}), got ${o.n_inner}`);
  }
  for (
    const [key, supported] of [["scale_attn_weights", true], ["scale_attn_by_inverse_layer_idx", false], [
      "add_cross_attention",
      false,
    ]] as const
  ) {
    if (o[key] !== undefined && o[key] !== supported) {
      throw new Error(
        `GPT-2 config "${key}" = ${JSON.stringify(o[key])} is not supported (only ${supported})`,
      );
    }
  }
  return {
    vocab_size,
    n_positions,
    n_embd,
    n_layer,
    n_head,
    layer_norm_epsilon: eps,
    activation_function: "gelu_new",
    model_type: "gpt2",
  };
}

/** Vp: the vocabulary padded up to a multiple of 64 (50257 → 50304) for aligned LM-head tiles. */
export function paddedVocab(V: number): number {
  return Math.ceil(V / 64) * 64;
}
