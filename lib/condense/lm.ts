/**
 * A language model as condensation needs it, over two engines: a GPT2 on WebGPU (incremental decoding
 * with a KV cache) and an ONNX teacher (onnxruntime-node; it has no cache interface here, so every
 * decoding step reruns the whole prefix: O(T²) per sequence, fine for short T and small models).
 *
 * @module
 */
import { matmul } from "../ops/matmul.ts";
import { type Gpu, type RowPart, rowParts, type View } from "../gpu/runtime.ts";
import { Activations, type GPT2, KVCache } from "../model/gpt2.ts";
import { paddedVocab } from "../model/config.ts";
import type { Teacher } from "../onnx/teacher.ts";
import { type TopKLogits, topKReduce } from "../onnx/teacher_cache.ts";

/** Next-token logits and per-position top-k logits of a causal LM. */
export interface LanguageModel {
  /** V: columns of every logits row. */
  readonly vocabSize: number;
  /** Longest sequence the model accepts (n_positions), or null when unknown. */
  readonly maxPositions: number | null;
  /** What the model is, for the sidecar ("webgpu:DIR", "onnx:FILE"). */
  readonly name: string;
  /**
   * The top-k logits of every position of n sequences (n, T): position t's row is the distribution of
   * token t+1 given tokens 0 … t.
   */
  topK(ids: Uint32Array, n: number, T: number, k: number): Promise<TopKLogits>;
  /**
   * Starts decoding B sequences from prompts (B, P), to grow to at most `maxT` tokens. Returns the
   * next-token logits (B, V).
   */
  begin(prompts: Uint32Array, B: number, P: number, maxT: number): Promise<Float32Array>;
  /** Appends one token per sequence (B); returns the next-token logits (B, V). */
  next(tokens: Uint32Array): Promise<Float32Array>;
}

/** Rows (rows, Vp) → (rows, V): drops the padding columns. */
function compact(padded: Float32Array, rows: number, V: number, Vp: number): Float32Array {
  if (V === Vp) return padded.slice(0, rows * V);
  const out = new Float32Array(rows * V);
  for (let r = 0; r < rows; r++) out.set(padded.subarray(r * Vp, r * Vp + V), r * V);
  return out;
}

/** The columns [part.row0, part.row0 + part.rows) of a (rows, Vp) logits block, as a view at that column. */
function columns(gpu: Gpu, logits: View, rows: number, Vp: number, part: RowPart): View {
  return gpu.slice(logits, part.row0, (rows - 1) * Vp + part.rows);
}

/**
 * out (rows, Vp) = a (rows, C) · wteᵀ over the row parts of a (V, C) table: the tied LM head, or
 * similarity scores against a token embedding table.
 */
export function projectOntoTable(
  gpu: Gpu,
  out: View,
  a: View,
  wte: RowPart[],
  rows: number,
  Vp: number,
  C: number,
): void {
  for (const part of wte) {
    matmul(gpu, {
      out: columns(gpu, out, rows, Vp, part),
      a,
      b: part.view,
      M: rows,
      N: part.rows,
      K: C,
      transB: true,
      ldOut: Vp,
    });
  }
}

/** A GPT2 on WebGPU as a {@link LanguageModel}, `batch` sequences per forward pass for `topK`. */
export class GpuLanguageModel implements LanguageModel {
  readonly vocabSize: number;
  readonly maxPositions: number;
  readonly name: string;
  #model: GPT2;
  #batch: number;
  #decode: { acts: Activations; cache: KVCache; B: number; pos: number } | null = null;

  constructor(model: GPT2, name: string, batch = 8) {
    this.#model = model;
    this.#batch = batch;
    this.vocabSize = model.config.vocab_size;
    this.maxPositions = model.config.n_positions;
    this.name = name;
  }

  async topK(ids: Uint32Array, n: number, T: number, k: number): Promise<TopKLogits> {
    const model = this.#model;
    const { gpu, config } = model;
    const V = config.vocab_size;
    const Vp = model.Vp;
    const C = config.n_embd;
    if (ids.length !== n * T) throw new Error(`ids hold ${ids.length} tokens, not n·T = ${n}×${T}`);
    const B = Math.min(this.#batch, n);
    const acts = new Activations(gpu, config, B, T, false);
    const out: TopKLogits = { k, indices: new Uint32Array(n * T * k), logits: new Float32Array(n * T * k) };
    for (let b0 = 0; b0 < n; b0 += B) {
      const Bn = Math.min(B, n - b0);
      gpu.write(acts.tokens, ids.subarray(b0 * T, (b0 + Bn) * T));
      model.forwardHidden(acts, Bn, T);
      const N = Bn * T;
      for (let r0 = 0; r0 < N; r0 += acts.chunkRows) {
        const rows = Math.min(acts.chunkRows, N - r0);
        const logits = gpu.slice(acts.logits, 0, rows * Vp);
        projectOntoTable(gpu, logits, gpu.slice(acts.lnf, r0 * C, rows * C), model.p.wte, rows, Vp, C);
        const top = topKReduce(compact(await gpu.read(logits), rows, V, Vp), rows, V, k);
        const at = (b0 * T + r0) * k;
        out.indices.set(top.indices, at);
        out.logits.set(top.logits, at);
      }
    }
    return out;
  }

  async begin(prompts: Uint32Array, B: number, P: number, maxT: number): Promise<Float32Array> {
    const model = this.#model;
    const { gpu, config } = model;
    if (prompts.length !== B * P) throw new Error(`prompts hold ${prompts.length} ids, not B·P = ${B}×${P}`);
    const acts = new Activations(gpu, config, B, P, false);
    const cache = new KVCache(gpu, config, B, maxT);
    this.#decode = { acts, cache, B, pos: P };
    model.setBatch(acts, prompts, null);
    const logits = await gpu.read(model.decode(acts, cache, B, P, 0));
    return compact(logits, B, config.vocab_size, model.Vp);
  }

  async next(tokens: Uint32Array): Promise<Float32Array> {
    const d = this.#decode;
    if (d === null) throw new Error("next() before begin()");
    const model = this.#model;
    if (tokens.length !== d.B) {
      throw new Error(`next() takes one token per sequence (${d.B}), got ${tokens.length}`);
    }
    model.setBatch(d.acts, tokens, null);
    const logits = await model.gpu.read(model.decode(d.acts, d.cache, d.B, 1, d.pos));
    d.pos++;
    return compact(logits, d.B, model.config.vocab_size, model.Vp);
  }
}

/** An ONNX teacher as a {@link LanguageModel}, `batch` sequences per run for `topK`. */
export class OnnxLanguageModel implements LanguageModel {
  readonly vocabSize: number;
  readonly maxPositions: number | null;
  readonly name: string;
  #teacher: Teacher;
  #batch: number;
  #prefix: { ids: number[][]; B: number } | null = null;

  constructor(teacher: Teacher, batch = 8) {
    this.#teacher = teacher;
    this.#batch = batch;
    this.vocabSize = teacher.info.vocabSize;
    this.maxPositions = teacher.info.nPositions;
    this.name = `onnx:${teacher.info.path}`;
  }

  async topK(ids: Uint32Array, n: number, T: number, k: number): Promise<TopKLogits> {
    if (ids.length !== n * T) throw new Error(`ids hold ${ids.length} tokens, not n·T = ${n}×${T}`);
    const V = this.vocabSize;
    const out: TopKLogits = { k, indices: new Uint32Array(n * T * k), logits: new Float32Array(n * T * k) };
    for (let b0 = 0; b0 < n; b0 += this.#batch) {
      const Bn = Math.min(this.#batch, n - b0);
      const { logits } = await this.#teacher.run(ids.slice(b0 * T, (b0 + Bn) * T), Bn, T);
      const top = topKReduce(logits, Bn * T, V, k);
      out.indices.set(top.indices, b0 * T * k);
      out.logits.set(top.logits, b0 * T * k);
    }
    return out;
  }

  begin(prompts: Uint32Array, B: number, P: number, _maxT: number): Promise<Float32Array> {
    if (prompts.length !== B * P) throw new Error(`prompts hold ${prompts.length} ids, not B·P = ${B}×${P}`);
    this.#prefix = {
      ids: Array.from({ length: B }, (_, b) => Array.from(prompts.subarray(b * P, (b + 1) * P))),
      B,
    };
    return this.#lastLogits();
  }

  next(tokens: Uint32Array): Promise<Float32Array> {
    const p = this.#prefix;
    if (p === null) throw new Error("next() before begin()");
    if (tokens.length !== p.B) {
      throw new Error(`next() takes one token per sequence (${p.B}), got ${tokens.length}`);
    }
    p.ids.forEach((row, b) => row.push(tokens[b]));
    return this.#lastLogits();
  }

  async #lastLogits(): Promise<Float32Array> {
    const { ids, B } = this.#prefix!;
    const t = ids[0].length;
    const V = this.vocabSize;
    const { logits } = await this.#teacher.run(Uint32Array.from(ids.flat()), B, t);
    const out = new Float32Array(B * V);
    for (let b = 0; b < B; b++) out.set(logits.subarray((b * t + t - 1) * V, (b * t + t) * V), b * V);
    return out;
  }
}

/**
 * For each of n vectors (n, C), the id of the nearest row (Euclidean) of a token embedding table
 * wte (V, C): argmax_v (e·w_v − ‖w_v‖²/2), ties to the lower id. The products run on the GPU in row
 * chunks of at most 64 MiB of scores.
 *
 * @param vectors (n, C)
 * @param wte (V, C)
 * @returns (n)
 */
export async function nearestTokens(
  gpu: Gpu,
  vectors: Float32Array,
  n: number,
  wte: Float32Array,
  V: number,
  C: number,
): Promise<Uint32Array> {
  if (vectors.length !== n * C) throw new Error(`vectors hold ${vectors.length} floats, not n·C = ${n}×${C}`);
  if (wte.length < V * C) throw new Error(`wte holds ${wte.length} floats, V·C = ${V * C} needed`);
  const Vp = paddedVocab(V);
  const halfNorm = new Float64Array(V);
  for (let v = 0; v < V; v++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += wte[v * C + c] * wte[v * C + c];
    halfNorm[v] = s / 2;
  }
  const table = gpu.tensor(V * C, "nearest wte");
  gpu.write(table, wte.subarray(0, V * C));
  const parts = rowParts(gpu, table, V, C);
  const chunk = Math.max(1, Math.min(n, Math.floor((64 * 2 ** 20) / (Vp * 4))));
  const rowsView = gpu.tensor(chunk * C, "nearest rows");
  const scores = gpu.tensor(chunk * Vp, "nearest scores");
  const out = new Uint32Array(n);
  for (let r0 = 0; r0 < n; r0 += chunk) {
    const rows = Math.min(chunk, n - r0);
    gpu.write(rowsView, vectors.subarray(r0 * C, (r0 + rows) * C));
    projectOntoTable(gpu, scores, gpu.slice(rowsView, 0, rows * C), parts, rows, Vp, C);
    const s = await gpu.read(gpu.slice(scores, 0, rows * Vp));
    for (let r = 0; r < rows; r++) {
      let best = 0;
      let bestScore = -Infinity;
      for (let v = 0; v < V; v++) {
        const score = s[r * Vp + v] - halfNorm[v];
        if (score > bestScore) {
          bestScore = score;
          best = v;
        }
      }
      out[r0 + r] = best;
    }
  }
  table.buffer.destroy();
  rowsView.buffer.destroy();
  scores.buffer.destroy();
  return out;
}
