/**
 * Dataset condensation: from a corpus cut into T-token blocks to k weighted training examples, written as
 * JSON Lines (format in output.ts).
 *
 * Methods:
 * - `kmeans`: embed every block (`tfidf`: TF-IDF + random projection, tfidf.ts; `model`: mean final
 *   hidden state under a GPT2 model directory on WebGPU; `teacher`: the same under an ONNX teacher's
 *   hidden.onnx), cluster into k (kmeans.ts) and keep the real block nearest each centroid, weighted by
 *   its cluster's size.
 * - `random`: k distinct blocks drawn by the seed, listed in block order, each of weight nBlocks / k (so
 *   that, as for kmeans, the weights sum to the number of blocks).
 * - `synthetic`: k sequences sampled from a teacher (`--model` on WebGPU with a KV cache, else the ONNX
 *   `--teacher`), steered toward hard examples (synthetic.ts); weight nBlocks / k.
 * - `dm`: k sequences learned as input embeddings by distribution matching (dm.ts) in the embedding
 *   space of `--model` (or of a seeded random init of a preset); stored with their nearest tokens;
 *   weight nBlocks / k.
 * With `softTargets` = N > 0, every example also carries the teacher's top-N logits per position (the
 *   ONNX teacher when given, else the model directory).
 *
 * Bad input (k larger than the number of blocks, an empty corpus, a missing model or teacher, a
 * vocabulary mismatch between tokenizer, model and teacher) fails with a one-line Error before any
 * embedding, clustering or generation starts. The same options give a byte-identical OUT.
 *
 * @module
 */
import { loadBlocks } from "../data/dataset.ts";
import type { Split } from "../data/text.ts";
import { loadTokenizerFor, type Tokenizer } from "../data/tokenizer.ts";
import { Gpu } from "../gpu/runtime.ts";
import { type GPT2Config, type PresetName, PRESETS } from "../model/config.ts";
import { GPT2 } from "../model/gpt2.ts";
import { loadModelDir, type ModelDir } from "../model/model_dir.ts";
import { initParams, paramLayout } from "../model/params.ts";
import { OnnxTeacher } from "../onnx/teacher.ts";
import type { TopKLogits } from "../onnx/teacher_cache.ts";
import { Rng } from "../rng.ts";
import { distributionMatching, type DmReference } from "./dm.ts";
import { modelEmbeddings, teacherEmbeddings } from "./embed.ts";
import { clusterBlocks } from "./kmeans.ts";
import { GpuLanguageModel, type LanguageModel, OnnxLanguageModel } from "./lm.ts";
import { baseName, type CondensedExample, type CondenseMeta, embedsPath, writeCondensed } from "./output.ts";
import { checkSteering, generateSynthetic } from "./synthetic.ts";
import { TFIDF_DIMS, tfidfEmbeddings } from "./tfidf.ts";

/** Condensation methods. */
export const METHODS = ["kmeans", "random", "synthetic", "dm"] as const;
/** A condensation method. */
export type CondenseMethod = typeof METHODS[number];
/** Block embeddings for kmeans. */
export const EMBEDDINGS = ["tfidf", "model", "teacher"] as const;
/** A block embedding. */
export type EmbedKind = typeof EMBEDDINGS[number];

/** Everything `condense` needs; see the task's --help for the meaning of each. */
export interface CondenseOptions {
  data: string;
  split: Split;
  k: number;
  method: CondenseMethod;
  embed: EmbedKind;
  seed: number;
  /** T: tokens per block. */
  seq: number;
  out: string;
  /** ONNX teacher: an .onnx file or a model folder with onnx/. */
  teacher?: string;
  /** Model directory (config.json + model.safetensors) run on WebGPU. */
  model?: string;
  /** Top-N teacher logits per position (0 = none). */
  softTargets: number;
  /** D of the TF-IDF projection. */
  tfidfDims: number;
  /** Most Lloyd iterations. */
  kmeansIterations: number;
  /** Sequences per forward pass / decoding batch. */
  batch: number;
  /** Token cache folder (null: the default). */
  cacheDir: string | null;
  temperature: number;
  skipTop1: number;
  topK: number;
  promptTokens: number;
  dmIterations: number;
  dmLr: number;
  dmRealBatch: number;
  dmSynBatch: number;
  dmInits: number;
  /** Network shape for dm without --model. */
  dmConfig: PresetName;
  /** A device to use (tests); created when needed otherwise. */
  gpu?: Gpu;
  /** Status lines (default: none). */
  log?: (line: string) => void;
  /** Progress of a long phase. */
  progress?: (label: string, done: number, total: number, extra?: Record<string, number>) => void;
}

/** Settings with their defaults, for callers that give only some. */
export const CONDENSE_DEFAULTS = {
  split: "train" as Split,
  k: 120,
  method: "kmeans" as CondenseMethod,
  embed: "tfidf" as EmbedKind,
  seed: 0,
  seq: 128,
  softTargets: 0,
  tfidfDims: TFIDF_DIMS,
  kmeansIterations: 100,
  batch: 8,
  cacheDir: null,
  temperature: 1.5,
  skipTop1: 0.25,
  topK: 0,
  promptTokens: 1,
  dmIterations: 100,
  dmLr: 1e-3,
  dmRealBatch: 16,
  dmSynBatch: 16,
  dmInits: 0,
  dmConfig: "tiny" as PresetName,
} satisfies Partial<CondenseOptions>;

/** What `condense` did. */
export interface CondenseSummary {
  out: string;
  examples: number;
  nBlocks: number;
  meta: CondenseMeta;
}

/** Milliseconds since `t0`, rounded to 0.1. */
function since(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}

/**
 * Checks the options that need no files: numbers, choices and which of --model/--teacher each method
 * needs. Throws a one-line Error.
 */
export function checkCondenseOptions(o: CondenseOptions): void {
  const int = (name: string, x: number, min: number) => {
    if (!Number.isInteger(x) || x < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${x}`);
  };
  if (!METHODS.includes(o.method)) {
    throw new Error(`unknown method "${o.method}" (expected ${METHODS.join(", ")})`);
  }
  if (!EMBEDDINGS.includes(o.embed)) {
    throw new Error(`unknown embedding "${o.embed}" (expected ${EMBEDDINGS.join(", ")})`);
  }
  int("k", o.k, 1);
  int("seq", o.seq, 2);
  int("seed", o.seed, 0);
  int("soft-targets", o.softTargets, 0);
  int("tfidf-dims", o.tfidfDims, 1);
  int("kmeans-iterations", o.kmeansIterations, 1);
  int("batch", o.batch, 1);
  if (!o.out) throw new Error("an output file is required (--out FILE)");
  if (o.method === "kmeans" && o.embed === "model" && !o.model) {
    throw new Error("--embed model needs --model DIR (a model directory to embed the blocks with)");
  }
  if (o.method === "kmeans" && o.embed === "teacher" && !o.teacher) {
    throw new Error("--embed teacher needs --teacher PATH (an ONNX teacher exported with --hidden)");
  }
  if (o.method === "synthetic") {
    if (!o.model && !o.teacher) {
      throw new Error("--method synthetic needs a teacher: --model DIR or --teacher PATH");
    }
    checkSteering(o);
    if (!Number.isInteger(o.promptTokens) || o.promptTokens < 1 || o.promptTokens >= o.seq) {
      throw new Error(`prompt-tokens must be in 1 … seq−1 = ${o.seq - 1}, got ${o.promptTokens}`);
    }
  }
  if (o.softTargets > 0 && !o.model && !o.teacher) {
    throw new Error("--soft-targets needs a teacher: --teacher PATH or --model DIR");
  }
  if (o.method === "dm") {
    int("dm-iterations", o.dmIterations, 0);
    int("dm-real-batch", o.dmRealBatch, 1);
    int("dm-syn-batch", o.dmSynBatch, 1);
    int("dm-inits", o.dmInits, 0);
    if (!(o.dmLr > 0)) throw new Error(`dm-lr must be > 0, got ${o.dmLr}`);
    if (!o.model && !(o.dmConfig in PRESETS)) {
      throw new Error(`unknown dm-config "${o.dmConfig}" (expected ${Object.keys(PRESETS).join(", ")})`);
    }
  }
}

/** Whether the teacher path is a folder (its tokenizer then comes from there). */
async function isDirectory(path: string): Promise<boolean> {
  return (await Deno.stat(path).catch(() => null))?.isDirectory ?? false;
}

/** The tokenizer: the model directory's, else the teacher folder's, else GPT-2's. */
async function chooseTokenizer(o: CondenseOptions): Promise<Tokenizer> {
  if (o.model) return await loadTokenizerFor(o.model);
  if (o.teacher && await isDirectory(o.teacher)) return await loadTokenizerFor(o.teacher);
  return await loadTokenizerFor(null);
}

/** Runs a condensation and writes OUT (see the module doc). */
export async function condense(o: CondenseOptions): Promise<CondenseSummary> {
  const tStart = performance.now();
  const log = o.log ?? (() => {});
  checkCondenseOptions(o);
  const timings: Record<string, number> = {};

  // Everything that can be wrong with the inputs is checked before the work starts.
  let t0 = performance.now();
  const tokenizer = await chooseTokenizer(o);
  let modelDir: ModelDir | null = null;
  if (o.model) {
    modelDir = await loadModelDir(o.model);
    const V = modelDir.config.vocab_size;
    if (V !== tokenizer.vocabSize) {
      throw new Error(
        `vocabulary mismatch: the model ${o.model} has V = ${V}, its tokenizer ${tokenizer.vocabSize}`,
      );
    }
    if (o.seq > modelDir.config.n_positions) {
      throw new Error(`--seq ${o.seq} exceeds the model's n_positions ${modelDir.config.n_positions}`);
    }
  } else if (o.method === "dm" && o.seq > PRESETS[o.dmConfig].n_positions) {
    throw new Error(
      `--seq ${o.seq} exceeds the n_positions ${
        PRESETS[o.dmConfig].n_positions
      } of --dm-config ${o.dmConfig}`,
    );
  }
  const blocks = await loadBlocks(o.data, o.split, tokenizer, o.seq, o.cacheDir);
  const T = o.seq;
  const nBlocks = blocks.length / T;
  if (o.k > nBlocks) {
    throw new Error(`k = ${o.k} is larger than the number of ${T}-token blocks in ${o.data} (${nBlocks})`);
  }
  // A given teacher is always opened, so that a mismatch is reported even where it would be used late.
  const needTeacher = o.teacher !== undefined;
  const teacher = needTeacher
    ? await OnnxTeacher.open(o.teacher!, {
      vocabSize: tokenizer.vocabSize,
      seq: T,
      needHidden: o.method === "kmeans" && o.embed === "teacher",
    })
    : null;
  timings.load_ms = since(t0);
  log(
    `${nBlocks} blocks of ${T} tokens from ${o.data} (${tokenizer.name} tokenizer, V = ${tokenizer.vocabSize})`,
  );

  let ownGpu: Gpu | null = null;
  try {
    // The model directory runs on the GPU when it embeds, generates or gives soft targets; dm always
    // needs the GPU (its random networks).
    const modelOnGpu = modelDir !== null &&
      ((o.method === "kmeans" && o.embed === "model") || o.method === "synthetic" ||
        (o.softTargets > 0 && !teacher));
    const needGpu = modelOnGpu || o.method === "dm";
    ownGpu = needGpu && !o.gpu ? await Gpu.create() : null;
    const gpu = needGpu ? (o.gpu ?? ownGpu) : null;
    const gpuModel = modelOnGpu
      ? new GPT2(gpu!, modelDir!.config, modelDir!.params, { training: false })
      : null;
    const modelLm = gpuModel ? new GpuLanguageModel(gpuModel, `webgpu:${o.model}`, o.batch) : null;
    const teacherLm = teacher ? new OnnxLanguageModel(teacher, o.batch) : null;

    const examples: CondensedExample[] = [];
    const info: Record<string, unknown> = {};
    let embeds: Float32Array | null = null;
    const share = nBlocks / o.k;
    const fromBlock = (b: number, weight: number): CondensedExample => {
      const ids = blocks.subarray(b * T, (b + 1) * T);
      return { text: tokenizer.decode(ids), ids, source: b, weight };
    };

    if (o.method === "kmeans") {
      t0 = performance.now();
      const progress = (done: number, total: number) => o.progress?.("embed", done, total);
      let emb: Float32Array;
      let D: number;
      if (o.embed === "tfidf") {
        emb = tfidfEmbeddings(blocks, T, { dims: o.tfidfDims });
        D = o.tfidfDims;
      } else if (o.embed === "model") {
        emb = await modelEmbeddings(gpuModel!, blocks, T, o.batch, progress);
        D = modelDir!.config.n_embd;
      } else {
        const r = await teacherEmbeddings(teacher!, blocks, T, o.batch, progress);
        emb = r.embeddings;
        D = r.C;
      }
      timings.embed_ms = since(t0);
      log(`embedded ${nBlocks} blocks (${o.embed}, ${D} dims) in ${(timings.embed_ms / 1000).toFixed(2)} s`);
      t0 = performance.now();
      const c = clusterBlocks(emb, nBlocks, D, o.k, { seed: o.seed, maxIterations: o.kmeansIterations });
      timings.cluster_ms = since(t0);
      log(
        `clustered into k = ${o.k} in ${
          (timings.cluster_ms / 1000).toFixed(2)
        } s (${c.iterations} iterations, ` +
          `${c.converged ? "converged" : "not converged"})`,
      );
      c.representatives.forEach((b, j) => examples.push(fromBlock(b, c.weights[j])));
      info.kmeans = {
        embed: o.embed,
        dims: D,
        iterations: c.iterations,
        converged: c.converged,
        max_iterations: o.kmeansIterations,
        inertia: c.inertia,
        cluster_sizes: { min: Math.min(...c.weights), max: Math.max(...c.weights) },
        ...(o.embed === "tfidf" ? { tfidf: { dims: o.tfidfDims, projection_seed: 0 } } : {}),
      };
    } else if (o.method === "random") {
      const order = Uint32Array.from({ length: nBlocks }, (_, i) => i);
      new Rng(o.seed).shuffle(order);
      const chosen = Array.from(order.subarray(0, o.k)).sort((a, b) => a - b);
      for (const b of chosen) examples.push(fromBlock(b, share));
    } else if (o.method === "synthetic") {
      t0 = performance.now();
      const lm: LanguageModel = modelLm ?? teacherLm!;
      const r = await generateSynthetic(lm, blocks, T, {
        k: o.k,
        T,
        promptTokens: o.promptTokens,
        seed: o.seed,
        batch: o.batch,
        temperature: o.temperature,
        skipTop1: o.skipTop1,
        topK: o.topK,
      }, (done, total) => o.progress?.("generate", done, total));
      timings.generate_ms = since(t0);
      const mean = r.meanLogProbs.reduce((a, b) => a + b, 0) / o.k;
      log(`generated ${o.k} sequences with ${lm.name} in ${(timings.generate_ms / 1000).toFixed(2)} s`);
      for (let j = 0; j < o.k; j++) {
        const ids = r.ids.subarray(j * T, (j + 1) * T);
        examples.push({
          text: tokenizer.decode(ids),
          ids,
          source: "synthetic",
          weight: share,
          promptBlock: r.promptBlocks[j],
          meanLogProb: r.meanLogProbs[j],
        });
      }
      info.synthetic = {
        teacher: lm.name,
        temperature: o.temperature,
        skip_top1: o.skipTop1,
        top_k: o.topK,
        prompt_tokens: o.promptTokens,
        mean_logprob: mean,
      };
    } else {
      t0 = performance.now();
      const { ref, description } = dmReference(o, modelDir, tokenizer.vocabSize);
      const r = await distributionMatching(gpu!, blocks, ref, {
        k: o.k,
        T,
        seed: o.seed,
        iterations: o.dmIterations,
        lr: o.dmLr,
        realBatch: o.dmRealBatch,
        synBatch: o.dmSynBatch,
        inits: o.dmInits,
      }, (done, total, loss) => o.progress?.("dm", done, total, { loss }));
      timings.dm_ms = since(t0);
      timings.dm_iterations_ms = r.timings.iterations_ms;
      timings.dm_nearest_ms = r.timings.nearest_ms;
      const C = ref.config.n_embd;
      embeds = r.embeds;
      const file = baseName(embedsPath(o.out));
      for (let j = 0; j < o.k; j++) {
        const ids = r.nearest.subarray(j * T, (j + 1) * T);
        examples.push({
          text: tokenizer.decode(ids),
          ids,
          source: "synthetic",
          weight: share,
          initBlock: r.initBlocks[j],
          embeds: { file, offset: j * T * C * 4, shape: [T, C] },
        });
      }
      const window = Math.max(1, Math.min(10, Math.floor(r.losses.length / 4)));
      const avg = (xs: number[]) => xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
      info.dm = {
        reference: description,
        n_embd: C,
        n_layer: ref.config.n_layer,
        n_head: ref.config.n_head,
        iterations: o.dmIterations,
        lr: o.dmLr,
        real_batch: Math.min(o.dmRealBatch, nBlocks),
        syn_batch: Math.min(o.dmSynBatch, o.k),
        inits: o.dmInits,
        loss_first: avg(r.losses.slice(0, window)),
        loss_last: avg(r.losses.slice(-window)),
        embeds_file: file,
        embeds_shape: [o.k, T, C],
        embeds_space: "token embeddings (wte rows); position embeddings are added by the network",
      };
      log(
        `distribution matching: ${o.dmIterations} iterations in ${(timings.dm_ms / 1000).toFixed(2)} s, ` +
          `loss ${fmt(info.dm as Record<string, unknown>, "loss_first")} → ${
            fmt(info.dm as Record<string, unknown>, "loss_last")
          }`,
      );
    }

    if (o.softTargets > 0) {
      t0 = performance.now();
      const lm: LanguageModel = teacherLm ?? modelLm!;
      const ids = new Uint32Array(o.k * T);
      examples.forEach((e, j) => ids.set(e.ids, j * T));
      const top: TopKLogits = await lm.topK(ids, o.k, T, o.softTargets);
      const per = T * o.softTargets;
      examples.forEach((e, j) => {
        e.soft = {
          k: o.softTargets,
          indices: top.indices.subarray(j * per, (j + 1) * per),
          logits: top.logits.subarray(j * per, (j + 1) * per),
        };
      });
      timings.soft_targets_ms = since(t0);
      info.soft_targets = { k: o.softTargets, teacher: lm.name };
    }

    timings.total_ms = since(tStart);
    const meta: CondenseMeta = {
      format: "gpt2-condensed",
      version: 1,
      method: o.method,
      k: o.k,
      seq: T,
      seed: o.seed,
      data: o.data,
      split: o.split,
      n_blocks: nBlocks,
      tokenizer: tokenizer.name,
      vocab_size: tokenizer.vocabSize,
      model: o.model ?? null,
      teacher: o.teacher ?? null,
      examples_file: baseName(o.out),
      weights_sum: examples.reduce((a, e) => a + e.weight, 0),
      ...info,
      timings,
    };
    await writeCondensed(o.out, examples, meta, embeds);
    return { out: o.out, examples: examples.length, nBlocks, meta };
  } finally {
    teacher?.close();
    ownGpu?.destroy();
  }
}

function fmt(o: Record<string, unknown>, key: string): string {
  const x = o[key];
  return typeof x === "number" ? x.toPrecision(4) : "n/a";
}

/** The embedding space for dm: the model directory's, or a seeded random init of a preset. */
function dmReference(
  o: CondenseOptions,
  modelDir: ModelDir | null,
  V: number,
): { ref: DmReference; description: string } {
  let config: GPT2Config;
  let params: Float32Array;
  let description: string;
  if (modelDir) {
    config = modelDir.config;
    params = modelDir.params;
    description = `model ${o.model}`;
  } else {
    config = { ...PRESETS[o.dmConfig], vocab_size: V };
    params = initParams(config, paramLayout(config), o.seed);
    description = `random init of preset ${o.dmConfig} (seed ${o.seed}, initParams)`;
  }
  const layout = paramLayout(config);
  const wte = layout.byName.get("wte.weight")!;
  const wpe = layout.byName.get("wpe.weight")!;
  return {
    ref: {
      config,
      wte: params.subarray(wte.offset, wte.offset + wte.size),
      wpe: params.subarray(wpe.offset, wpe.offset + wpe.size),
    },
    description,
  };
}
