/**
 * Plain-TypeScript references for the hidden-state distillation losses (`lib/ops/hidden_losses.ts`):
 * cosine embedding loss with target 1 and mean squared error after an optional linear projection, over N
 * positions with a padding mask.
 *
 * @module
 */
import type { Floats } from "./types.ts";

/** PyTorch's cosine_embedding_loss EPSILON, added to both squared norms. */
export const COSINE_EPS = 1e-12;

/** M, the number of unmasked positions (mask[n] ≠ 0). */
export function maskCountRef(mask: ArrayLike<number>, N: number): number {
  let m = 0;
  for (let n = 0; n < N; n++) if (mask[n] !== 0) m++;
  return m;
}

/**
 * Mean over unmasked positions of 1 − cos(hS[n], hT[n]), cos = s·t / √((s·s + ε)(t·t + ε)); 0 when every
 * position is masked. `rowLosses` (N), when given, receives 1 − cos per row (0 for masked rows).
 *
 * @param hS (N, C)
 * @param hT (N, C)
 * @param mask (N)
 */
export function cosineLossRef(
  hS: ArrayLike<number>,
  hT: ArrayLike<number>,
  mask: ArrayLike<number>,
  N: number,
  C: number,
  rowLosses?: Floats,
): number {
  const M = maskCountRef(mask, N);
  let sum = 0;
  for (let n = 0; n < N; n++) {
    let [ss, tt, st] = [COSINE_EPS, COSINE_EPS, 0];
    for (let c = 0; c < C; c++) {
      const [s, t] = [hS[n * C + c], hT[n * C + c]];
      ss += s * s;
      tt += t * t;
      st += s * t;
    }
    const row = mask[n] === 0 ? 0 : 1 - st / Math.sqrt(ss * tt);
    if (rowLosses) rowLosses[n] = row;
    sum += row;
  }
  return M === 0 ? 0 : sum / M;
}

/**
 * dhS (+)= scale · ∂cosineLoss/∂hS: for unmasked rows −(scale/M)·(t/√(a·b) − cos·s/a) with a = s·s + ε,
 * b = t·t + ε; masked rows get 0. Overwrites unless `accumulate`.
 *
 * @param dhS (N, C)
 */
export function cosineLossBackwardRef(
  dhS: Floats,
  hS: ArrayLike<number>,
  hT: ArrayLike<number>,
  mask: ArrayLike<number>,
  N: number,
  C: number,
  scale: number,
  accumulate = false,
): void {
  const M = Math.max(1, maskCountRef(mask, N));
  for (let n = 0; n < N; n++) {
    let [a, b, d] = [COSINE_EPS, COSINE_EPS, 0];
    for (let c = 0; c < C; c++) {
      const [s, t] = [hS[n * C + c], hT[n * C + c]];
      a += s * s;
      b += t * t;
      d += s * t;
    }
    const cos = d / Math.sqrt(a * b);
    for (let c = 0; c < C; c++) {
      const i = n * C + c;
      const g = mask[n] === 0 ? 0 : -(scale / M) * (hT[i] / Math.sqrt(a * b) - cos * hS[i] / a);
      dhS[i] = accumulate ? dhS[i] + g : g;
    }
  }
}

/** A linear projection y = x·W + b from Cs to Ct channels. */
export interface ProjectionRef {
  /** (Cs, Ct) */
  weight: ArrayLike<number>;
  /** (Ct) */
  bias: ArrayLike<number>;
}

/** y (N, Ct) = x (N, Cs) · W (Cs, Ct) + b, or a copy of x without a projection. */
export function projectRef(
  x: ArrayLike<number>,
  N: number,
  Cs: number,
  Ct: number,
  proj: ProjectionRef | null,
): Float64Array {
  const y = new Float64Array(N * Ct);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < Ct; o++) {
      if (!proj) {
        y[n * Ct + o] = x[n * Ct + o];
        continue;
      }
      let v = proj.bias[o];
      for (let c = 0; c < Cs; c++) v += x[n * Cs + c] * proj.weight[c * Ct + o];
      y[n * Ct + o] = v;
    }
  }
  return y;
}

/**
 * Mean over unmasked elements of (P(hS) − hT)², P the optional projection (Cs = Ct without one); 0 when every
 * position is masked.
 *
 * @param hS (N, Cs)
 * @param hT (N, Ct)
 * @param mask (N)
 */
export function mseLossRef(
  hS: ArrayLike<number>,
  hT: ArrayLike<number>,
  mask: ArrayLike<number>,
  N: number,
  Cs: number,
  Ct: number,
  proj: ProjectionRef | null,
): number {
  const M = maskCountRef(mask, N);
  const y = projectRef(hS, N, Cs, Ct, proj);
  let sum = 0;
  for (let n = 0; n < N; n++) {
    if (mask[n] === 0) continue;
    for (let o = 0; o < Ct; o++) sum += (y[n * Ct + o] - hT[n * Ct + o]) ** 2;
  }
  return M === 0 ? 0 : sum / (M * Ct);
}

/** Gradients of the MSE reference; the projection gradients are present only with a projection. */
export interface MseGradsRef {
  /** (N, Cs) */
  dhS: Float64Array;
  /** (Cs, Ct) */
  dWeight?: Float64Array;
  /** (Ct) */
  dBias?: Float64Array;
}

/**
 * Gradients of scale · mseLoss: dy = (scale·2/(M·Ct))·(y − hT) on unmasked rows (0 on masked rows), then
 * through the projection dhS = dy·Wᵀ, dW = hSᵀ·dy, db = Σ_n dy[n] (dhS = dy without one).
 */
export function mseLossBackwardRef(
  hS: ArrayLike<number>,
  hT: ArrayLike<number>,
  mask: ArrayLike<number>,
  N: number,
  Cs: number,
  Ct: number,
  proj: ProjectionRef | null,
  scale: number,
): MseGradsRef {
  const M = Math.max(1, maskCountRef(mask, N));
  const y = projectRef(hS, N, Cs, Ct, proj);
  const dy = new Float64Array(N * Ct);
  for (let n = 0; n < N; n++) {
    if (mask[n] === 0) continue;
    for (let o = 0; o < Ct; o++) dy[n * Ct + o] = (scale * 2 / (M * Ct)) * (y[n * Ct + o] - hT[n * Ct + o]);
  }
  if (!proj) return { dhS: dy };
  const dhS = new Float64Array(N * Cs);
  const dWeight = new Float64Array(Cs * Ct);
  const dBias = new Float64Array(Ct);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < Ct; o++) {
      const g = dy[n * Ct + o];
      dBias[o] += g;
      for (let c = 0; c < Cs; c++) {
        dhS[n * Cs + c] += g * proj.weight[c * Ct + o];
        dWeight[c * Ct + o] += hS[n * Cs + c] * g;
      }
    }
  }
  return { dhS, dWeight, dBias };
}
