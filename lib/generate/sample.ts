/**
 * Token sampling from logits: temperature, top-k and top-p (nucleus) filtering, as Hugging Face's
 * `generate(do_sample=True)` applies them (temperature first, then top-k, then top-p), seeded.
 *
 * @module
 */
import type { Rng } from "../rng.ts";

/** Sampling settings. temperature 0 means greedy decoding. */
export interface SamplingOptions {
  temperature: number;
  /** Keep the k most likely tokens (0 = off). */
  topK: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = off). */
  topP: number;
}

/** Picks the next token id from one row of logits (the first V entries are used). */
export function sampleToken(logits: ArrayLike<number>, V: number, opts: SamplingOptions, rng: Rng): number {
  if (opts.temperature === 0) return argmax(logits, V);
  const order = Array.from({ length: V }, (_, i) => i);
  order.sort((a, b) => logits[b] - logits[a] || a - b);
  let keep = opts.topK > 0 ? Math.min(opts.topK, V) : V;
  const max = logits[order[0]];
  const weights = new Float64Array(keep);
  let total = 0;
  for (let i = 0; i < keep; i++) {
    weights[i] = Math.exp((logits[order[i]] - max) / opts.temperature);
    total += weights[i];
  }
  if (opts.topP < 1) {
    let cum = 0;
    for (let i = 0; i < keep; i++) {
      cum += weights[i] / total;
      if (cum >= opts.topP) {
        keep = i + 1;
        break;
      }
    }
    total = 0;
    for (let i = 0; i < keep; i++) total += weights[i];
  }
  let u = rng.next() * total;
  for (let i = 0; i < keep; i++) {
    u -= weights[i];
    if (u <= 0) return order[i];
  }
  return order[keep - 1];
}

function argmax(xs: ArrayLike<number>, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (xs[i] > xs[best]) best = i;
  return best;
}
