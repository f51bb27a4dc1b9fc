/**
 * Export of a Hugging Face GPT-2 model directory to ONNX, in place: the folder becomes a drop-in model
 * for transformers.js (`AutoModelForCausalLM.from_pretrained(dir, { local_files_only: true })` then
 * `generate()`) and for onnxruntime-node.
 *
 * Writes into DIR:
 * - onnx/model.onnx: the decoder with KV cache (gpt2_graph.ts, "decoder").
 * - onnx/hidden.onnx (with `hidden`): logits and hidden_states.{0..L}, for distillation teachers.
 * - onnx/model.onnx_data when the weights go to external data (see below); hidden.onnx points into the
 *   same file, so the weights are stored once.
 * - generation_config.json when missing (bos/eos ids from config.json, as HF writes it).
 * - the tokenizer files (GPT-2's, from writeTokenizerFiles) when the folder has no tokenizer.json and
 *   the vocabulary is GPT-2's (V = 50257); a folder's own tokenizer.json is kept.
 * config.json is kept as it is, except that `transformers.js_config.use_external_data_format` is set
 * when model.onnx uses external data (transformers.js loads model.onnx_data only when told so) and
 * removed when a later export no longer does.
 *
 * Size limit: a protobuf message (so an .onnx file with its weights inline) is at most 2 GiB. Weights
 * are inline up to {@link INLINE_LIMIT_BYTES} (GPT-2 124M: 0.5 GB; 355M: 1.4 GB) and external above it
 * (GPT-2 774M and up), or as `externalData` says.
 *
 * @module
 */
import { writeTokenizerFiles } from "../data/tokenizer.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { loadModelDir } from "../model/model_dir.ts";
import { countParameters } from "../model/params.ts";
import type { ExternalData } from "./graph.ts";
import { DEFAULT_OPSET, gpt2Graph, MAX_OPSET, MIN_OPSET } from "./gpt2_graph.ts";
import { encodeModel } from "./proto/onnx.ts";

/** Weights up to this many bytes are stored inside the .onnx file ("auto"); protobuf's limit is 2 GiB. */
export const INLINE_LIMIT_BYTES = 1.8 * 2 ** 30;

/** The external data file's name, as transformers.js expects it for onnx/model.onnx. */
export const EXTERNAL_DATA_FILE = "model.onnx_data";

/** GPT-2's vocabulary size: the built-in tokenizer files fit only this vocabulary. */
const GPT2_VOCAB = 50257;

/** Options of {@link exportOnnx}. */
export interface ExportOptions {
  /** Also write onnx/hidden.onnx (logits + hidden states, no cache). Default false. */
  hidden?: boolean;
  /** ONNX opset, {@link MIN_OPSET} … {@link MAX_OPSET}; default {@link DEFAULT_OPSET}. */
  opset?: number;
  /** "auto" (default): external data only above {@link INLINE_LIMIT_BYTES}; true/false force it. */
  externalData?: "auto" | boolean;
}

/** What {@link exportOnnx} wrote. */
export interface ExportResult {
  /** DIR/onnx/model.onnx */
  modelPath: string;
  /** DIR/onnx/hidden.onnx, when written. */
  hiddenPath?: string;
  /** DIR/onnx/model.onnx_data, when the weights are external. */
  dataPath?: string;
  /** Bytes written under DIR/onnx. */
  bytes: number;
  opset: number;
  /** "written": GPT-2's files were added; "kept": the folder has its own tokenizer.json; "none": neither. */
  tokenizer: "written" | "kept" | "none";
  /** Files of an earlier export that no longer apply and were removed (a stale hidden.onnx or data file). */
  removed: string[];
}

/**
 * Exports the model directory `modelDir` (config.json + model.safetensors) to ONNX in place; see the
 * module doc for the files. Throws one-line Errors for an unreadable model directory or bad options.
 */
export async function exportOnnx(modelDir: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const opset = opts.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new Error(`--opset must be an integer in ${MIN_OPSET} … ${MAX_OPSET}, got ${opset}`);
  }
  const { config, layout, params, extraConfig } = await loadModelDir(modelDir);
  const weightBytes = countParameters(config) * 4;
  const external = opts.externalData === true ||
    ((opts.externalData ?? "auto") === "auto" && weightBytes > INLINE_LIMIT_BYTES);

  const onnxDir = `${modelDir}/onnx`;
  await Deno.mkdir(onnxDir, { recursive: true });
  const data = external ? new ExternalFile(EXTERNAL_DATA_FILE) : null;
  const producerVersion = "1";
  const decoder = gpt2Graph(config, layout, params, {
    kind: "decoder",
    opset,
    external: data,
    producerVersion,
  });
  const hidden = opts.hidden
    ? gpt2Graph(config, layout, params, { kind: "hidden", opset, external: data, producerVersion })
    : null;

  // The data file first, so that no .onnx file ever names a data file that is not there yet.
  const removed: string[] = [];
  let bytes = 0;
  const dataPath = `${onnxDir}/${EXTERNAL_DATA_FILE}`;
  if (data) bytes += await data.write(dataPath);
  const modelPath = `${onnxDir}/model.onnx`;
  const modelBytes = encodeModel(decoder);
  await writeFileAtomic(modelPath, modelBytes);
  bytes += modelBytes.length;
  const hiddenPath = `${onnxDir}/hidden.onnx`;
  if (hidden) {
    const hiddenBytes = encodeModel(hidden);
    await writeFileAtomic(hiddenPath, hiddenBytes);
    bytes += hiddenBytes.length;
  } else if (await removeIfPresent(hiddenPath)) removed.push(hiddenPath);
  if (!data && await removeIfPresent(dataPath)) removed.push(dataPath);

  await updateTransformersJsConfig(`${modelDir}/config.json`, external);
  const genPath = `${modelDir}/generation_config.json`;
  if (!(await exists(genPath))) {
    const gen = {
      _from_model_config: true,
      bos_token_id: extraConfig.bos_token_id ?? null,
      eos_token_id: extraConfig.eos_token_id ?? null,
    };
    await writeFileAtomic(genPath, JSON.stringify(gen, null, 2) + "\n");
  }
  let tokenizer: ExportResult["tokenizer"] = "none";
  if (await exists(`${modelDir}/tokenizer.json`)) tokenizer = "kept";
  else if (config.vocab_size === GPT2_VOCAB) {
    await writeTokenizerFiles(modelDir);
    tokenizer = "written";
  }
  return {
    modelPath,
    hiddenPath: hidden ? hiddenPath : undefined,
    dataPath: data ? dataPath : undefined,
    bytes,
    opset,
    tokenizer,
    removed,
  };
}

/**
 * Collects the external tensors of one or more graphs: each tensor name is stored once (the decoder and
 * the hidden-state graph share their weights), tensors of 1 MiB and more start on 64 KiB boundaries so
 * ONNX Runtime can map them directly (as ONNX's own external-data writer aligns them).
 */
class ExternalFile implements ExternalData {
  readonly location: string;
  readonly threshold = 1024;
  #chunks: Uint8Array[] = [];
  #offsets = new Map<string, number>();
  #size = 0;

  constructor(location: string) {
    this.location = location;
  }

  append(name: string, bytes: Uint8Array): number {
    const known = this.#offsets.get(name);
    if (known !== undefined) return known;
    const align = bytes.length >= 2 ** 20 ? 65536 : 64;
    const padded = Math.ceil(this.#size / align) * align;
    if (padded > this.#size) this.#chunks.push(new Uint8Array(padded - this.#size));
    this.#chunks.push(bytes);
    this.#offsets.set(name, padded);
    this.#size = padded + bytes.length;
    return padded;
  }

  /** Writes the file crash-safely (temporary file, fsync, rename) without joining the chunks. */
  async write(path: string): Promise<number> {
    const tmp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    try {
      const file = await Deno.open(tmp, { write: true, createNew: true });
      try {
        for (const chunk of this.#chunks) {
          let written = 0;
          while (written < chunk.length) written += await file.write(chunk.subarray(written));
        }
        await file.syncData();
      } finally {
        file.close();
      }
      await Deno.rename(tmp, path);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
    return this.#size;
  }
}

/** Sets or clears `transformers.js_config.use_external_data_format` in config.json, rewriting it only on change. */
async function updateTransformersJsConfig(path: string, external: boolean): Promise<void> {
  const text = await Deno.readTextFile(path);
  const json = JSON.parse(text) as Record<string, unknown>;
  const key = "transformers.js_config";
  const tjs = { ...(json[key] as Record<string, unknown> | undefined ?? {}) };
  const had = tjs.use_external_data_format !== undefined;
  if (external) {
    // Keyed by file so that hidden.onnx (not a transformers.js session) is never affected.
    if (JSON.stringify(tjs.use_external_data_format) === JSON.stringify({ "model.onnx": 1 })) return;
    tjs.use_external_data_format = { "model.onnx": 1 };
  } else {
    if (!had) return;
    delete tjs.use_external_data_format;
  }
  if (Object.keys(tjs).length > 0) json[key] = tjs;
  else delete json[key];
  await writeFileAtomic(path, JSON.stringify(json, null, 2) + "\n");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function removeIfPresent(path: string): Promise<boolean> {
  try {
    await Deno.remove(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
