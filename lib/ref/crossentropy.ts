/**
 * Plain-TypeScript references for the fused softmax + cross-entropy and the row-wise softmax, over logits
 * (N, Vp) whose first V columns are the vocabulary and the rest padding. Vp is the last parameter and
 * defaults to V (unpadded rows).
 *
 * @module
 */
import type { Floats } from "./types.ts";

/** logsumexp(x[row, 0:V]·k), computed stably around the row maximum. */
function rowLogSumExp(x: ArrayLike<number>, row: number, V: number, Vp: number, k = 1): number {
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, x[row * Vp + v] * k);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(x[row * Vp + v] * k - max);
  return max + Math.log(sum);
}

/**
 * losses[n] = logsumexp(logits[n, 0:V]) − logits[n, targets[n]]; 0 for ignored rows (targets[n] < 0).
 *
 * @param losses (N)
 * @param logits (N, Vp)
 * @param targets (N), class indices in [0, V) or negative for ignored rows
 */
export function crossEntropyForwardRef(
  losses: Floats,
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  N: number,
  V: number,
  Vp: number = V,
): void {
  for (let n = 0; n < N; n++) {
    const t = targets[n];
    losses[n] = t < 0 ? 0 : rowLogSumExp(logits, n, V, Vp) - logits[n * Vp + t];
  }
}

/**
 * dlogits = gradient of gradScale · Σ_n losses[n]: (softmax(logits[n]) − onehot(targets[n]))·gradScale in
 * columns 0:V of non-ignored rows; 0 in ignored rows and in padding columns V .. Vp−1.
 *
 * @param dlogits (N, Vp), overwritten
 * @param logits (N, Vp)
 * @param targets (N)
 */
export function crossEntropyBackwardRef(
  dlogits: Floats,
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  N: number,
  V: number,
  gradScale: number,
  Vp: number = V,
): void {
  dlogits.fill(0, 0, N * Vp);
  for (let n = 0; n < N; n++) {
    const t = targets[n];
    if (t < 0) continue;
    const lse = rowLogSumExp(logits, n, V, Vp);
    for (let v = 0; v < V; v++) {
      const p = Math.exp(logits[n * Vp + v] - lse);
      dlogits[n * Vp + v] = (p - (v === t ? 1 : 0)) * gradScale;
    }
  }
}

/**
 * probs[n, 0:V] = softmax(logits[n, 0:V] / temperature); padding columns 0.
 *
 * @param probs (N, Vp)
 * @param logits (N, Vp)
 */
export function softmaxRowsRef(
  probs: Floats,
  logits: ArrayLike<number>,
  N: number,
  V: number,
  temperature: number,
  Vp: number = V,
): void {
  const k = 1 / temperature;
  for (let n = 0; n < N; n++) {
    const lse = rowLogSumExp(logits, n, V, Vp, k);
    for (let v = 0; v < Vp; v++) probs[n * Vp + v] = v < V ? Math.exp(logits[n * Vp + v] * k - lse) : 0;
  }
}
