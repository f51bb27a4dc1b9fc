/**
 * Plain-TypeScript reference for the gradient norm kernel.
 *
 * @module
 */
import type { Floats } from "./types.ts";

/** out[0] = Σ grads[i]² over i < n, summed in the precision of `out` (float64 for checks). */
export function gradNormSquaredRef(out: Floats, grads: ArrayLike<number>, n: number): void {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += grads[i] * grads[i];
  out[0] = sum;
}
