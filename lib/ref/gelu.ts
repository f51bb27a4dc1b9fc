/**
 * Plain-TypeScript references for GELU with the tanh approximation (HF `gelu_new`, llm.c `gelu_forward`).
 *
 * @module
 */
import type { Floats } from "./types.ts";

/** √(2/π), the scale inside the tanh. */
export const GELU_SCALE = Math.sqrt(2 / Math.PI);

/**
 * out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 *
 * @param out (N)
 * @param inp (N)
 */
export function geluForwardRef(out: Floats, inp: ArrayLike<number>, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    const cube = 0.044715 * x * x * x;
    out[i] = 0.5 * x * (1 + Math.tanh(GELU_SCALE * (x + cube)));
  }
}

/**
 * dinp = gelu'(inp) · dout (overwrites; `dinp` may be the same array as `dout`).
 *
 * @param dinp (N)
 * @param inp (N)
 * @param dout (N)
 */
export function geluBackwardRef(
  dinp: Floats,
  inp: ArrayLike<number>,
  dout: ArrayLike<number>,
  n: number,
): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    const arg = GELU_SCALE * (x + 0.044715 * x * x * x);
    const th = Math.tanh(arg);
    const sech2 = 1 - th * th;
    const local = 0.5 * (1 + th) + 0.5 * x * sech2 * GELU_SCALE * (1 + 3 * 0.044715 * x * x);
    dinp[i] = local * dout[i];
  }
}
