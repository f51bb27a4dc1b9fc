/**
 * Synthetic sequences sampled from a teacher and steered toward hard examples.
 *
 * Each sequence starts from the first P tokens of a real block (drawn without replacement by the seed,
 * so the synthetic set spreads over the corpus' topics) and continues with T − P sampled tokens. The
 * sampling distribution is flattened in two ways (both optional):
 * - temperature τ > 1: p_i ∝ exp(z_i / τ) moves mass from the teacher's favourite tokens to the tail;
 * - skip-top-1: at each position, with probability p, the teacher's most likely token (ties: the lower id)
 *   is excluded before sampling, so the sequence takes a turn the teacher did not expect.
 * Optionally only the top-k logits are kept (k > 0) so that the flattened distribution stays on plausible
 * tokens. τ = 0 means greedy (the best, or with a skip the second best, token).
 *
 * The mean teacher log-probability (at τ = 1, full vocabulary) of the sampled tokens is returned per
 * sequence: the steering's effect in one number (harder sequences have lower values).
 *
 * Sampling is deterministic for a seed and independent of the batch size: every sequence has its own
 * `Rng`.
 *
 * @module
 */
import { topKReduce } from "../onnx/teacher_cache.ts";
import { Rng } from "../rng.ts";
import type { LanguageModel } from "./lm.ts";

/** How the sampling distribution is flattened (see the module doc). */
export interface SteeringOptions {
  /** τ ≥ 0 (0 = greedy). */
  temperature: number;
  /** Probability p in [0, 1] of excluding the most likely token at a position. */
  skipTop1: number;
  /** Sample among the k most likely tokens only (0 = all). */
  topK: number;
}

/** Options of {@link generateSynthetic}. */
export interface SyntheticOptions extends SteeringOptions {
  /** Sequences to generate. */
  k: number;
  /** Tokens per sequence, prompt included. */
  T: number;
  /** P: prompt tokens taken from the start of a real block (1 ≤ P < T). */
  promptTokens: number;
  seed: number;
  /** Sequences decoded together. */
  batch: number;
}

/** What {@link generateSynthetic} returns. */
export interface SyntheticResult {
  /** (k, T) token ids, prompts included. */
  ids: Uint32Array;
  /** (k) the real block each prompt came from. */
  promptBlocks: number[];
  /** (k) mean teacher log-probability (τ = 1) of each sequence's sampled tokens. */
  meanLogProbs: number[];
}

/** The argmax of row[0 … V) (ties: lower id). */
function argmax(row: ArrayLike<number>, V: number): number {
  let best = 0;
  for (let i = 1; i < V; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** log softmax(row)[id] over the first V entries, in float64. */
export function logProbOf(row: ArrayLike<number>, V: number, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < V; i++) sum += Math.exp(row[i] - max);
  return row[id] - max - Math.log(sum);
}

/**
 * Draws one token from a logits row (the first V entries) with the steering of the module doc.
 *
 * @param logits (V)
 */
export function steeredSample(logits: Float32Array, V: number, opts: SteeringOptions, rng: Rng): number {
  const top = argmax(logits, V);
  const skip = opts.skipTop1 > 0 && V > 1 && rng.next() < opts.skipTop1;
  // Candidates: the top-k (ids by decreasing logit) or the whole vocabulary (ids = positions).
  const reduced = opts.topK > 0 && opts.topK < V ? topKReduce(logits.subarray(0, V), 1, V, opts.topK) : null;
  const z: ArrayLike<number> = reduced ? reduced.logits : logits;
  const n = reduced ? reduced.k : V;
  const idAt = (i: number) => (reduced ? reduced.indices[i] : i);
  const allowed = (i: number) => !(skip && idAt(i) === top) || n === 1;
  if (opts.temperature === 0) {
    let best = -1;
    for (let i = 0; i < n; i++) if (allowed(i) && (best < 0 || z[i] > z[best])) best = i;
    return idAt(best);
  }
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (allowed(i) && z[i] > max) max = z[i];
  const w = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (!allowed(i)) continue;
    w[i] = Math.exp((z[i] - max) / opts.temperature);
    total += w[i];
  }
  let u = rng.next() * total;
  let last = -1;
  for (let i = 0; i < n; i++) {
    if (w[i] === 0) continue;
    last = i;
    u -= w[i];
    if (u < 0) break;
  }
  return idAt(last);
}

/** Checks steering options; throws a one-line Error. */
export function checkSteering(opts: SteeringOptions): void {
  if (!(opts.temperature >= 0) || !Number.isFinite(opts.temperature)) {
    throw new Error(`temperature must be ≥ 0, got ${opts.temperature}`);
  }
  if (!(opts.skipTop1 >= 0 && opts.skipTop1 <= 1)) {
    throw new Error(`skip-top-1 probability must be in [0, 1], got ${opts.skipTop1}`);
  }
  if (!Number.isInteger(opts.topK) || opts.topK < 0) {
    throw new Error(`top-k must be an integer ≥ 0, got ${opts.topK}`);
  }
}

/**
 * Generates k steered sequences of T tokens with a teacher (see the module doc). `onProgress` counts
 * sampled tokens.
 *
 * @param blocks (nBlocks, T') real blocks whose first P tokens seed the prompts (T' ≥ P)
 * @param blockT T' of `blocks`
 *
 * @example
 * ```ts
 * const { ids } = await generateSynthetic(lm, blocks, 128, {
 *   k: 120, T: 128, promptTokens: 1, seed: 0, batch: 16, temperature: 1.5, skipTop1: 0.25, topK: 0,
 * });
 * ```
 */
export async function generateSynthetic(
  lm: LanguageModel,
  blocks: Uint32Array,
  blockT: number,
  opts: SyntheticOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<SyntheticResult> {
  const { k, T, promptTokens: P, batch } = opts;
  checkSteering(opts);
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
  if (!Number.isInteger(P) || P < 1 || P >= T) {
    throw new Error(`prompt tokens must be in 1 … T−1 = ${T - 1}, got ${P}`);
  }
  if (P > blockT) throw new Error(`prompt tokens (${P}) exceed the block length ${blockT}`);
  if (lm.maxPositions !== null && T > lm.maxPositions) {
    throw new Error(`sequence length ${T} exceeds the teacher's n_positions ${lm.maxPositions}`);
  }
  const nBlocks = Math.floor(blocks.length / blockT);
  if (nBlocks < 1) throw new Error("no real blocks to take prompts from");
  const V = lm.vocabSize;
  // Prompt blocks: a seeded permutation, repeated when k exceeds the number of blocks.
  const order = Uint32Array.from({ length: nBlocks }, (_, i) => i);
  new Rng(opts.seed).shuffle(order);
  const promptBlocks = Array.from({ length: k }, (_, j) => order[j % nBlocks]);
  const ids = new Uint32Array(k * T);
  const meanLogProbs = new Array<number>(k).fill(0);
  for (let s0 = 0; s0 < k; s0 += batch) {
    const B = Math.min(batch, k - s0);
    const rngs = Array.from({ length: B }, (_, b) => new Rng(sequenceSeed(opts.seed, s0 + b)));
    const prompts = new Uint32Array(B * P);
    for (let b = 0; b < B; b++) {
      const src = promptBlocks[s0 + b] * blockT;
      prompts.set(blocks.subarray(src, src + P), b * P);
      ids.set(blocks.subarray(src, src + P), (s0 + b) * T);
    }
    let logits = await lm.begin(prompts, B, P, T);
    const chosen = new Uint32Array(B);
    for (let t = P; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const row = logits.subarray(b * V, (b + 1) * V);
        const id = steeredSample(row, V, opts, rngs[b]);
        chosen[b] = id;
        ids[(s0 + b) * T + t] = id;
        meanLogProbs[s0 + b] += logProbOf(row, V, id) / (T - P);
      }
      if (t < T - 1) logits = await lm.next(chosen);
      onProgress?.(s0 * (T - P) + B * (t - P + 1), k * (T - P));
    }
  }
  return { ids, promptBlocks, meanLogProbs };
}

/** Seed of sequence j's sampler: mixed so that consecutive sequences get unrelated streams. */
function sequenceSeed(seed: number, j: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(j + 1, 0x85ebca6b)) >>> 0;
}
