/**
 * Plain-TypeScript references for the matrix multiply and the bias gradient, written for clarity.
 *
 * Conventions match `lib/ops/matmul.ts`: op(A) is (M, K) and op(B) is (K, N), both row-major with explicit
 * row strides; A is stored (K, M) when `transA` and B is stored (N, K) when `transB`.
 *
 * @module
 */
import type { Floats } from "./types.ts";

/** Options of `matmulRef`; the same meaning as the fields of `MatmulArgs` in `lib/ops/matmul.ts`. */
export interface MatmulRefOptions {
  transA?: boolean;
  transB?: boolean;
  /** (N), added to every row; only when `accumulate` is false. */
  bias?: ArrayLike<number> | null;
  accumulate?: boolean;
  ldOut?: number;
  ldA?: number;
  ldB?: number;
}

/**
 * out = op(A)·op(B) (+ bias), or out += op(A)·op(B) when `accumulate`.
 *
 * @param out (M, N) with row stride ldOut; only the M×N window is written
 * @param a (M, K) row-major, or (K, M) when transA
 * @param b (K, N) row-major, or (N, K) when transB
 */
export function matmulRef(
  out: Floats,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  M: number,
  N: number,
  K: number,
  options: MatmulRefOptions = {},
): void {
  const { transA = false, transB = false, bias = null, accumulate = false } = options;
  const ldOut = options.ldOut ?? N;
  const ldA = options.ldA ?? (transA ? M : K);
  const ldB = options.ldB ?? (transB ? K : N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const av = transA ? a[k * ldA + m] : a[m * ldA + k];
        const bv = transB ? b[n * ldB + k] : b[k * ldB + n];
        sum += av * bv;
      }
      const o = m * ldOut + n;
      if (accumulate) out[o] += sum;
      else out[o] = sum + (bias ? bias[n] : 0);
    }
  }
}

/**
 * Linear layer forward in llm.c's layout (Hugging Face Conv1D: weight is (in, out)):
 * out = inp · weight + bias.
 *
 * @param out (N, OC)
 * @param inp (N, C)
 * @param weight (C, OC)
 * @param bias (OC) or null
 */
export function matmulForwardRef(
  out: Floats,
  inp: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number> | null,
  N: number,
  C: number,
  OC: number,
): void {
  matmulRef(out, inp, weight, N, OC, C, { bias });
}

/**
 * Linear layer backward, accumulating like llm.c: dinp += dout · weightᵀ, dweight += inpᵀ · dout and
 * dbias += column sums of dout (skipped when dbias is null). These are the three matmuls GPT-2's backward
 * records (NT, TN and the bias reduction); the tests check them against finite differences.
 *
 * @param dinp (N, C)
 * @param dweight (C, OC)
 * @param dbias (OC) or null
 * @param dout (N, OC)
 * @param inp (N, C)
 * @param weight (C, OC)
 */
export function matmulBackwardRef(
  dinp: Floats,
  dweight: Floats,
  dbias: Floats | null,
  dout: ArrayLike<number>,
  inp: ArrayLike<number>,
  weight: ArrayLike<number>,
  N: number,
  C: number,
  OC: number,
): void {
  matmulRef(dinp, dout, weight, N, C, OC, { transB: true, accumulate: true });
  matmulRef(dweight, inp, dout, C, OC, N, { transA: true, accumulate: true });
  if (dbias) biasBackwardRef(dbias, dout, N, OC);
}

/**
 * dbias += column sums of dout.
 *
 * @param dbias (OC)
 * @param dout (N, OC)
 */
export function biasBackwardRef(dbias: Floats, dout: ArrayLike<number>, N: number, OC: number): void {
  for (let o = 0; o < OC; o++) {
    let sum = 0;
    for (let n = 0; n < N; n++) sum += dout[n * OC + o];
    dbias[o] += sum;
  }
}
