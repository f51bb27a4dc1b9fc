/**
 * Plain-TypeScript references for the residual kernels.
 *
 * @module
 */
import type { Floats } from "./types.ts";

/** out = a + b over N elements. */
export function residualForwardRef(out: Floats, a: ArrayLike<number>, b: ArrayLike<number>, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/** dst += src over N elements. */
export function addIntoRef(dst: Floats, src: ArrayLike<number>, n: number): void {
  for (let i = 0; i < n; i++) dst[i] += src[i];
}
