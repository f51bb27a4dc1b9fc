/**
 * Layer normalisation forward and backward (as PyTorch/HF LayerNorm with a biased variance).
 *
 * The backward pass reduces dweight/dbias over rows without float atomics: blocks of rows write partial
 * sums into a scratch buffer, then a second kernel sums the blocks in a fixed order. The scratch buffer
 * is allocated lazily inside this module, one per `Gpu`, and grows to the largest (N, C) seen; it is
 * private to these kernels (every use rewrites it before reading it), so callers need not manage it.
 *
 * @module
 */
import forwardCode from "../gpu/kernels/layernorm.wgsl" with { type: "text" };
import backwardCode from "../gpu/kernels/layernorm_backward.wgsl" with { type: "text" };
import reduceCode from "../gpu/kernels/layernorm_reduce.wgsl" with { type: "text" };
import { type Gpu, grid, type Kernel, Uniforms, type View } from "../gpu/runtime.ts";

/**
 * Kernel variant knobs. Defaults are chosen per adapter; tests pass them to exercise the GPU variant on
 * lavapipe and vice versa, and benchmarks to compare.
 */
export interface LayernormTuning {
  /**
   * Lanes per row, a power of two. On lavapipe a workgroup runs on one CPU thread as 8-wide SIMD and
   * every barrier switches between its 8-lane slices, so one slice per row is fastest (measured at
   * N=8192, C=768: forward 29 ms with 8 lanes, 43 ms with 32, 61 ms with 64; backward 39 / 52 / 98 ms).
   * On GPUs 64 lanes cover a C=768 row in 3 coalesced vec4 loads per lane. Default 8 on lavapipe, 64
   * elsewhere.
   */
  lanes?: number;
  /**
   * About how many row blocks the backward pass splits N into (each a workgroup writing one partial sum
   * of dweight/dbias). More blocks mean more parallel workgroups but more partial sums for the
   * fixed-order reduction. Default 64 on lavapipe, 512 elsewhere.
   */
  blocks?: number;
}

function lanes(gpu: Gpu, tuning: LayernormTuning): number {
  const WG = tuning.lanes ?? (gpu.isFallbackAdapter ? 8 : 64);
  if (!Number.isInteger(WG) || WG < 1 || (WG & (WG - 1)) !== 0 || WG > 256) {
    throw new Error(`layernorm: lanes must be a power of two up to 256, got ${WG}`);
  }
  return WG;
}

function rowsPerBlock(gpu: Gpu, N: number, tuning: LayernormTuning): number {
  const target = tuning.blocks ?? (gpu.isFallbackAdapter ? 64 : 512);
  return Math.max(1, Math.ceil(N / Math.max(1, target)));
}

const REDUCE_WG = 64;
const reduceKernel: Kernel = {
  name: "layernorm_reduce",
  code: reduceCode,
  entryPoint: "reduce",
  constants: { WG: REDUCE_WG },
};

function checkShape(N: number, C: number): void {
  if (!Number.isInteger(N) || N < 0) throw new Error(`layernorm: N must be a non-negative integer, got ${N}`);
  if (!Number.isInteger(C) || C <= 0 || C % 4 !== 0) {
    throw new Error(`layernorm: C must be a positive multiple of 4, got ${C}`);
  }
}

function checkView(view: View, floats: number, name: string): void {
  if (view.size < floats * 4) {
    throw new Error(`layernorm: ${name} holds ${view.size / 4} floats, needs ${floats}`);
  }
}

const scratch = new WeakMap<Gpu, View>();

/** The partial-sum scratch for the backward pass, grown (never shrunk) to at least `floats`. */
function partialScratch(gpu: Gpu, floats: number): View {
  let view = scratch.get(gpu);
  if (!view || view.size < floats * 4) {
    // The old buffer is not destroyed: recorded but unsubmitted dispatches may still reference it.
    view = gpu.tensor(Math.max(floats, 1), "layernorm partial sums");
    scratch.set(gpu, view);
  }
  return view;
}

/**
 * out = (inp − mean)/√(var + eps) · weight + bias per row, saving mean and rstd = 1/√(var + eps) for
 * the backward pass.
 *
 * @param out (N, C)
 * @param mean (N)
 * @param rstd (N)
 * @param inp (N, C)
 * @param weight (C)
 * @param bias (C)
 * @param N rows (B·T), any count
 * @param C channels, a multiple of 4
 * @param eps added to the variance (1e-5 for GPT-2)
 * @param tuning kernel variant; defaults suit the adapter
 *
 * @example
 * ```ts
 * layernormForward(gpu, ln1, ln1Mean, ln1Rstd, residual, ln1w, ln1b, B * T, C, 1e-5);
 * ```
 */
export function layernormForward(
  gpu: Gpu,
  out: View,
  mean: View,
  rstd: View,
  inp: View,
  weight: View,
  bias: View,
  N: number,
  C: number,
  eps: number,
  tuning: LayernormTuning = {},
): void {
  checkShape(N, C);
  checkView(out, N * C, "out");
  checkView(mean, N, "mean");
  checkView(rstd, N, "rstd");
  checkView(inp, N * C, "inp");
  checkView(weight, C, "weight");
  checkView(bias, C, "bias");
  if (N === 0) return;
  const kernel: Kernel = {
    name: "layernorm_forward",
    code: forwardCode,
    entryPoint: "forward",
    constants: { WG: lanes(gpu, tuning) },
  };
  const u = new Uniforms().u32(N).u32(C).f32(eps);
  gpu.dispatch(kernel, u, [out, mean, rstd, inp, weight, bias], grid(N));
}

/**
 * Layernorm gradients, accumulated like llm.c: dinp += ∂L/∂inp, dweight += Σ_n norm·dout,
 * dbias += Σ_n dout. The sums over rows are deterministic (bit-identical between runs). Uses a lazily
 * allocated per-`Gpu` scratch buffer of ceil(N / rowsPerBlock)·2·C floats (see the module comment).
 *
 * @param dinp (N, C) accumulated into
 * @param dweight (C) accumulated into
 * @param dbias (C) accumulated into
 * @param dout (N, C)
 * @param inp (N, C) the forward input
 * @param weight (C)
 * @param mean (N) from `layernormForward`
 * @param rstd (N) from `layernormForward`
 * @param N rows (B·T), any count
 * @param C channels, a multiple of 4
 * @param tuning kernel variant; defaults suit the adapter
 */
export function layernormBackward(
  gpu: Gpu,
  dinp: View,
  dweight: View,
  dbias: View,
  dout: View,
  inp: View,
  weight: View,
  mean: View,
  rstd: View,
  N: number,
  C: number,
  tuning: LayernormTuning = {},
): void {
  checkShape(N, C);
  checkView(dinp, N * C, "dinp");
  checkView(dweight, C, "dweight");
  checkView(dbias, C, "dbias");
  checkView(dout, N * C, "dout");
  checkView(inp, N * C, "inp");
  checkView(weight, C, "weight");
  checkView(mean, N, "mean");
  checkView(rstd, N, "rstd");
  if (N === 0) return;
  const WG = lanes(gpu, tuning);
  const sharedBytes = 2 * C * 4 + WG * 8;
  if (sharedBytes > gpu.device.limits.maxComputeWorkgroupStorageSize) {
    throw new Error(
      `layernormBackward: C=${C} needs ${sharedBytes} bytes of workgroup memory, the device allows ` +
        `${gpu.device.limits.maxComputeWorkgroupStorageSize}`,
    );
  }
  const R = rowsPerBlock(gpu, N, tuning);
  const nblocks = Math.ceil(N / R);
  const partial = gpu.slice(partialScratch(gpu, nblocks * 2 * C), 0, nblocks * 2 * C);
  const kernel: Kernel = {
    name: "layernorm_backward",
    code: backwardCode,
    entryPoint: "backward",
    constants: { WG, C4: C / 4 },
  };
  gpu.dispatch(
    kernel,
    new Uniforms().u32(N).u32(C).u32(R),
    [dinp, partial, dout, inp, weight, mean, rstd],
    grid(nblocks),
  );
  gpu.dispatch(
    reduceKernel,
    new Uniforms().u32(C).u32(nblocks),
    [dweight, dbias, partial],
    [Math.ceil((2 * C) / 4 / REDUCE_WG)],
  );
}
