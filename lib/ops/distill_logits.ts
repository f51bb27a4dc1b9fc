/**
 * Knowledge-distillation losses on the output logits (DistilGPT2 / HF distiller): causal-LM cross-entropy,
 * temperature-scaled forward KL to the teacher ("ce", Hinton et al.) and reverse KL, fused per row with the
 * gradient of their weighted sum written in place of the student logits, like `crossEntropy`.
 *
 * The teacher comes either as full logits (rows, V) — e.g. a teacher GPT-2's logits chunk — or as its top-k
 * (index, logit) pairs (rows, k), the teacher distribution then being the softmax over the k kept logits at
 * temperature T (renormalised, zero elsewhere). Reverse KL against a top-k teacher uses a floor probability
 * ε for every non-kept token (see `DistillLogitsOptions.topkFloor`).
 *
 * Student logits are (rows, Vp): V real columns then padding. Logits and a full teacher larger than one
 * storage binding are processed in row parts.
 *
 * @module
 */
import code from "../gpu/kernels/distill_logits.wgsl" with { type: "text" };
import { type Gpu, grid, type Kernel, Uniforms, type View } from "../gpu/runtime.ts";

/** Invocations per workgroup (one workgroup per row). */
const WG = 256;
/** Kept entries per invocation in the top-k kernel (its `KPL`): k ≤ KPL·WG. */
const KPL = 4;
/** Largest top-k width the kernel supports. */
export const DISTILL_MAX_TOPK = KPL * WG;
/** Default ε of the top-k reverse KL. */
export const DEFAULT_TOPK_FLOOR = 1e-7;

const fullKernel: Kernel = { name: "distill_logits_full", code, entryPoint: "full", constants: { WG } };
const topkKernel: Kernel = { name: "distill_logits_topk", code, entryPoint: "topk", constants: { WG } };

/** The teacher of `distillLogits`. */
export type DistillTeacher =
  | {
    kind: "full";
    /** (rows, stride): the first V columns of each row are the teacher's logits. */
    logits: View;
    /** Row stride in floats, ≥ V; default V (pass Vp for a teacher's padded logits chunk). */
    stride?: number;
  }
  | {
    kind: "topk";
    /** (rows, k) u32 vocabulary indices, distinct within a row, each < V. */
    indices: View;
    /** (rows, k) f32 the teacher's logits at those indices. */
    logits: View;
    /** Kept tokens per row, 1 ≤ k ≤ `DISTILL_MAX_TOPK`. */
    k: number;
  };

/** Options of `distillLogits`. */
export interface DistillLogitsOptions {
  /** Softmax temperature T > 0 of the KL terms (DistilGPT2: 2). */
  temperature: number;
  /** Weight of the causal-LM cross-entropy on the labels. */
  alphaClm: number;
  /** Weight of ce = T²·KL(teacher ‖ student). */
  alphaCe: number;
  /** Weight of rkl = T²·KL(student ‖ teacher) (reverse KL). */
  alphaRkl: number;
  /** Factor of the gradient, e.g. 1 / (number of unmasked rows) for HF's "batchmean". */
  gradScale: number;
  /** Overwrite the logits with the gradient (default true); false leaves them untouched. */
  writeGradient?: boolean;
  /**
   * Top-k teacher only: ε, the teacher probability given to each of the V − k non-kept tokens in the reverse
   * KL (log 0 would make it infinite). The kept probabilities are scaled by 1 − (V − k)·ε so the floored
   * distribution sums to 1; needs (V − k)·ε < 1. Default `DEFAULT_TOPK_FLOOR` (1e-7). The forward KL (ce)
   * uses the exact top-k distribution and does not depend on ε.
   */
  topkFloor?: number;
}

const dummies = new WeakMap<Gpu, View>();
/** A mask binding for calls without a mask (never read). */
function dummy(gpu: Gpu): View {
  let v = dummies.get(gpu);
  if (!v) dummies.set(gpu, v = gpu.tensor(4, "distill no mask"));
  return v;
}

function checkView(name: string, view: View, elements: number): void {
  if (view.size < elements * 4) {
    throw new Error(`distillLogits: ${name} holds ${view.size / 4} elements, needs ${elements}`);
  }
}

/**
 * For each row n (of `rows`), writes losses[n] = [clm, ce, rkl]:
 *
 *     clm = −log softmax(z[n])[labels[n]]         0 when labels[n] < 0 (ignored, HF's −100); NaN when ≥ V
 *     ce  = T²·KL(q ‖ softmax(z[n]/T))            q = softmax(teacher[n]/T) (or over the top-k)
 *     rkl = T²·KL(softmax(z[n]/T) ‖ q)            (q floored at ε off a top-k teacher's support)
 *
 * and, with `writeGradient` (default), OVERWRITES z[n] in place with the gradient of
 * gradScale·(alphaClm·clm + alphaCe·ce + alphaRkl·rkl) (padding columns V .. Vp−1 set to 0). Rows whose
 * label is ignored still get the ce/rkl terms; rows with mask[n] = 0 get zero losses and a zero gradient.
 * Numerically stable (max-subtracted) and deterministic (fixed-order reductions).
 *
 * @param losses (rows, 3) float32
 * @param z (rows, Vp) student logits, read and (with writeGradient) overwritten by the gradient
 * @param labels (rows) int32
 * @param mask (rows) u32, 0 = padding row; null = every row counts
 * @param teacher full logits (rows, stride) or top-k (rows, k) indices + logits
 *
 * @example
 * ```ts
 * // DistilGPT2: alpha_ce 5, alpha_clm 2, T 2, mean over the unmasked rows
 * distillLogits(gpu, losses, logits, labels, mask, { kind: "full", logits: teacherLogits, stride: Vp },
 *   rows, 50257, 50304, { temperature: 2, alphaClm: 2, alphaCe: 5, alphaRkl: 0, gradScale: 1 / unmasked });
 * ```
 */
export function distillLogits(
  gpu: Gpu,
  losses: View,
  z: View,
  labels: View,
  mask: View | null,
  teacher: DistillTeacher,
  rows: number,
  V: number,
  Vp: number,
  options: DistillLogitsOptions,
): void {
  const op = "distillLogits";
  for (const [k, v] of Object.entries({ rows, V, Vp })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${op}: ${k} must be a positive integer, got ${v}`);
  }
  if (V > Vp) throw new Error(`${op}: V=${V} exceeds the padded width Vp=${Vp}`);
  if (Vp % 4 !== 0) throw new Error(`${op}: Vp=${Vp} must be a multiple of 4`);
  const T = options.temperature;
  if (!(T > 0) || !Number.isFinite(T)) {
    throw new Error(`${op}: temperature must be a positive number, got ${T}`);
  }
  for (const key of ["alphaClm", "alphaCe", "alphaRkl", "gradScale"] as const) {
    if (!Number.isFinite(options[key])) throw new Error(`${op}: ${key} must be finite, got ${options[key]}`);
  }
  checkView("losses", losses, rows * 3);
  checkView("z", z, rows * Vp);
  checkView("labels", labels, rows);
  if (mask) checkView("mask", mask, rows);

  let ldT: number;
  let logFloor = 0;
  let logKeptScale = 0;
  if (teacher.kind === "full") {
    ldT = teacher.stride ?? V;
    if (!Number.isInteger(ldT) || ldT < V) {
      throw new Error(`${op}: teacher stride ${ldT} must be an integer ≥ V=${V}`);
    }
    checkView("teacher logits", teacher.logits, (rows - 1) * ldT + V);
  } else {
    const { k } = teacher;
    if (!Number.isInteger(k) || k < 1 || k > DISTILL_MAX_TOPK || k > V) {
      throw new Error(
        `${op}: top-k width k must be an integer in [1, min(V, ${DISTILL_MAX_TOPK})], got ${k}`,
      );
    }
    checkView("teacher indices", teacher.indices, rows * k);
    checkView("teacher logits", teacher.logits, rows * k);
    if (rows * k * 4 > gpu.maxBinding) {
      throw new Error(`${op}: the top-k teacher (${rows}×${k}) exceeds one binding`);
    }
    const eps = options.topkFloor ?? DEFAULT_TOPK_FLOOR;
    if (!(eps > 0) || !((V - k) * eps < 1)) {
      throw new Error(`${op}: topkFloor ε must be > 0 with (V − k)·ε < 1, got ${eps}`);
    }
    ldT = k;
    logFloor = Math.log(eps);
    logKeptScale = Math.log1p(-(V - k) * eps);
  }

  const gs = options.gradScale;
  const writeGrad = options.writeGradient ?? true;
  const uniforms = (partRows: number, row0: number) =>
    new Uniforms()
      .u32(partRows).u32(V).u32(Vp / 4).u32(row0).u32(ldT)
      .u32(writeGrad ? 1 : 0).u32(mask ? 1 : 0).u32(T === 1 ? 1 : 0)
      .f32(1 / T).f32(T * T)
      .f32(options.alphaClm * gs).f32(options.alphaCe * T * gs).f32(options.alphaRkl * T * gs)
      .f32(logFloor).f32(logKeptScale);
  const common = [losses, labels, mask ?? dummy(gpu)];

  // Parts of whole multiples of 64 rows keep every part's byte offset 256-aligned for any row stride.
  const widest = teacher.kind === "full" ? Math.max(Vp, ldT) : Vp;
  const perPart = rows * widest * 4 <= gpu.maxBinding
    ? rows
    : Math.floor(gpu.maxBinding / (widest * 4) / 64) * 64;
  if (perPart === 0) throw new Error(`${op}: a row of ${widest} floats does not fit one storage binding`);
  for (let row0 = 0; row0 < rows; row0 += perPart) {
    const n = Math.min(perPart, rows - row0);
    const zPart = gpu.slice(z, row0 * Vp, n * Vp);
    if (teacher.kind === "full") {
      const tPart = gpu.slice(teacher.logits, row0 * ldT, (n - 1) * ldT + V);
      gpu.dispatch(fullKernel, uniforms(n, row0), [zPart, ...common, tPart], grid(n));
    } else {
      gpu.dispatch(
        topkKernel,
        uniforms(n, row0),
        [zPart, ...common, teacher.logits, teacher.indices],
        grid(n),
      );
    }
  }
}
