/**
 * Plain-TypeScript references for layer normalisation (llm.c's train_gpt2.c `layernorm_forward` and
 * `layernorm_backward`), as PyTorch LayerNorm with a biased variance.
 *
 * @module
 */
import type { Floats } from "./types.ts";

/**
 * out = (inp − mean) · rstd · weight + bias per row, with rstd = 1/√(var + eps).
 *
 * @param out (N, C)
 * @param mean (N) saved for the backward pass
 * @param rstd (N) saved for the backward pass
 * @param inp (N, C)
 * @param weight (C)
 * @param bias (C)
 */
export function layernormForwardRef(
  out: Floats,
  mean: Floats,
  rstd: Floats,
  inp: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  N: number,
  C: number,
  eps: number,
): void {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    let m = 0;
    for (let i = 0; i < C; i++) m += inp[x + i];
    m /= C;
    let v = 0;
    for (let i = 0; i < C; i++) {
      const d = inp[x + i] - m;
      v += d * d;
    }
    v /= C;
    const s = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < C; i++) {
      const norm = (inp[x + i] - m) * s;
      out[x + i] = norm * weight[i] + bias[i];
    }
    mean[n] = m;
    rstd[n] = s;
  }
}

/**
 * Accumulates the layernorm gradients: dinp += ..., dweight += Σ_n norm·dout, dbias += Σ_n dout.
 *
 * @param dinp (N, C)
 * @param dweight (C)
 * @param dbias (C)
 * @param dout (N, C)
 * @param inp (N, C)
 * @param weight (C)
 * @param mean (N) from the forward pass
 * @param rstd (N) from the forward pass
 */
export function layernormBackwardRef(
  dinp: Floats,
  dweight: Floats,
  dbias: Floats,
  dout: ArrayLike<number>,
  inp: ArrayLike<number>,
  weight: ArrayLike<number>,
  mean: ArrayLike<number>,
  rstd: ArrayLike<number>,
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    const m = mean[n];
    const s = rstd[n];
    // The two reductions of the input gradient: mean(dnorm) and mean(dnorm · norm).
    let dnormMean = 0;
    let dnormNormMean = 0;
    for (let i = 0; i < C; i++) {
      const norm = (inp[x + i] - m) * s;
      const dnorm = weight[i] * dout[x + i];
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let i = 0; i < C; i++) {
      const norm = (inp[x + i] - m) * s;
      const dnorm = weight[i] * dout[x + i];
      dbias[i] += dout[x + i];
      dweight[i] += norm * dout[x + i];
      dinp[x + i] += (dnorm - dnormMean - norm * dnormNormMean) * s;
    }
  }
}
