/**
 * Hugging Face model directories (`config.json` + `model.safetensors`), as `save_pretrained` writes them
 * and as the hub serves gpt2 and distilgpt2: loading into the flat parameter buffer and saving from it.
 *
 * @module
 */
import { writeFileAtomic } from "../io/atomic.ts";
import { type GPT2Config, validateConfig } from "./config.ts";
import { type ParamLayout, paramLayout } from "./params.ts";
import { encodeSafetensors, parseSafetensors } from "./safetensors.ts";

/** A loaded model directory. */
export interface ModelDir {
  config: GPT2Config;
  layout: ParamLayout;
  /** (layout.total) the flat parameter buffer, padding zero. */
  params: Float32Array;
  /** The other keys of config.json (token ids, architectures, task parameters…), kept for saving. */
  extraConfig: Record<string, unknown>;
}

const CONFIG_KEYS = new Set<string>([
  "vocab_size",
  "n_positions",
  "n_embd",
  "n_layer",
  "n_head",
  "layer_norm_epsilon",
  "activation_function",
  "model_type",
  "n_ctx",
]);

/** Prefix of the GPT2LMHeadModel state dict; hub files omit it, HF loads either. */
const PREFIX = "transformer.";
/** Causal-mask buffers older HF versions saved with the weights. */
const IGNORED = /^h\.\d+\.attn\.(bias|masked_bias)$/;

async function readOrThrow(path: string, what: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${path}: ${what} not found`);
    throw new Error(`${path}: cannot read ${what} (${(e as Error).message})`);
  }
}

/**
 * Loads a Hugging Face GPT-2 directory. Accepts tensor names with or without the "transformer." prefix,
 * F32/F16/BF16 data (converted to float32), a tied "lm_head.weight" (must equal wte.weight; not stored)
 * and the "h.i.attn.bias"/"h.i.attn.masked_bias" mask buffers (ignored). Throws one-line Errors naming
 * the file (and tensor) for a missing directory or file, invalid config.json, corrupt safetensors,
 * missing, duplicate or unexpected tensors, shapes that disagree with config.json and unsupported dtypes.
 */
export async function loadModelDir(dir: string): Promise<ModelDir> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`model directory ${dir} does not exist`);
    throw new Error(`model directory ${dir}: ${(e as Error).message}`);
  }
  if (!stat.isDirectory) throw new Error(`model directory ${dir} is not a directory`);

  const configPath = `${dir}/config.json`;
  const configText = new TextDecoder().decode(await readOrThrow(configPath, "config.json"));
  let raw: unknown;
  try {
    raw = JSON.parse(configText);
  } catch (e) {
    throw new Error(`${configPath}: invalid JSON (${(e as Error).message.split("\n")[0]})`);
  }
  let config: GPT2Config;
  try {
    config = validateConfig(raw);
  } catch (e) {
    throw new Error(`${configPath}: ${(e as Error).message}`);
  }
  const extraConfig: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!CONFIG_KEYS.has(k)) extraConfig[k] = v;
  }

  const stPath = `${dir}/model.safetensors`;
  const bytes = await readOrThrow(stPath, "model.safetensors");
  const layout = paramLayout(config);
  const seen = new Set<string>();
  const tensors = parseSafetensors(bytes, stPath, {
    keep(fileName) {
      const name = fileName.startsWith(PREFIX) ? fileName.slice(PREFIX.length) : fileName;
      if (IGNORED.test(name)) return false;
      if (!layout.byName.has(name) && name !== "lm_head.weight") {
        throw new Error(`${stPath}: unexpected tensor "${fileName}" (not part of a GPT-2 LM)`);
      }
      if (seen.has(name)) throw new Error(`${stPath}: tensor "${name}" appears with and without "${PREFIX}"`);
      seen.add(name);
      return true;
    },
  });
  const find = (name: string) => tensors.get(name) ?? tensors.get(PREFIX + name);

  const params = new Float32Array(layout.total);
  for (const t of layout.tensors) {
    const st = find(t.name);
    if (!st) throw new Error(`${stPath}: missing tensor "${t.name}"`);
    if (st.shape.length !== t.shape.length || st.shape.some((d, i) => d !== t.shape[i])) {
      throw new Error(
        `${stPath}: tensor "${t.name}" has shape [${st.shape}] but config.json implies [${t.shape}]`,
      );
    }
    params.set(st.data, t.offset);
  }
  const lmHead = find("lm_head.weight");
  if (lmHead) {
    const wte = layout.byName.get("wte.weight")!;
    // Bitwise: a tied head is the very same tensor.
    const head = new Uint32Array(lmHead.data.buffer, lmHead.data.byteOffset, lmHead.data.length);
    const emb = new Uint32Array(params.buffer, wte.offset * 4, wte.size);
    const tied = head.length === emb.length && head.every((x, i) => x === emb[i]);
    if (!tied) {
      throw new Error(
        `${stPath}: tensor "lm_head.weight" differs from wte.weight (untied heads unsupported)`,
      );
    }
  }
  return { config, layout, params, extraConfig };
}

/** Hugging Face GPT2Config keys written besides the network's own (dropout 0: we train without it). */
const HF_DEFAULTS: Record<string, unknown> = {
  architectures: ["GPT2LMHeadModel"],
  attn_pdrop: 0.0,
  bos_token_id: 50256,
  embd_pdrop: 0.0,
  eos_token_id: 50256,
  initializer_range: 0.02,
  n_inner: null,
  resid_pdrop: 0.0,
  scale_attn_weights: true,
  summary_activation: null,
  summary_first_dropout: 0.1,
  summary_proj_to_labels: true,
  summary_type: "cls_index",
  summary_use_proj: true,
  use_cache: true,
};

/**
 * Writes `config.json` (HF GPT2Config keys, sorted as HF writes them; `extraConfig` overrides the
 * defaults but not the network keys; n_ctx = n_positions) and `model.safetensors` (F32, names without
 * the "transformer." prefix and without the tied lm_head, metadata {"format": "pt"}), each atomically.
 * Creates `dir` if needed. The result loads with `loadModelDir` and with transformers'
 * `GPT2LMHeadModel.from_pretrained`.
 *
 * @param params (layout.total)
 */
export async function saveModelDir(
  dir: string,
  config: GPT2Config,
  layout: ParamLayout,
  params: Float32Array,
  extraConfig: Record<string, unknown> = {},
): Promise<void> {
  const cfg = validateConfig(config);
  if (params.length !== layout.total) {
    throw new Error(`saveModelDir: params has ${params.length} floats, the layout ${layout.total}`);
  }
  const expected = paramLayout(cfg);
  if (expected.total !== layout.total || expected.tensors.length !== layout.tensors.length) {
    throw new Error(
      `saveModelDir: the layout (${layout.total} floats) is not the config's (${expected.total})`,
    );
  }
  layout.tensors.forEach((t, i) => {
    const e = expected.tensors[i];
    if (e.name !== t.name || e.offset !== t.offset || e.size !== t.size) {
      throw new Error(`saveModelDir: the layout does not match the config at tensor "${t.name}"`);
    }
  });
  const json: Record<string, unknown> = { ...HF_DEFAULTS, ...extraConfig, ...cfg, n_ctx: cfg.n_positions };
  const sorted = Object.fromEntries(Object.keys(json).sort().map((k) => [k, json[k]]));
  await Deno.mkdir(dir, { recursive: true });
  const st = encodeSafetensors(
    layout.tensors.map((t) => ({
      name: t.name,
      shape: t.shape,
      data: params.subarray(t.offset, t.offset + t.size),
    })),
    { format: "pt" },
  );
  await writeFileAtomic(`${dir}/model.safetensors`, st);
  await writeFileAtomic(`${dir}/config.json`, JSON.stringify(sorted, null, 2) + "\n");
}
