/**
 * Plain-TypeScript references for the fused distillation logit losses (`lib/ops/distill_logits.ts`):
 * causal-LM cross-entropy, T²-scaled forward KL to the teacher (DistilGPT2's "ce") and T²-scaled reverse KL,
 * computed from explicit distributions for clarity. Student logits are (rows, Vp) with V real columns.
 *
 * @module
 */
import type { Floats } from "./types.ts";

/** A teacher for the references: full logits (rows, stride) or the top-k (index, logit) pairs (rows, k). */
export type TeacherRef =
  | { kind: "full"; logits: ArrayLike<number>; stride?: number }
  | { kind: "topk"; indices: ArrayLike<number>; logits: ArrayLike<number>; k: number };

/** Loss weights and temperature, as in `DistillLogitsOptions`. */
export interface DistillLogitsRefOptions {
  temperature: number;
  alphaClm: number;
  alphaCe: number;
  alphaRkl: number;
  gradScale: number;
  /** ε, the probability of every non-kept token in the top-k reverse KL. */
  topkFloor: number;
}

/** log softmax(x[0:V] · k) of the row starting at x[offset]. */
function logSoftmax(x: ArrayLike<number>, offset: number, V: number, k: number): Float64Array {
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, x[offset + v] * k);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(x[offset + v] * k - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(V);
  for (let v = 0; v < V; v++) out[v] = x[offset + v] * k - lse;
  return out;
}

/**
 * The teacher's log-probabilities of one row: `logQ` for the forward KL (−∞ off a top-k teacher's support)
 * and `logQRev` for the reverse KL (for a top-k teacher the floored distribution (1 − (V − k)ε)·q on the kept
 * tokens, ε elsewhere; equal to `logQ` for a full teacher).
 */
export function teacherLogProbsRef(
  teacher: TeacherRef,
  row: number,
  V: number,
  temperature: number,
  topkFloor: number,
): { logQ: Float64Array; logQRev: Float64Array } {
  if (teacher.kind === "full") {
    const logQ = logSoftmax(teacher.logits, row * (teacher.stride ?? V), V, 1 / temperature);
    return { logQ, logQRev: logQ };
  }
  const { k } = teacher;
  const kept = logSoftmax(teacher.logits, row * k, k, 1 / temperature);
  const logQ = new Float64Array(V).fill(-Infinity);
  const logQRev = new Float64Array(V).fill(Math.log(topkFloor));
  const keptScale = Math.log(1 - (V - k) * topkFloor);
  for (let j = 0; j < k; j++) {
    const c = teacher.indices[row * k + j];
    logQ[c] = kept[j];
    logQRev[c] = keptScale + kept[j];
  }
  return { logQ, logQRev };
}

/**
 * losses[n] = [clm, ce, rkl] of row n: clm = −log softmax(z)[label] (0 for ignored labels < 0),
 * ce = T²·KL(q ‖ softmax(z/T)), rkl = T²·KL(softmax(z/T) ‖ q̃); all 0 for rows with mask[n] = 0.
 *
 * @param losses (rows, 3)
 * @param z (rows, Vp) student logits
 * @param labels (rows)
 * @param mask (rows), 0 = padding row; null = every row counts
 */
export function distillLogitsForwardRef(
  losses: Floats,
  z: ArrayLike<number>,
  labels: ArrayLike<number>,
  mask: ArrayLike<number> | null,
  teacher: TeacherRef,
  rows: number,
  V: number,
  Vp: number,
  o: DistillLogitsRefOptions,
): void {
  const T = o.temperature;
  for (let n = 0; n < rows; n++) {
    losses.fill(0, 3 * n, 3 * n + 3);
    if (mask && mask[n] === 0) continue;
    const logP = logSoftmax(z, n * Vp, V, 1);
    const logPT = logSoftmax(z, n * Vp, V, 1 / T);
    const { logQ, logQRev } = teacherLogProbsRef(teacher, n, V, T, o.topkFloor);
    let ce = 0;
    let rkl = 0;
    for (let v = 0; v < V; v++) {
      if (logQ[v] > -Infinity) ce += Math.exp(logQ[v]) * (logQ[v] - logPT[v]);
      rkl += Math.exp(logPT[v]) * (logPT[v] - logQRev[v]);
    }
    losses[3 * n] = labels[n] < 0 ? 0 : -logP[labels[n]];
    losses[3 * n + 1] = T * T * ce;
    losses[3 * n + 2] = T * T * rkl;
  }
}

/**
 * dz = gradient of gradScale·Σ_n (alphaClm·clm + alphaCe·ce + alphaRkl·rkl) with respect to z:
 *
 *     gradScale·[alphaClm·(p − onehot) + alphaCe·T·(pT − q) + alphaRkl·T·pT·(log pT − log q̃ − rkl/T²)]
 *
 * (∂KL(q‖pT)/∂z = (pT − q)/T and ∂KL(pT‖q̃)/∂z_j = pT_j·(log pT_j − log q̃_j − KL)/T), no clm term for ignored
 * labels, 0 in masked rows and padding columns.
 *
 * @param dz (rows, Vp), overwritten
 */
export function distillLogitsBackwardRef(
  dz: Floats,
  z: ArrayLike<number>,
  labels: ArrayLike<number>,
  mask: ArrayLike<number> | null,
  teacher: TeacherRef,
  rows: number,
  V: number,
  Vp: number,
  o: DistillLogitsRefOptions,
): void {
  const T = o.temperature;
  dz.fill(0, 0, rows * Vp);
  for (let n = 0; n < rows; n++) {
    if (mask && mask[n] === 0) continue;
    const logP = logSoftmax(z, n * Vp, V, 1);
    const logPT = logSoftmax(z, n * Vp, V, 1 / T);
    const { logQ, logQRev } = teacherLogProbsRef(teacher, n, V, T, o.topkFloor);
    let kl = 0; // KL(pT ‖ q̃), unscaled
    for (let v = 0; v < V; v++) kl += Math.exp(logPT[v]) * (logPT[v] - logQRev[v]);
    for (let v = 0; v < V; v++) {
      const pT = Math.exp(logPT[v]);
      let d = o.alphaCe * T * (pT - Math.exp(logQ[v])) +
        o.alphaRkl * T * pT * (logPT[v] - logQRev[v] - kl);
      if (labels[n] >= 0) d += o.alphaClm * (Math.exp(logP[v]) - (v === labels[n] ? 1 : 0));
      dz[n * Vp + v] = o.gradScale * d;
    }
  }
}
