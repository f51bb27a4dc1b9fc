/**
 * Side-by-side numbers for a teacher and its students (`deno task compare`): parameters, weight-file
 * size, forward tokens/s on WebGPU and in onnxruntime-node, and test perplexity (HF's sliding window,
 * lib/eval/perplexity.ts).
 *
 * A model folder without onnx/model.onnx is exported into a cache folder (from a copy of its config.json and
 * weights, keyed by the folder's path, the weights' size and modification time and the config), never into
 * the user's folder.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { loadTokens } from "../data/dataset.ts";
import { listSplits, type Split } from "../data/text.ts";
import { loadTokenizerFor } from "../data/tokenizer.ts";
import { perplexity } from "../eval/perplexity.ts";
import type { Gpu } from "../gpu/runtime.ts";
import { Activations, GPT2 } from "../model/gpt2.ts";
import { loadModelDir } from "../model/model_dir.ts";
import { countParameters } from "../model/params.ts";
import { exportOnnx } from "../onnx/export.ts";
import { type HostTensor, OrtSession } from "../onnx/session.ts";

/** One row of the comparison. */
export interface CompareRow {
  /** The model folder, as given. */
  model: string;
  /** Parameters (the tied head counted once). */
  params: number;
  /** Bytes of model.safetensors. */
  file_bytes: number;
  n_layer: number;
  n_embd: number;
  /** Forward tokens/s on WebGPU (logits and loss included) for `benchBatch` × seq tokens. */
  webgpu_tokens_per_s: number;
  /** Forward tokens/s of onnx/model.onnx in onnxruntime-node (CPU), same batch. */
  onnx_tokens_per_s: number;
  /** The .onnx file that was timed (the folder's own, or the cached export). */
  onnx_path: string;
  /** Mean negative log-likelihood per scored test token. */
  test_nll: number;
  test_ppl: number;
  test_tokens: number;
}

/** Options of {@link compareModels}. */
export interface CompareOptions {
  models: string[];
  data: string;
  /** Split of a dataset folder (a plain file is scored whole). */
  split: Split;
  /** Window length; default: the smallest n_positions of the models. */
  seq?: number;
  /** Window stride; default `seq`. */
  stride?: number;
  /** Windows per perplexity forward pass. */
  batch: number;
  /** Score at most this many tokens of the text (0 = all). */
  maxTokens: number;
  /** Sequences of `seq` tokens per timed forward pass. */
  benchBatch: number;
  /** Timed forward passes per backend (after one warm-up pass). */
  benchRuns: number;
  /** Token cache folder. */
  cacheDir: string;
  /** Folder for ONNX exports of models that have none. */
  onnxCacheDir: string;
  /** ORT threads (default: all cores). */
  threads?: number;
  gpu: Gpu;
  /** Progress messages. */
  log?: (message: string) => void;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/**
 * The .onnx file to time for a model folder: its own onnx/model.onnx, or an export in `cacheDir` made from a
 * copy of its config.json and weights (reused while they are unchanged).
 */
export async function onnxFor(dir: string, cacheDir: string): Promise<string> {
  const own = `${dir}/onnx/model.onnx`;
  if (await exists(own)) return own;
  const real = await Deno.realPath(dir);
  const st = await Deno.stat(`${real}/model.safetensors`);
  const config = await Deno.readTextFile(`${real}/config.json`);
  const key = createHash("sha256")
    .update(`${real}\n${st.size}\n${st.mtime?.getTime() ?? 0}\n${config}`)
    .digest("hex")
    .slice(0, 16);
  const target = `${cacheDir}/${key}`;
  const path = `${target}/onnx/model.onnx`;
  if (await exists(path)) return path;
  await Deno.remove(target, { recursive: true }).catch(() => {});
  await Deno.mkdir(target, { recursive: true });
  await Deno.writeTextFile(`${target}/config.json`, config);
  // A copy: links would need unscoped write permission; the export reads the weights once.
  await Deno.copyFile(`${real}/model.safetensors`, `${target}/model.safetensors`);
  await exportOnnx(target);
  return path;
}

/** Feeds of the decoder graph for ids (B, T) from scratch: all-ones mask, positions 0 … T−1, an empty past. */
function decoderFeeds(s: OrtSession, ids: Uint32Array, B: number, T: number): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const input of s.inputs) {
    if (input.name === "input_ids") {
      feeds[input.name] = { type: "int64", data: BigInt64Array.from(ids, BigInt), dims: [B, T] };
    } else if (input.name === "attention_mask") {
      feeds[input.name] = { type: "int64", data: new BigInt64Array(B * T).fill(1n), dims: [B, T] };
    } else if (input.name === "position_ids") {
      feeds[input.name] = {
        type: "int64",
        data: BigInt64Array.from({ length: B * T }, (_, i) => BigInt(i % T)),
        dims: [B, T],
      };
    } else if (input.name.startsWith("past_key_values.")) {
      const dims = [B, Number(input.dims[1]), 0, Number(input.dims[3])];
      feeds[input.name] = { type: "float32", data: new Float32Array(0), dims };
    }
  }
  return feeds;
}

/** Tokens/s of `runs` calls of `f` after one warm-up call. */
async function rate(tokens: number, runs: number, f: () => Promise<void>): Promise<number> {
  await f();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await f();
  return (tokens * runs) / ((performance.now() - t0) / 1000);
}

/** Measures every model; see {@link CompareRow}. Throws a one-line Error for an unreadable folder or text. */
export async function compareModels(
  o: CompareOptions,
): Promise<{ rows: CompareRow[]; seq: number; stride: number; split: Split }> {
  if (o.models.length === 0) throw new Error("no models to compare (give --models DIR …)");
  const loaded = [];
  for (const dir of o.models) loaded.push({ dir, ...(await loadModelDir(dir)) });
  const seq = o.seq ?? Math.min(...loaded.map((m) => m.config.n_positions));
  const stride = o.stride ?? seq;
  for (const m of loaded) {
    if (seq > m.config.n_positions) {
      throw new Error(`--seq ${seq} is longer than ${m.dir}'s n_positions ${m.config.n_positions}`);
    }
  }
  if (stride > seq) throw new Error(`--stride ${stride} must not exceed --seq ${seq}`);
  const splits = await listSplits(o.data);
  const split: Split = splits.length === 1 ? splits[0] : o.split;
  const log = o.log ?? (() => {});
  const rows: CompareRow[] = [];
  for (const m of loaded) {
    const { dir, config, params } = m;
    const tokenizer = await loadTokenizerFor(dir);
    let ids = await loadTokens(o.data, split, tokenizer, o.cacheDir);
    if (o.maxTokens > 0 && ids.length > o.maxTokens) ids = ids.subarray(0, o.maxTokens);
    const B = o.benchBatch;
    const benchIds = new Uint32Array(B * seq);
    for (let i = 0; i < benchIds.length; i++) benchIds[i] = ids[i % ids.length];

    log(`${dir}: WebGPU forward`);
    const model = new GPT2(o.gpu, config, params, { training: false });
    const benchActs = new Activations(o.gpu, config, B, seq, false);
    const targets = new Int32Array(B * seq).fill(-100);
    model.setBatch(benchActs, benchIds, targets);
    const webgpu = await rate(B * seq, o.benchRuns, async () => {
      model.step(benchActs, B, seq, benchIds, false, 1);
      await o.gpu.sync();
    });

    log(`${dir}: onnxruntime-node forward`);
    const onnxPath = await onnxFor(dir, o.onnxCacheDir);
    const session = await OrtSession.open(onnxPath, { threads: o.threads });
    let onnx: number;
    try {
      const feeds = decoderFeeds(session, benchIds, B, seq);
      onnx = await rate(B * seq, o.benchRuns, async () => {
        await session.run(feeds, ["logits"]);
      });
    } finally {
      await session.close();
    }

    log(`${dir}: test perplexity over ${ids.length} tokens`);
    const acts = new Activations(o.gpu, config, o.batch, seq, false);
    const ppl = await perplexity(model, acts, ids, seq, stride);
    rows.push({
      model: dir,
      params: countParameters(config),
      file_bytes: (await Deno.stat(`${dir}/model.safetensors`)).size,
      n_layer: config.n_layer,
      n_embd: config.n_embd,
      webgpu_tokens_per_s: webgpu,
      onnx_tokens_per_s: onnx,
      onnx_path: onnxPath,
      test_nll: ppl.nll,
      test_ppl: ppl.ppl,
      test_tokens: ppl.tokens,
    });
  }
  return { rows, seq, stride, split };
}

/** The rows as a Markdown table. */
export function markdownTable(rows: CompareRow[]): string {
  const header = [
    "model",
    "params",
    "layers × width",
    "weights (MiB)",
    "WebGPU tok/s",
    "ORT tok/s",
    "test ppl",
    "scored tokens",
  ];
  const lines = [
    `| ${header.join(" | ")} |`,
    `| ${header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
  ];
  for (const r of rows) {
    lines.push(
      `| ${
        [
          r.model,
          `${(r.params / 1e6).toFixed(2)}M`,
          `${r.n_layer} × ${r.n_embd}`,
          (r.file_bytes / 2 ** 20).toFixed(1),
          r.webgpu_tokens_per_s.toFixed(0),
          r.onnx_tokens_per_s.toFixed(0),
          r.test_ppl.toFixed(2),
          String(r.test_tokens),
        ].join(" | ")
      } |`,
    );
  }
  return lines.join("\n");
}
