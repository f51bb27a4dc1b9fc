/**
 * Hidden-state distillation losses over N positions with a padding mask, for a DistilGPT2-style distiller:
 * the cosine embedding loss between student and teacher hidden states (HF distiller's `alpha_cos` term) and
 * the mean squared error after an optional learned projection Cs → Ct (for a student narrower than its
 * teacher). Each call writes the mean loss to a 1-float view on the GPU and records its gradient; the mean
 * over unmasked positions is taken with the count M computed on the GPU, so nothing is read back.
 *
 * @module
 */
import code from "../gpu/kernels/hidden_losses.wgsl" with { type: "text" };
import { type Gpu, grid, type Kernel, Uniforms, type View } from "../gpu/runtime.ts";
import { biasBackward, matmul } from "./matmul.ts";

const WG = 64;
const kernel = (entryPoint: string): Kernel => ({
  name: `hidden_${entryPoint}`,
  code,
  entryPoint,
  constants: { WG },
});
const countKernel = kernel("count");
const cosineKernel = kernel("cosine_rows");
const mseKernel = kernel("mse_rows");
const mseInPlaceKernel = kernel("mse_rows_inplace");
const finishKernel = kernel("finish");

interface Scratch {
  /** (4): [M, 1/max(M, 1)] */
  stats: View;
  /** (N) per-row losses */
  rowLoss: View;
}
const scratches = new WeakMap<Gpu, Scratch>();

/** Per-device scratch, grown on demand (dispatches run in order, so reuse across calls is safe). */
function scratch(gpu: Gpu, N: number): Scratch {
  let s = scratches.get(gpu);
  if (!s || s.rowLoss.size < N * 4) {
    s = {
      stats: s?.stats ?? gpu.tensor(4, "hidden loss stats"),
      rowLoss: gpu.tensor(Math.max(N, 1024), "hidden row losses"),
    };
    scratches.set(gpu, s);
  }
  return s;
}

function params(N: number, C: number, accumulate: boolean, scale: number, perRow: number): Uniforms {
  return new Uniforms().u32(N).u32(C / 4).u32(accumulate ? 1 : 0).f32(scale).f32(perRow);
}

function check(op: string, name: string, view: View, elements: number): void {
  if (view.size < elements * 4) {
    throw new Error(`${op}: ${name} holds ${view.size / 4} elements, needs ${elements}`);
  }
}

function checkSizes(op: string, sizes: Record<string, number>): void {
  for (const [k, v] of Object.entries(sizes)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${op}: ${k} must be a positive integer, got ${v}`);
  }
  for (const k of Object.keys(sizes).filter((k) => k !== "N")) {
    if (sizes[k] % 4 !== 0) throw new Error(`${op}: ${k}=${sizes[k]} must be a multiple of 4`);
  }
}

function checkScale(op: string, weight: number, gradScale: number): void {
  if (!Number.isFinite(weight) || !Number.isFinite(gradScale)) {
    throw new Error(`${op}: weight and gradScale must be finite, got ${weight} and ${gradScale}`);
  }
}

/**
 * stats[0] = M, the number of positions with mask[n] ≠ 0, and stats[1] = 1 / max(M, 1), as float32.
 * Used by the hidden-state losses and the critic to take means over unmasked positions on the GPU.
 *
 * @param stats (2), written
 * @param mask (N) u32, 0 = padding
 */
export function maskCount(gpu: Gpu, stats: View, mask: View, N: number): void {
  checkSizes("maskCount", { N });
  check("maskCount", "stats", stats, 2);
  check("maskCount", "mask", mask, N);
  gpu.dispatch(countKernel, params(N, 4, false, 0, 1), [stats, mask], [1]);
}

/** Arguments of `cosineLoss`. */
export interface CosineLossArgs {
  /** (1) receives the mean loss over unmasked positions (0 when all are masked). */
  loss: View;
  /** (N, C) receives weight·gradScale·∂loss/∂hS; overwritten unless `accumulate`. */
  dhS: View;
  /** (N, C) student hidden states. */
  hS: View;
  /** (N, C) teacher hidden states. */
  hT: View;
  /** (N) u32, 0 = padding position. */
  mask: View;
  N: number;
  /** Channels, a multiple of 4. */
  C: number;
  /** The loss weight (HF distiller's alpha_cos). */
  weight: number;
  /** Extra gradient factor (e.g. 1 / gradient-accumulation steps). */
  gradScale: number;
  /** dhS += gradient instead of dhS = gradient (default false). */
  accumulate?: boolean;
  /** (N) receives 1 − cos per position (0 where masked), when given. */
  rowLosses?: View;
}

/**
 * Cosine embedding loss with target 1 (torch.nn.CosineEmbeddingLoss, mean reduction over unmasked positions):
 *
 *     loss = mean_{n: mask[n] ≠ 0} (1 − cos(hS[n], hT[n])),   cos = s·t / √((s·s + 1e-12)(t·t + 1e-12))
 *
 * and dhS = weight·gradScale·∂loss/∂hS (zero rows where masked). Deterministic.
 *
 * @example
 * ```ts
 * cosineLoss(gpu, { loss, dhS: dlnf, hS: lnf, hT: teacherLnf, mask, N: B * T, C: 768, weight: 1, gradScale: 1 });
 * ```
 */
export function cosineLoss(gpu: Gpu, args: CosineLossArgs): void {
  const op = "cosineLoss";
  const { N, C } = args;
  checkSizes(op, { N, C });
  checkScale(op, args.weight, args.gradScale);
  check(op, "loss", args.loss, 1);
  for (const [name, v] of [["dhS", args.dhS], ["hS", args.hS], ["hT", args.hT]] as const) {
    check(op, name, v, N * C);
  }
  check(op, "mask", args.mask, N);
  const s = scratch(gpu, N);
  const rowLoss = args.rowLosses ?? s.rowLoss;
  check(op, "rowLosses", rowLoss, N);
  const u = params(N, C, args.accumulate ?? false, args.weight * args.gradScale, 1);
  gpu.dispatch(countKernel, u, [s.stats, args.mask], [1]);
  gpu.dispatch(cosineKernel, u, [s.stats, args.mask, rowLoss, args.dhS, args.hS, args.hT], grid(N));
  gpu.dispatch(finishKernel, u, [s.stats, rowLoss, args.loss], [1]);
}

/** A learned linear projection y = hS·W + b (Cs → Ct) in front of the MSE, with its gradients. */
export interface MseProjection {
  /** (Cs, Ct) */
  weight: View;
  /** (Ct) */
  bias: View;
  /** (Cs, Ct) accumulated (+=). */
  dWeight: View;
  /** (Ct) accumulated (+=). */
  dBias: View;
  /** (N, Ct) scratch: holds y, then dy = ∂(weight·gradScale·loss)/∂y after the call. Its own buffer. */
  workspace: View;
}

/** Arguments of `mseLoss`. */
export interface MseLossArgs {
  /** (1) receives the mean over unmasked elements (0 when all positions are masked). */
  loss: View;
  /** (N, Cs) receives weight·gradScale·∂loss/∂hS; accumulated unless `accumulate` is false. */
  dhS: View;
  /** (N, Cs) student hidden states. */
  hS: View;
  /** (N, Ct) teacher hidden states. */
  hT: View;
  /** (N) u32, 0 = padding position. */
  mask: View;
  N: number;
  /** Student channels, a multiple of 4. */
  Cs: number;
  /** Teacher channels, a multiple of 4 (= Cs without a projection). */
  Ct: number;
  weight: number;
  gradScale: number;
  /** dhS += gradient (default true) instead of dhS = gradient. */
  accumulate?: boolean;
  /** Projection Cs → Ct; required when Cs ≠ Ct. */
  projection?: MseProjection | null;
  /** (N) receives Σ_c (P(hS) − hT)² per position (0 where masked), when given. */
  rowLosses?: View;
}

/**
 * Mean squared error over unmasked elements between the (optionally projected) student and the teacher:
 *
 *     loss = Σ_{n: mask[n] ≠ 0} Σ_c (P(hS)[n, c] − hT[n, c])² / (M·Ct)
 *
 * The kernel computes the loss and dy = weight·gradScale·∂loss/∂P(hS). Without a projection dy goes straight
 * into dhS (+= by default). With one, P(hS) = hS·W + b runs through `matmul` into the workspace, the kernel
 * replaces it by dy, and the projection's backward is chained: dhS (+)= dy·Wᵀ, dW += hSᵀ·dy,
 * db += Σ_n dy[n] (`biasBackward`, deterministic). Deterministic.
 *
 * @example
 * ```ts
 * // student 768 wide, teacher (GPT-2 medium) 1024 wide
 * mseLoss(gpu, { loss, dhS, hS, hT, mask, N, Cs: 768, Ct: 1024, weight: 1, gradScale: 1,
 *   projection: { weight: W, bias: b, dWeight: dW, dBias: db, workspace } });
 * ```
 */
export function mseLoss(gpu: Gpu, args: MseLossArgs): void {
  const op = "mseLoss";
  const { N, Cs, Ct } = args;
  const proj = args.projection ?? null;
  checkSizes(op, { N, Cs, Ct });
  checkScale(op, args.weight, args.gradScale);
  if (!proj && Cs !== Ct) throw new Error(`${op}: Cs=${Cs} differs from Ct=${Ct}: pass a projection`);
  check(op, "loss", args.loss, 1);
  check(op, "dhS", args.dhS, N * Cs);
  check(op, "hS", args.hS, N * Cs);
  check(op, "hT", args.hT, N * Ct);
  check(op, "mask", args.mask, N);
  const accumulate = args.accumulate ?? true;
  const s = scratch(gpu, N);
  const rowLoss = args.rowLosses ?? s.rowLoss;
  check(op, "rowLosses", rowLoss, N);
  const scale = args.weight * args.gradScale;
  gpu.dispatch(countKernel, params(N, Ct, false, scale, Ct), [s.stats, args.mask], [1]);
  if (!proj) {
    const u = params(N, Ct, accumulate, scale, Ct);
    gpu.dispatch(mseKernel, u, [s.stats, args.mask, rowLoss, args.dhS, args.hS, args.hT], grid(N));
  } else {
    check(op, "projection weight", proj.weight, Cs * Ct);
    check(op, "projection dWeight", proj.dWeight, Cs * Ct);
    check(op, "projection bias", proj.bias, Ct);
    check(op, "projection dBias", proj.dBias, Ct);
    check(op, "projection workspace", proj.workspace, N * Ct);
    const y = proj.workspace;
    matmul(gpu, { out: y, a: args.hS, b: proj.weight, bias: proj.bias, M: N, N: Ct, K: Cs });
    const u = params(N, Ct, false, scale, Ct);
    gpu.dispatch(mseInPlaceKernel, u, [s.stats, args.mask, rowLoss, y, args.hT], grid(N));
    matmul(gpu, { out: args.dhS, a: y, b: proj.weight, M: N, N: Cs, K: Ct, transB: true, accumulate });
    matmul(gpu, { out: proj.dWeight, a: args.hS, b: y, M: Cs, N: Ct, K: N, transA: true, accumulate: true });
    biasBackward(gpu, proj.dBias, y, N, Ct);
  }
  gpu.dispatch(finishKernel, params(N, Ct, false, scale, Ct), [s.stats, rowLoss, args.loss], [1]);
}
