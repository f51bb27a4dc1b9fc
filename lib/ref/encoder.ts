/**
 * Plain-TypeScript references for the token + position embedding (llm.c's `encoder_forward` and
 * `encoder_backward`).
 *
 * @module
 */
import type { Floats } from "./types.ts";

/**
 * out[b,t,:] = wte[tokens[b,t],:] + wpe[pos0 + t,:].
 *
 * @param out (B, T, C)
 * @param tokens (B, T) token ids < V
 * @param wte (V, C)
 * @param wpe (maxT, C) with pos0 + T ≤ maxT
 */
export function encoderForwardRef(
  out: Floats,
  tokens: ArrayLike<number>,
  wte: ArrayLike<number>,
  wpe: ArrayLike<number>,
  B: number,
  T: number,
  C: number,
  pos0 = 0,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      const w = tokens[b * T + t] * C;
      const p = (pos0 + t) * C;
      for (let i = 0; i < C; i++) out[o + i] = wte[w + i] + wpe[p + i];
    }
  }
}

/**
 * Accumulates dwte[tokens[b,t],:] += dout[b,t,:] and dwpe[t,:] += dout[b,t,:].
 *
 * @param dwte (V, C)
 * @param dwpe (maxT, C)
 * @param dout (B, T, C)
 * @param tokens (B, T)
 */
export function encoderBackwardRef(
  dwte: Floats,
  dwpe: Floats,
  dout: ArrayLike<number>,
  tokens: ArrayLike<number>,
  B: number,
  T: number,
  C: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      const w = tokens[b * T + t] * C;
      const p = t * C;
      for (let i = 0; i < C; i++) {
        dwte[w + i] += dout[o + i];
        dwpe[p + i] += dout[o + i];
      }
    }
  }
}
