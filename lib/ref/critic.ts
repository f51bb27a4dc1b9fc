/**
 * Plain-TypeScript references for the Wasserstein critic (`lib/ops/critic.ts`): a 2-layer MLP per mapped
 * layer, f(x) = w2 · gelu(x·W1 + b1) + b2, its Wasserstein-1 estimate, the WGAN-GP critic loss with its
 * hand-derived parameter gradient (including the gradient of the gradient-norm penalty), and the student's
 * gradient. Written for clarity and run in float64 for finite-difference checks.
 *
 * Parameters live in one flat array: W1 (C, H) row-major, b1 (H), w2 (H), b2 (1).
 *
 * Notation for one input row x (C): u = x·W1 + b1 (H), a = gelu(u), f = w2·a + b2,
 * δ = w2 ⊙ gelu'(u) (H), so ∂f/∂w2 = a, ∂f/∂b2 = 1, ∂f/∂b1 = δ, ∂f/∂W1[c, j] = x_c·δ_j and
 * g = ∇_x f = W1·δ (C), g_c = Σ_j W1[c, j]·w2_j·gelu'(u_j).
 *
 * Gradient penalty of one interpolate x̂ with r = ‖g‖: φ = (r − 1)². With γ = ∂φ/∂g = 2(r − 1)·g / r (C) and
 * β = W1ᵀγ (H), β_j = Σ_c W1[c, j]·γ_c, differentiating g_c = Σ_j W1[c, j]·w2_j·gelu'(u_j) where
 * u_j = Σ_c' x̂_c'·W1[c', j] + b1_j:
 *
 *     ∂φ/∂w2_j     = Σ_c γ_c·W1[c, j]·gelu'(u_j)                = gelu'(u_j)·β_j
 *     ∂φ/∂b1_j     = Σ_c γ_c·W1[c, j]·w2_j·gelu''(u_j)          = β_j·w2_j·gelu''(u_j) =: η_j
 *     ∂φ/∂W1[c, j] = γ_c·w2_j·gelu'(u_j)  (W1 inside g)  +  β_j·w2_j·gelu''(u_j)·x̂_c  (W1 inside u)
 *                  = γ_c·δ_j + x̂_c·η_j
 *     ∂φ/∂b2       = 0
 *
 * Over a batch these are outer products and column sums: dW1 += Γᵀ·Δ + X̂ᵀ·Η, db1 += Σ_n η_n,
 * dw2 += Σ_n gelu'(u_n) ⊙ β_n, with Γ the rows γ_n (scaled by λ/M), Δ the rows δ_n and Η the rows η_n.
 * For r = 0 the norm has no gradient; γ = 0 is used (g / max(r, 1e-12)).
 *
 * @module
 */
import { GELU_SCALE } from "./gelu.ts";
import type { Floats } from "./types.ts";

const A = 0.044715;

/** Offsets of the critic's tensors in its flat parameter array. */
export interface CriticOffsets {
  w1: number;
  b1: number;
  w2: number;
  b2: number;
  /** Total parameters: C·H + 2H + 1. */
  total: number;
}

/** The flat layout W1 (C, H), b1 (H), w2 (H), b2 (1). */
export function criticOffsets(C: number, H: number): CriticOffsets {
  return { w1: 0, b1: C * H, w2: C * H + H, b2: C * H + 2 * H, total: C * H + 2 * H + 1 };
}

/** gelu(x), gelu'(x) and gelu''(x) of the tanh approximation. */
export function geluDerivativesRef(x: number): { f: number; d1: number; d2: number } {
  const s1 = GELU_SCALE * (1 + 3 * A * x * x); // d/dx of the tanh argument
  const s2 = 6 * GELU_SCALE * A * x;
  const th = Math.tanh(GELU_SCALE * (x + A * x * x * x));
  const sech2 = 1 - th * th;
  return {
    f: 0.5 * x * (1 + th),
    d1: 0.5 * (1 + th) + 0.5 * x * sech2 * s1,
    d2: sech2 * (s1 - x * th * s1 * s1 + 0.5 * x * s2),
  };
}

/** u = x·W1 + b1 of row n. */
function preActivation(
  params: ArrayLike<number>,
  x: ArrayLike<number>,
  n: number,
  C: number,
  H: number,
): Float64Array {
  const o = criticOffsets(C, H);
  const u = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    let s = params[o.b1 + j];
    for (let c = 0; c < C; c++) s += x[n * C + c] * params[o.w1 + c * H + j];
    u[j] = s;
  }
  return u;
}

/**
 * f(x[n]) for every row.
 *
 * @param params (C·H + 2H + 1)
 * @param x (N, C)
 * @returns (N)
 */
export function criticForwardRef(
  params: ArrayLike<number>,
  x: ArrayLike<number>,
  N: number,
  C: number,
  H: number,
): Float64Array {
  const o = criticOffsets(C, H);
  const f = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const u = preActivation(params, x, n, C, H);
    let s = params[o.b2];
    for (let j = 0; j < H; j++) s += params[o.w2 + j] * geluDerivativesRef(u[j]).f;
    f[n] = s;
  }
  return f;
}

/** ∇_x f(x[n]) = W1·(w2 ⊙ gelu'(u)) for every row: (N, C). */
export function criticInputGradRef(
  params: ArrayLike<number>,
  x: ArrayLike<number>,
  N: number,
  C: number,
  H: number,
): Float64Array {
  const o = criticOffsets(C, H);
  const g = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    const u = preActivation(params, x, n, C, H);
    const delta = u.map((uj, j) => params[o.w2 + j] * geluDerivativesRef(uj).d1);
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let j = 0; j < H; j++) s += params[o.w1 + c * H + j] * delta[j];
      g[n * C + c] = s;
    }
  }
  return g;
}

function count(mask: ArrayLike<number>, N: number): number {
  let m = 0;
  for (let n = 0; n < N; n++) if (mask[n] !== 0) m++;
  return m;
}

/** x̂ = ε·hT + (1 − ε)·hS per row, ε (N). */
export function interpolateRef(
  hT: ArrayLike<number>,
  hS: ArrayLike<number>,
  eps: ArrayLike<number>,
  N: number,
  C: number,
): Float64Array {
  const x = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) x[n * C + c] = eps[n] * hT[n * C + c] + (1 - eps[n]) * hS[n * C + c];
  }
  return x;
}

/** The critic's objective and its parts. */
export interface CriticLossRef {
  /** What the critic minimises: −W + λ·penalty. */
  loss: number;
  /** W = mean f(hT) − mean f(hS) over unmasked positions. */
  w: number;
  /** mean over unmasked positions of (‖∇f(x̂)‖ − 1)². */
  penalty: number;
}

/**
 * The WGAN-GP critic loss −W + λ·mean((‖∇_x f(x̂)‖ − 1)²) over unmasked positions (0 terms when all are
 * masked).
 *
 * @param hT (N, C)
 * @param hS (N, C)
 * @param mask (N)
 * @param eps (N) interpolation weights in [0, 1)
 */
export function criticLossRef(
  params: ArrayLike<number>,
  hT: ArrayLike<number>,
  hS: ArrayLike<number>,
  mask: ArrayLike<number>,
  eps: ArrayLike<number>,
  N: number,
  C: number,
  H: number,
  lambdaGp: number,
): CriticLossRef {
  const M = count(mask, N);
  if (M === 0) return { loss: 0, w: 0, penalty: 0 };
  const [fT, fS] = [criticForwardRef(params, hT, N, C, H), criticForwardRef(params, hS, N, C, H)];
  const g = criticInputGradRef(params, interpolateRef(hT, hS, eps, N, C), N, C, H);
  let [sumT, sumS, pen] = [0, 0, 0];
  for (let n = 0; n < N; n++) {
    if (mask[n] === 0) continue;
    sumT += fT[n];
    sumS += fS[n];
    let r2 = 0;
    for (let c = 0; c < C; c++) r2 += g[n * C + c] ** 2;
    pen += (Math.sqrt(r2) - 1) ** 2;
  }
  const w = (sumT - sumS) / M;
  const penalty = pen / M;
  return { loss: -w + lambdaGp * penalty, w, penalty };
}

/**
 * ∂criticLoss/∂params (C·H + 2H + 1), derived by hand (see the module comment): the Wasserstein term
 * adds c_n·(x_n ⊗ δ_n, δ_n, a_n, 1) with c_n = +1/M for hS rows and −1/M for hT rows; the penalty adds
 * (λ/M)·(γ ⊗ δ + x̂ ⊗ η, η, gelu'(u) ⊙ β, 0) per interpolate.
 */
export function criticGradRef(
  params: ArrayLike<number>,
  hT: ArrayLike<number>,
  hS: ArrayLike<number>,
  mask: ArrayLike<number>,
  eps: ArrayLike<number>,
  N: number,
  C: number,
  H: number,
  lambdaGp: number,
): Float64Array {
  const o = criticOffsets(C, H);
  const grad = new Float64Array(o.total);
  const M = count(mask, N);
  if (M === 0) return grad;
  const w1 = (c: number, j: number) => params[o.w1 + c * H + j];
  const w2 = (j: number) => params[o.w2 + j];

  // Wasserstein term: ∂(mean f(hS) − mean f(hT)).
  for (const [x, sign] of [[hS, 1], [hT, -1]] as const) {
    for (let n = 0; n < N; n++) {
      if (mask[n] === 0) continue;
      const cn = sign / M;
      const u = preActivation(params, x, n, C, H);
      for (let j = 0; j < H; j++) {
        const { f: a, d1 } = geluDerivativesRef(u[j]);
        const delta = w2(j) * d1;
        grad[o.w2 + j] += cn * a;
        grad[o.b1 + j] += cn * delta;
        for (let c = 0; c < C; c++) grad[o.w1 + c * H + j] += cn * x[n * C + c] * delta;
      }
      grad[o.b2] += cn;
    }
  }
  if (lambdaGp === 0) return grad;

  // Gradient penalty: λ/M · Σ_n ∂(‖g_n‖ − 1)².
  const xh = interpolateRef(hT, hS, eps, N, C);
  for (let n = 0; n < N; n++) {
    if (mask[n] === 0) continue;
    const u = preActivation(params, xh, n, C, H);
    const d = Array.from(u, (uj) => geluDerivativesRef(uj));
    const delta = d.map((dj, j) => w2(j) * dj.d1);
    const g = new Float64Array(C);
    for (let c = 0; c < C; c++) for (let j = 0; j < H; j++) g[c] += w1(c, j) * delta[j];
    const r = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
    const gamma = g.map((gc) => (lambdaGp / M) * 2 * (r - 1) * gc / Math.max(r, 1e-12));
    for (let j = 0; j < H; j++) {
      let beta = 0;
      for (let c = 0; c < C; c++) beta += w1(c, j) * gamma[c];
      const eta = beta * w2(j) * d[j].d2;
      grad[o.w2 + j] += d[j].d1 * beta;
      grad[o.b1 + j] += eta;
      for (let c = 0; c < C; c++) grad[o.w1 + c * H + j] += gamma[c] * delta[j] + xh[n * C + c] * eta;
    }
  }
  return grad;
}

/** The student's critic loss −mean_{unmasked} f(hS) (0 when all positions are masked). */
export function studentCriticLossRef(
  params: ArrayLike<number>,
  hS: ArrayLike<number>,
  mask: ArrayLike<number>,
  N: number,
  C: number,
  H: number,
): number {
  const M = count(mask, N);
  const f = criticForwardRef(params, hS, N, C, H);
  let s = 0;
  for (let n = 0; n < N; n++) if (mask[n] !== 0) s += f[n];
  return M === 0 ? 0 : -s / M;
}

/**
 * dhS += weight·∂(−mean f(hS))/∂hS = −(weight/M)·∇_x f(hS[n]) on unmasked rows.
 *
 * @param dhS (N, C), accumulated
 */
export function studentCriticGradRef(
  dhS: Floats,
  params: ArrayLike<number>,
  hS: ArrayLike<number>,
  mask: ArrayLike<number>,
  N: number,
  C: number,
  H: number,
  weight: number,
): void {
  const M = Math.max(1, count(mask, N));
  const g = criticInputGradRef(params, hS, N, C, H);
  for (let n = 0; n < N; n++) {
    if (mask[n] === 0) continue;
    for (let c = 0; c < C; c++) dhS[n * C + c] -= (weight / M) * g[n * C + c];
  }
}

/** Clamps every parameter to [−clip, clip] in place (weight clipping, WGAN). */
export function clipParamsRef(params: Floats, clip: number): void {
  for (let i = 0; i < params.length; i++) params[i] = Math.min(clip, Math.max(-clip, params[i]));
}
