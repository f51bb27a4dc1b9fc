/**
 * Plain-TypeScript reference for the AdamW kernel, written as torch.optim.AdamW's documentation states
 * the algorithm, with torch.nn.utils.clip_grad_norm_ clipping of the scaled gradient.
 *
 * @module
 */
import type { AdamWHyper } from "../ops/adamw.ts";
import type { Floats } from "./types.ts";

/**
 * One AdamW step on the elements [start, start + count) of params, m and v (updated in place).
 *
 * @param params (total)
 * @param grads (total) raw gradients
 * @param m (total) first moment
 * @param v (total) second moment
 * @param normSq Σ grads² over all parameters (the unscaled gradient)
 */
export function adamwUpdateRef(
  params: Floats,
  grads: ArrayLike<number>,
  m: Floats,
  v: Floats,
  normSq: number,
  start: number,
  count: number,
  h: AdamWHyper,
): void {
  // clip_grad_norm_ on the gradient as the optimizer sees it (already multiplied by gradScale).
  const norm = Math.abs(h.gradScale) * Math.sqrt(normSq);
  const clip = h.maxNorm > 0 ? Math.min(1, h.maxNorm / (norm + 1e-6)) : 1;
  const biasCorrection1 = 1 - Math.pow(h.beta1, h.step);
  const biasCorrection2 = 1 - Math.pow(h.beta2, h.step);
  for (let i = start; i < start + count; i++) {
    const g = grads[i] * h.gradScale * clip;
    params[i] -= h.lr * h.weightDecay * params[i];
    m[i] = h.beta1 * m[i] + (1 - h.beta1) * g;
    v[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g;
    const mHat = m[i] / biasCorrection1;
    const vHat = v[i] / biasCorrection2;
    params[i] -= h.lr * mHat / (Math.sqrt(vHat) + h.eps);
  }
}
