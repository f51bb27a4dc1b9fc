/**
 * Squared global gradient norm, Σ grad², reduced deterministically on the GPU: a first pass writes one
 * partial sum per workgroup (each workgroup owns a fixed block of one binding-sized chunk),
 * a second pass sums the partials in a single workgroup. The result stays on the GPU for AdamW's
 * gradient clipping; read it back only for logging.
 *
 * @module
 */
import code from "../gpu/kernels/gradnorm.wgsl" with { type: "text" };
import { type Gpu, grid, type Kernel, Uniforms, type View } from "../gpu/runtime.ts";
import { bindWindow, checkAligned, checkRange, chunkRange, defaultChunkFloats } from "./chunks.ts";

const WG = 256;
/**
 * vec4s each invocation of the first pass accumulates; a workgroup reduces WG·iters·4 floats. On lavapipe
 * every workgroup's tree reduction costs ~WG/8 coroutine switches per barrier, so large blocks (1 MiB)
 * pay off (gpt2's 124M floats: 820 ms at 4, 280 ms at 16, 140 ms at 256); GPUs want enough workgroups to
 * fill every SM, so they get 128 KiB blocks (3800 workgroups for gpt2).
 */
function iters(gpu: Gpu): number {
  return gpu.isFallbackAdapter ? 256 : 32;
}
const kernel: Kernel = { name: "gradnorm", code, entryPoint: "main", constants: { WG } };

/** Options for `gradNormSquared`. */
export interface GradNormOptions {
  /**
   * Window size in floats (a positive multiple of 64), default `maxBinding` / 4 rounded down to 64.
   * Tests set it small to exercise chunking. The result's rounding depends on it (blocks restart at
   * every window), so keep it fixed for bit-identical runs.
   */
  chunkFloats?: number;
  /**
   * Scratch for the partial sums, at least `gradNormScratchFloats(gpu, n, chunkFloats)` floats. When
   * omitted, the module allocates one per (gpu, size) and keeps it for reuse.
   */
  scratch?: View;
}

/** Partial sums (one per workgroup of the first pass) for `n` floats. */
function partialCount(n: number, chunkFloats: number, blockFloats: number): number {
  let count = 0;
  for (const c of chunkRange(0, n, chunkFloats)) count += Math.ceil(c.hi / blockFloats);
  return count;
}

/**
 * Floats of scratch `gradNormSquared` needs for `n` gradient floats (partials rounded up to a vec4).
 *
 * @param chunkFloats the same window size passed to `gradNormSquared`
 */
export function gradNormScratchFloats(gpu: Gpu, n: number, chunkFloats = defaultChunkFloats(gpu)): number {
  return Math.max(4, Math.ceil(partialCount(n, chunkFloats, WG * iters(gpu) * 4) / 4) * 4);
}

const scratchCache = new WeakMap<Gpu, Map<number, View>>();

function cachedScratch(gpu: Gpu, floats: number): View {
  let perGpu = scratchCache.get(gpu);
  if (!perGpu) scratchCache.set(gpu, perGpu = new Map());
  let view = perGpu.get(floats);
  if (!view) perGpu.set(floats, view = gpu.tensor(floats, "gradnorm partials"));
  return view;
}

/**
 * normSq[0] = Σ grads[i]² over i < n (overwrites), deterministic: two runs give bit-identical results.
 * Records two kinds of dispatch (no readback). `grads` may be larger than one storage binding.
 *
 * @param normSq (1)
 * @param grads (n), its offset a multiple of the storage offset alignment
 * @param n number of floats; any size (the flat gradient buffer's padding is zero and may be included)
 *
 * @example
 * ```ts
 * gradNormSquared(gpu, normSq, grads, layout.total);
 * const norm = Math.sqrt((await gpu.read(normSq))[0]);
 * ```
 */
export function gradNormSquared(
  gpu: Gpu,
  normSq: View,
  grads: View,
  n: number,
  options: GradNormOptions = {},
): void {
  const op = "gradNormSquared";
  checkRange(op, 0, n, grads.size / 4, "grads view");
  if (normSq.size < 4) throw new Error(`${op}: normSq must hold 1 float, got ${normSq.size} bytes`);
  const chunkFloats = options.chunkFloats ?? defaultChunkFloats(gpu);
  const chunks = chunkRange(0, n, chunkFloats);
  const scratchFloats = gradNormScratchFloats(gpu, n, chunkFloats);
  let scratch = options.scratch;
  if (scratch) {
    if (scratch.size < scratchFloats * 4) {
      throw new Error(`${op}: scratch needs ${scratchFloats} floats, got ${scratch.size / 4}`);
    }
  } else {
    scratch = cachedScratch(gpu, scratchFloats);
  }
  checkAligned(gpu, op, "normSq", normSq);
  checkAligned(gpu, op, "scratch", scratch);
  const partials = { buffer: scratch.buffer, offset: scratch.offset, size: scratchFloats * 4 };

  // Pass 1: squares of each window into consecutive partials (n = 0 leaves one zeroed partial).
  const it = iters(gpu);
  let outBase = 0;
  if (chunks.length === 0) gpu.zero({ ...partials, size: 16 });
  for (const c of chunks) {
    const groups = Math.ceil(c.hi / (WG * it * 4));
    const u = new Uniforms().u32(c.lo).u32(c.hi).u32(it).u32(outBase).u32(1);
    gpu.dispatch(kernel, u, [partials, bindWindow(gpu, op, "grads", grads, c)], grid(groups));
    outBase += groups;
  }
  // Pass 2: one workgroup sums the partials in a fixed order.
  const count = Math.max(outBase, 1);
  const finalIters = Math.ceil(Math.ceil(count / 4) / WG);
  const u = new Uniforms().u32(0).u32(count).u32(finalIters).u32(0).u32(0);
  gpu.dispatch(kernel, u, [{ ...normSq, size: 4 }, partials], [1]);
}
