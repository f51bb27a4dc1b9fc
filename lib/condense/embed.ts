/**
 * Block embeddings from a language model: the mean over a block's T positions of the final hidden state
 * (Hugging Face's `hidden_states[L]`, the output of ln_f), from a GPT2 on WebGPU or an ONNX teacher.
 *
 * @module
 */
import { Activations, type GPT2 } from "../model/gpt2.ts";
import type { Teacher } from "../onnx/teacher.ts";

/** Progress callback: blocks done, blocks in all. */
export type BlockProgress = (done: number, total: number) => void;

/**
 * Mean over positions of hidden states: out[b, :] = (1/T) Σ_t hidden[b, t, :], summed in position order
 * in float64.
 *
 * @param out (B, C) written at rows [b0, b0 + B)
 * @param hidden (B, T, C)
 */
export function meanPool(
  out: Float32Array,
  b0: number,
  hidden: ArrayLike<number>,
  B: number,
  T: number,
  C: number,
): void {
  if (hidden.length < B * T * C) {
    throw new Error(`hidden holds ${hidden.length} floats, B·T·C = ${B * T * C}`);
  }
  const acc = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    acc.fill(0);
    for (let t = 0; t < T; t++) {
      const row = (b * T + t) * C;
      for (let c = 0; c < C; c++) acc[c] += hidden[row + c];
    }
    for (let c = 0; c < C; c++) out[(b0 + b) * C + c] = acc[c] / T;
  }
}

function checkBlocks(blocks: Uint32Array, T: number, batch: number): number {
  if (!Number.isInteger(T) || T < 1) throw new Error(`block size T must be a positive integer, got ${T}`);
  if (blocks.length === 0 || blocks.length % T !== 0) {
    throw new Error(`blocks hold ${blocks.length} ids, not a positive multiple of T = ${T}`);
  }
  if (!Number.isInteger(batch) || batch < 1) {
    throw new Error(`batch must be a positive integer, got ${batch}`);
  }
  return blocks.length / T;
}

/**
 * Mean-pooled final hidden states of every block under a GPT2 on the GPU, `batch` blocks per forward
 * pass (forwardHidden only: no logits are computed).
 *
 * @param blocks (n, T) token ids, each < the model's vocab_size
 * @returns (n, C)
 *
 * @example
 * ```ts
 * const emb = await modelEmbeddings(model, blocks, 128, 8); // (n, C)
 * ```
 */
export async function modelEmbeddings(
  model: GPT2,
  blocks: Uint32Array,
  T: number,
  batch: number,
  onProgress?: BlockProgress,
): Promise<Float32Array> {
  const n = checkBlocks(blocks, T, batch);
  const { gpu, config } = model;
  const C = config.n_embd;
  const V = config.vocab_size;
  for (let i = 0; i < blocks.length; i++) {
    if (blocks[i] >= V) throw new Error(`token id ${blocks[i]} is outside the model's vocabulary (${V})`);
  }
  const B = Math.min(batch, n);
  const acts = new Activations(gpu, config, B, T, false);
  const out = new Float32Array(n * C);
  for (let b0 = 0; b0 < n; b0 += B) {
    const Bn = Math.min(B, n - b0);
    gpu.write(acts.tokens, blocks.subarray(b0 * T, (b0 + Bn) * T));
    model.forwardHidden(acts, Bn, T);
    const hidden = await gpu.read(gpu.slice(model.hiddenState(acts, config.n_layer), 0, Bn * T * C));
    meanPool(out, b0, hidden, Bn, T, C);
    onProgress?.(b0 + Bn, n);
  }
  return out;
}

/**
 * Mean-pooled final hidden states of every block under an ONNX teacher opened with `needHidden` (its
 * last `hidden_states` output), `batch` blocks per run.
 *
 * @param blocks (n, T) token ids
 * @returns (n, C)
 */
export async function teacherEmbeddings(
  teacher: Teacher,
  blocks: Uint32Array,
  T: number,
  batch: number,
  onProgress?: BlockProgress,
): Promise<{ embeddings: Float32Array; C: number }> {
  const n = checkBlocks(blocks, T, batch);
  let out: Float32Array | null = null;
  let C = 0;
  for (let b0 = 0; b0 < n; b0 += batch) {
    const Bn = Math.min(batch, n - b0);
    const { hidden } = await teacher.run(blocks.slice(b0 * T, (b0 + Bn) * T), Bn, T);
    if (!hidden || hidden.length === 0) {
      throw new Error(`teacher ${teacher.info.path} returned no hidden states (open it with needHidden)`);
    }
    const last = hidden[hidden.length - 1];
    if (out === null) {
      C = last.length / (Bn * T);
      out = new Float32Array(n * C);
    }
    meanPool(out, b0, last, Bn, T, C);
    onProgress?.(b0 + Bn, n);
  }
  return { embeddings: out!, C };
}
