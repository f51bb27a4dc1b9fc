/**
 * Perplexity of a fixed-length model over a long token stream, exactly as Hugging Face documents it
 * ("Perplexity of fixed-length models"): windows of `seq` tokens advance by `stride`; in each window only
 * the tokens not scored by an earlier window are scored (the rest is context), and since labels are
 * shifted inside the model, a window's first token is never a prediction target. The result is the mean
 * negative log-likelihood per scored token and its exponential.
 *
 * @module
 */
import type { Activations, GPT2 } from "../model/gpt2.ts";

/** One window: tokens [begin, end) of the stream, scoring predictions of tokens [scoreFrom, end). */
export interface Window {
  begin: number;
  end: number;
  scoreFrom: number;
}

/** The windows HF's loop visits: `for begin in range(0, n, stride)`, stopping once the end is reached. */
export function slidingWindows(n: number, seq: number, stride: number): Window[] {
  if (seq < 2) throw new Error(`--seq must be at least 2, got ${seq}`);
  if (stride < 1 || stride > seq) throw new Error(`--stride must be in [1, ${seq}], got ${stride}`);
  const windows: Window[] = [];
  let prevEnd = 0;
  for (let begin = 0; begin < n; begin += stride) {
    const end = Math.min(begin + seq, n);
    const trgLen = end - prevEnd;
    // Labels before end − trgLen are −100; the shift makes position `begin` unscorable.
    windows.push({ begin, end, scoreFrom: Math.max(begin + 1, end - trgLen) });
    prevEnd = end;
    if (end === n) break;
  }
  return windows;
}

/** Perplexity result. */
export interface PerplexityResult {
  /** Mean negative log-likelihood per scored token (nats). */
  nll: number;
  ppl: number;
  /** Scored tokens. */
  tokens: number;
  windows: number;
}

/**
 * Sliding-window perplexity of `model` on `ids`. Windows of full length run `acts.B` at a time; the
 * shorter final window runs alone. `onProgress(done, total)` is called after each batch of windows.
 */
export async function perplexity(
  model: GPT2,
  acts: Activations,
  ids: Uint32Array,
  seq: number,
  stride: number,
  onProgress?: (done: number, total: number) => void,
): Promise<PerplexityResult> {
  if (ids.length < 2) throw new Error(`need at least 2 tokens to score, got ${ids.length}`);
  if (seq > model.config.n_positions) {
    throw new Error(`--seq ${seq} is longer than the model's n_positions ${model.config.n_positions}`);
  }
  const gpu = model.gpu;
  const windows = slidingWindows(ids.length, seq, stride);
  const inputs = new Uint32Array(acts.B * seq);
  const targets = new Int32Array(acts.B * seq);
  let nllSum = 0;
  let scored = 0;
  for (let w = 0; w < windows.length;) {
    // Batch consecutive windows of equal length.
    const len = windows[w].end - windows[w].begin;
    let rows = 0;
    while (
      rows < acts.B && w + rows < windows.length && windows[w + rows].end - windows[w + rows].begin === len
    ) rows++;
    targets.fill(-100);
    for (let r = 0; r < rows; r++) {
      const { begin, end, scoreFrom } = windows[w + r];
      inputs.set(ids.subarray(begin, end), r * len);
      // Position t predicts token begin + t + 1.
      for (let t = 0; t < len - 1; t++) {
        const target = begin + t + 1;
        if (target >= scoreFrom && target < end) {
          targets[r * len + t] = ids[target];
          scored++;
        }
      }
    }
    model.setBatch(acts, inputs.subarray(0, rows * len), targets.subarray(0, rows * len));
    model.step(acts, rows, len, inputs, false, 1);
    const losses = await gpu.read(gpu.slice(acts.losses, 0, rows * len));
    for (let i = 0; i < rows * len; i++) nllSum += losses[i];
    w += rows;
    onProgress?.(w, windows.length);
  }
  const nll = nllSum / scored;
  return { nll, ppl: Math.exp(nll), tokens: scored, windows: windows.length };
}

/** Unigram perplexity of `ids` under its own token frequencies: exp of the empirical entropy. */
export function unigramPerplexity(ids: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) counts.set(ids[i], (counts.get(ids[i]) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / ids.length;
    h -= p * Math.log(p);
  }
  return Math.exp(h);
}
