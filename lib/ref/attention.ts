/**
 * Plain-TypeScript references for causal multi-head self-attention (HF GPT2Attention: scale 1/√hs, causal
 * mask, softmax, no dropout), written for clarity in the style of llm.c's train_gpt2.c.
 *
 * Layouts: qkv (B, T, 3C) holds q, k, v side by side in each token's row (q = [0, C), k = [C, 2C),
 * v = [2C, 3C)), head h owning channels h·hs .. h·hs + hs − 1 of each; out (B, T, C) uses the same head
 * layout ("merged heads"); lse (B, NH, T) is the logsumexp of each row of scaled scores.
 *
 * @module
 */
import type { Floats } from "./types.ts";

/**
 * out = softmax(q·kᵀ/√hs + causal mask)·v per head, and lse = logsumexp of each (scaled, masked) score row.
 *
 * @param out (B, T, C)
 * @param lse (B, NH, T)
 * @param qkv (B, T, 3C)
 */
export function attentionForwardRef(
  out: Floats,
  lse: Floats,
  qkv: ArrayLike<number>,
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const hs = C / NH;
  const scale = 1 / Math.sqrt(hs);
  const C3 = 3 * C;
  const scores = new Float64Array(T);
  const acc = new Float64Array(hs);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < NH; h++) {
        const q = (b * T + t) * C3 + h * hs;
        // pass 1: scaled scores q·k over visible keys t2 <= t, and their maximum
        let max = -Infinity;
        for (let t2 = 0; t2 <= t; t2++) {
          const k = (b * T + t2) * C3 + C + h * hs;
          let s = 0;
          for (let i = 0; i < hs; i++) s += qkv[q + i] * qkv[k + i];
          scores[t2] = s * scale;
          if (scores[t2] > max) max = scores[t2];
        }
        // pass 2: probabilities, normalised stably around the maximum
        let sum = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          scores[t2] = Math.exp(scores[t2] - max);
          sum += scores[t2];
        }
        lse[(b * NH + h) * T + t] = max + Math.log(sum);
        // pass 3: probability-weighted sum of values
        acc.fill(0);
        for (let t2 = 0; t2 <= t; t2++) {
          const v = (b * T + t2) * C3 + 2 * C + h * hs;
          const p = scores[t2] / sum;
          for (let i = 0; i < hs; i++) acc[i] += p * qkv[v + i];
        }
        out.set(acc, (b * T + t) * C + h * hs);
      }
    }
  }
}

/**
 * Gradient of attentionForwardRef with respect to qkv, from the saved out and lse (dqkv is overwritten).
 * With P = exp(s − lse) the attention probabilities and D = dout·out per query row:
 * dv += P·dout, dS = P·(dout·v − D), dq += dS·k/√hs, dk += dS·q/√hs.
 *
 * @param dqkv (B, T, 3C), overwritten
 * @param dout (B, T, C)
 * @param qkv (B, T, 3C)
 * @param out (B, T, C)
 * @param lse (B, NH, T)
 */
export function attentionBackwardRef(
  dqkv: Floats,
  dout: ArrayLike<number>,
  qkv: ArrayLike<number>,
  out: ArrayLike<number>,
  lse: ArrayLike<number>,
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const hs = C / NH;
  const scale = 1 / Math.sqrt(hs);
  const C3 = 3 * C;
  // accumulate in float64 whatever the output type, then store
  const grad = new Float64Array(B * T * C3);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < NH; h++) {
        const q = (b * T + t) * C3 + h * hs;
        const o = (b * T + t) * C + h * hs;
        let D = 0;
        for (let i = 0; i < hs; i++) D += dout[o + i] * out[o + i];
        const L = lse[(b * NH + h) * T + t];
        for (let t2 = 0; t2 <= t; t2++) {
          const k = (b * T + t2) * C3 + C + h * hs;
          const v = k + C;
          let s = 0;
          let dp = 0;
          for (let i = 0; i < hs; i++) {
            s += qkv[q + i] * qkv[k + i];
            dp += dout[o + i] * qkv[v + i];
          }
          const p = Math.exp(s * scale - L);
          const ds = p * (dp - D);
          for (let i = 0; i < hs; i++) {
            grad[v + i] += p * dout[o + i];
            grad[q + i] += ds * scale * qkv[k + i];
            grad[k + i] += ds * scale * qkv[q + i];
          }
        }
      }
    }
  }
  dqkv.set(grad);
}

/**
 * One decoding step with a KV cache: writes the k, v of the Tn new tokens (positions pos0 .. pos0+Tn−1)
 * into the caches, then out[t] = attention of new token t over cache positions 0 .. pos0+t.
 *
 * @param out (B, Tn, C)
 * @param kcache (B, NH, Tmax, hs), updated
 * @param vcache (B, NH, Tmax, hs), updated
 * @param qkv (B, Tn, 3C)
 */
export function attentionDecodeRef(
  out: Floats,
  kcache: Floats,
  vcache: Floats,
  qkv: ArrayLike<number>,
  B: number,
  Tn: number,
  pos0: number,
  Tmax: number,
  C: number,
  NH: number,
): void {
  const hs = C / NH;
  const scale = 1 / Math.sqrt(hs);
  const C3 = 3 * C;
  const cache = (b: number, h: number, pos: number) => ((b * NH + h) * Tmax + pos) * hs;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < Tn; t++) {
      for (let h = 0; h < NH; h++) {
        const src = (b * Tn + t) * C3 + h * hs;
        const dst = cache(b, h, pos0 + t);
        for (let i = 0; i < hs; i++) {
          kcache[dst + i] = qkv[src + C + i];
          vcache[dst + i] = qkv[src + 2 * C + i];
        }
      }
    }
  }
  const scores = new Float64Array(pos0 + Tn);
  const acc = new Float64Array(hs);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < Tn; t++) {
      const last = pos0 + t;
      for (let h = 0; h < NH; h++) {
        const q = (b * Tn + t) * C3 + h * hs;
        let max = -Infinity;
        for (let j = 0; j <= last; j++) {
          const k = cache(b, h, j);
          let s = 0;
          for (let i = 0; i < hs; i++) s += qkv[q + i] * kcache[k + i];
          scores[j] = s * scale;
          if (scores[j] > max) max = scores[j];
        }
        let sum = 0;
        for (let j = 0; j <= last; j++) {
          scores[j] = Math.exp(scores[j] - max);
          sum += scores[j];
        }
        acc.fill(0);
        for (let j = 0; j <= last; j++) {
          const v = cache(b, h, j);
          const p = scores[j] / sum;
          for (let i = 0; i < hs; i++) acc[i] += p * vcache[v + i];
        }
        out.set(acc, (b * Tn + t) * C + h * hs);
      }
    }
  }
}
