/**
 * General matrix multiply (NN, NT, TN, with bias or accumulation) and the bias gradient.
 *
 * One tiled kernel (64×64 output tiles, 8×8 outputs per invocation, K in slabs of 32 staged in workgroup
 * memory) in two variants that differ only in how K is walked, and a third variant for CPU adapters:
 *
 * - `"looped"`: the classic kernel with the K loop inside the shader; the variant for GPUs.
 * - `"chunked"`: one K slab per dispatch, accumulating into `out` across ceil(K / 32) dispatches. On
 *   llvmpipe (lavapipe, the CPU WebGPU) a barrier turns a shader into a coroutine, and per-invocation
 *   temporaries of a loop that spans barriers live in the coroutine frame; with the only barrier before the
 *   inner loop they stay in registers. The default on fallback adapters (see `matmulVariant`).
 * - `"bcast"`: out = A·Bᵀ with A copied into a uniform buffer and B held in registers, one dispatch per
 *   window of A rows and K slab of 64 (`matmul_bcast.wgsl`). On llvmpipe a uniform-buffer load inside a
 *   loop is a branch-free gather, about three times cheaper than a storage load, so this is the fallback
 *   adapters' kernel for wide NT products such as the lm_head logits (N ≥ 1024). Tall TN products
 *   (M ≥ 1024, such as dwte) and NN products that are deep (K ≥ 4096, such as dx = dlogits·wte) or tall
 *   (M ≥ 256, such as the block forwards) take its mirror image, `matmul_bcast_tn.wgsl`, with 64 rows of B
 *   in the uniform buffer (a B wider than 256 columns in blocks of 256 columns).
 * - `"subgroup"`: for CPU adapters that grant subgroups (lavapipe does): each lane of a subgroup loads an
 *   eighth of the row of op(A) that the others need too and `subgroupBroadcast` hands it round, so a
 *   broadcast costs one load per float instead of eight; a 64-deep slab of eight columns of op(B) per
 *   invocation in registers; NN, NT and TN in one dispatch (`matmul_subgroup.wgsl`). The fallback adapters'
 *   default wherever it is granted.
 *
 * Global memory is accessed as vec4 whenever the row strides are multiples of 4 (every GPT-2 call), and
 * one float at a time otherwise (`matmul_scalar.wgsl`), so any shape, stride and view offset works.
 * `bench/matmul.ts` measures the variants and the earlier kernel versions.
 *
 * @module
 */
import code from "../gpu/kernels/matmul.wgsl" with { type: "text" };
import scalarCode from "../gpu/kernels/matmul_scalar.wgsl" with { type: "text" };
import biasCode from "../gpu/kernels/bias_backward.wgsl" with { type: "text" };
import bcastCode from "../gpu/kernels/matmul_bcast.wgsl" with { type: "text" };
import bcastTnCode from "../gpu/kernels/matmul_bcast_tn.wgsl" with { type: "text" };
import subgroupCode from "../gpu/kernels/matmul_subgroup.wgsl" with { type: "text" };
import { type Gpu, grid, type Kernel, Uniforms, type View } from "../gpu/runtime.ts";

/** Arguments of `matmul`: out (M, N) (+)= op(A)·op(B) (+ bias). */
export interface MatmulArgs {
  /** (M, N) row-major with row stride ldOut. Must not share a buffer with `a`, `b` or `bias`. */
  out: View;
  /** op(A) is (M, K): A is (M, K) row-major, or (K, M) when transA. */
  a: View;
  /** op(B) is (K, N): B is (K, N) row-major, or (N, K) when transB. */
  b: View;
  /** (N), added to every row (only allowed when accumulate is false). */
  bias?: View | null;
  M: number;
  N: number;
  K: number;
  /** NN, NT and TN work; TT throws. */
  transA?: boolean;
  transB?: boolean;
  /** out += op(A)·op(B) instead of out = op(A)·op(B) (+ bias). */
  accumulate?: boolean;
  /** Row strides in elements; defaults N, transA ? M : K, transB ? K : N. */
  ldOut?: number;
  ldA?: number;
  ldB?: number;
}

/**
 * How the kernel walks K: one slab per dispatch (`"chunked"`, llvmpipe), a loop in the shader
 * (`"looped"`), or the broadcast operand through a uniform buffer and the other in registers (`"bcast"`,
 * llvmpipe, NT and TN), or through subgroup broadcasts (`"subgroup"`, llvmpipe with subgroups); the last two
 * fall back to `"chunked"` for arguments they cannot take.
 */
export type MatmulVariant = "chunked" | "looped" | "bcast" | "subgroup";

/** How global memory is accessed: vec4 (strides multiples of 4) or one float at a time (any stride). */
export type MatmulAccess = "vec4" | "scalar";

/** Output rows and columns per workgroup tile. */
export const MATMUL_TILE = 64;
/** K per slab (and per dispatch of the chunked variant). */
export const MATMUL_BK = 32;
/**
 * K per dispatch of the bcast kernels: the slab of the register operand each invocation holds (and, for
 * TN, the rows of B in one window, so B's row stride is at most 256 floats).
 */
export const MATMUL_BCAST_BK = 64;
/** Bytes of the broadcast operand one bcast dispatch reads: its uniform binding, `array<vec4<f32>, 4096>`. */
const BCAST_WINDOW_BYTES = 65536;
/** Narrowest output for which `matmulVariant` picks bcast (the lm_head's vocabulary-wide products). */
const BCAST_MIN_N = 1024;
/** Rows of the register operand each bcast invocation holds (columns of out for NT, rows for TN and NN). */
const BCAST_ROWS = 8;
/**
 * Workgroups a B-broadcast dispatch is split into at least (along N), so that every llvmpipe thread gets
 * work when M is short.
 */
const BCAST_MIN_GROUPS = 8;
/** Shallowest NN product for which `matmulVariant` picks bcast (the lm_head's dx, K = vocabulary). */
const BCAST_MIN_K = 4096;
/**
 * Fewest rows for which `matmulVariant` picks bcast for any NN product (the block forwards, B·T rows):
 * bench/matmul.ts measured it 1.1–2.0× faster than chunked on the tiny preset's blocks (--block 512,128)
 * and 1.5–2.0× on the small preset's (--block 1024,256).
 */
const BCAST_MIN_NN_M = 256;

const INIT_ZERO = 0;
const INIT_BIAS = 1;
const INIT_OUT = 2;

/**
 * The variant `matmul` uses for an M×N×K product on this device: looped on a GPU; on a CPU (fallback)
 * adapter subgroup wherever subgroups are granted (bench/matmul.ts measured it 1.1–3.8× faster than the
 * previous choices on every GPT-2 training shape on lavapipe), otherwise bcast for wide NT products
 * (N ≥ 1024), tall TN products (M ≥ 1024) and deep or tall NN products (K ≥ 4096 or M ≥ 256), chunked
 * for the rest. Measurements on lavapipe have not shown a shape where the looped variant wins there.
 */
export function matmulVariant(
  gpu: Gpu,
  M: number,
  N: number,
  K: number,
  transA = false,
  transB = false,
): MatmulVariant {
  if (!gpu.isFallbackAdapter) return "looped";
  if (gpu.hasSubgroups) return "subgroup";
  const wideNT = transB && !transA && N >= BCAST_MIN_N;
  const tallTN = transA && !transB && M >= BCAST_MIN_N;
  const deepNN = !transA && !transB && (K >= BCAST_MIN_K || M >= BCAST_MIN_NN_M);
  return wideNT || tallTN || deepNN ? "bcast" : "chunked";
}

/**
 * Records out (M, N) = op(A)·op(B) (+ bias), or out += op(A)·op(B) with `accumulate`.
 *
 * @example
 * ```ts
 * // linear forward: out (N, OC) = inp (N, C) · W (C, OC) + b
 * matmul(gpu, { out, a: inp, b: W, bias: b, M: N, N: OC, K: C });
 * // its backward: dinp += dout · Wᵀ, dW += inpᵀ · dout
 * matmul(gpu, { out: dinp, a: dout, b: W, M: N, N: C, K: OC, transB: true, accumulate: true });
 * matmul(gpu, { out: dW, a: inp, b: dout, M: C, N: OC, K: N, transA: true, accumulate: true });
 * ```
 */
export function matmul(gpu: Gpu, args: MatmulArgs): void {
  matmulWith(gpu, args, matmulVariant(gpu, args.M, args.N, args.K, args.transA, args.transB));
}

/**
 * `matmul` with an explicit variant, and optionally an explicit access mode (`"scalar"` always works;
 * `"vec4"` throws when the strides or views do not allow it). Tests and benchmarks use it to run every
 * variant on any adapter.
 */
export function matmulWith(
  gpu: Gpu,
  args: MatmulArgs,
  variant: MatmulVariant,
  access?: MatmulAccess,
): void {
  const { M, N, K } = args;
  const transA = args.transA ?? false;
  const transB = args.transB ?? false;
  const accumulate = args.accumulate ?? false;
  const bias = args.bias ?? null;
  const ldOut = args.ldOut ?? N;
  const ldA = args.ldA ?? (transA ? M : K);
  const ldB = args.ldB ?? (transB ? K : N);
  for (
    const [name, v] of [["M", M], ["N", N], ["K", K], ["ldOut", ldOut], ["ldA", ldA], ["ldB", ldB]] as const
  ) {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** 31) {
      throw new Error(`matmul: ${name} must be a non-negative integer, got ${v}`);
    }
  }
  if (transA && transB) throw new Error("matmul: transA with transB (TT) is not supported");
  if (bias && accumulate) throw new Error("matmul: bias cannot be combined with accumulate");
  // Stored shapes: A is rowsA × colsA with stride ldA, and so on.
  const [rowsA, colsA] = transA ? [K, M] : [M, K];
  const [rowsB, colsB] = transB ? [N, K] : [K, N];
  checkMatrix("out", args.out, M, N, ldOut);
  checkMatrix("a", args.a, rowsA, colsA, ldA);
  checkMatrix("b", args.b, rowsB, colsB, ldB);
  if (bias && bias.size / 4 < N) {
    throw new Error(`matmul: bias has ${bias.size / 4} elements, needs N = ${N}`);
  }
  if (M === 0 || N === 0 || (K === 0 && accumulate)) return;

  // A single row's stride is never used; give it one that keeps vec4 indexing exact.
  const vecLd = (rows: number, cols: number, ld: number) => rows <= 1 ? Math.ceil(cols / 4) * 4 : ld;
  const [vldOut, vldA, vldB] = [vecLd(M, N, ldOut), vecLd(rowsA, colsA, ldA), vecLd(rowsB, colsB, ldB)];
  const canVec = vec4Ok(args.out, M, N, vldOut) && vec4Ok(args.a, rowsA, colsA, vldA) &&
    vec4Ok(args.b, rowsB, colsB, vldB) && (!bias || vec4Ok(bias, 1, N, Math.ceil(N / 4) * 4));
  const mode = access ?? (canVec ? "vec4" : "scalar");
  if (mode === "vec4" && !canVec) {
    throw new Error("matmul: vec4 access needs row strides that are multiples of 4 and vec4-aligned views");
  }
  const vec = mode === "vec4";
  // What the product starts from (the first K slab's init in every kernel).
  const first = accumulate ? INIT_OUT : bias ? INIT_BIAS : INIT_ZERO;
  if (variant === "subgroup") {
    if (gpu.hasSubgroups && vec) {
      matmulSubgroup(gpu, args, vldA, vldB, vldOut, first, transA, transB);
      return;
    }
    variant = "chunked";
  }
  if (variant === "bcast") {
    if (vec && transB && !transA && bcastRows(gpu, vldA) > 0) {
      matmulBcast(gpu, args, vldA, vldB, vldOut, first);
      return;
    }
    if (vec && !transB) {
      matmulBcastB(gpu, args, vldA, vldB, vldOut, first, transA);
      return;
    }
    variant = "chunked";
  }
  // vec4 bindings are widened to whole vec4s (views start 256-byte aligned and buffers are sized in 16s);
  // elements past a view's end are never used: reads are masked, writes restore the old values.
  const bind = vec ? widen : (v: View) => v;
  const kernel: Kernel = {
    name: vec ? "matmul" : "matmul_scalar",
    code: vec ? code : scalarCode,
    entryPoint: variant === "chunked" ? "chunk" : "looped",
    constants: { TRANS_A: transA ? 1 : 0, TRANS_B: transB ? 1 : 0 },
  };
  const views = [bind(args.out), bind(args.a), bind(args.b), bind(bias ?? args.a)];
  const tilesN = Math.ceil(N / MATMUL_TILE);
  const tiles = Math.ceil(M / MATMUL_TILE) * tilesN;
  const workgroups = grid(tiles);
  const strides = vec ? [vldA / 4, vldB / 4, vldOut / 4] : [ldA, ldB, ldOut];
  const params = (k0: number, kEnd: number, init: number) =>
    new Uniforms().u32(M).u32(N).u32(K).u32(strides[0]).u32(strides[1]).u32(strides[2])
      .u32(k0).u32(kEnd).u32(init).u32(tilesN).u32(tiles);
  if (variant === "looped") {
    gpu.dispatch(kernel, params(0, K, first), views, workgroups);
    return;
  }
  // K = 0 still needs one dispatch to write the bias (or zeros).
  for (let k0 = 0; k0 < Math.max(K, 1); k0 += MATMUL_BK) {
    gpu.dispatch(
      kernel,
      params(k0, Math.min(k0 + MATMUL_BK, K), k0 === 0 ? first : INIT_OUT),
      views,
      workgroups,
    );
  }
}

const bcastKernel: Kernel = { name: "matmul_bcast", code: bcastCode };
const bcastStaging = new WeakMap<Gpu, GPUBuffer>();

/**
 * Copies the broadcast operand, a rows × cols matrix with row stride ld in `view`, into the per-device
 * uniform staging buffer (grown as needed, with a window's worth of slack past the end so that every
 * window binding fits) and returns that buffer. Commands run in order, so later calls may reuse it.
 */
function stageBroadcast(gpu: Gpu, view: View, rows: number, cols: number, ld: number): GPUBuffer {
  const bytes = cols > 0 ? ((rows - 1) * ld + cols) * 4 : 0;
  const staging = growStaging(gpu, bytes + BCAST_WINDOW_BYTES);
  if (bytes > 0) gpu.copy(view, { buffer: staging, offset: 0, size: bytes }, bytes);
  return staging;
}

/** The per-device uniform staging buffer, grown (at least doubled) to hold `bytes`. */
function growStaging(gpu: Gpu, bytes: number): GPUBuffer {
  let staging = bcastStaging.get(gpu);
  if (!staging || staging.size < bytes) {
    const size = Math.max(bytes, 2 * (staging?.size ?? 0));
    staging = gpu.uniformBuffer(size, "matmul_bcast operand");
    bcastStaging.set(gpu, staging);
  }
  return staging;
}

/**
 * Rows of A (row stride ld floats) per bcast window: as many as fit its 64 KiB binding, a multiple of the
 * rows that keep every window's offset aligned for a uniform binding; 0 when not even one fits.
 */
function bcastRows(gpu: Gpu, ld: number): number {
  const align = gpu.device.limits.minUniformBufferOffsetAlignment;
  const rowBytes = Math.max(ld, 1) * 4;
  const step = align / gcd(rowBytes, align);
  return Math.floor(Math.floor(BCAST_WINDOW_BYTES / rowBytes) / step) * step;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * The bcast variant: copies A (M, K) (stride ldA) into a per-device uniform staging buffer, then one
 * dispatch per window of rows and K slab of 64; the first slab starts from `first` (zero, bias or out),
 * the others accumulate.
 */
function matmulBcast(
  gpu: Gpu,
  args: MatmulArgs,
  ldA: number,
  ldB: number,
  ldOut: number,
  first: number,
): void {
  const { M, N, K } = args;
  const staging = stageBroadcast(gpu, args.a, M, K, ldA);
  const rowsPer = bcastRows(gpu, ldA);
  const out = widen(args.out);
  const b = widen(args.b);
  const bias = widen(args.bias ?? args.b);
  const groups = Math.ceil(Math.ceil(N / BCAST_ROWS) / 64);
  for (let m0 = 0; m0 < M; m0 += rowsPer) {
    const window = { buffer: staging, offset: m0 * ldA * 4, size: BCAST_WINDOW_BYTES };
    // K = 0 still needs one dispatch to write the bias (or zeros).
    for (let k0 = 0; k0 < Math.max(K, 1); k0 += MATMUL_BCAST_BK) {
      const u = new Uniforms().u32(Math.min(rowsPer, M - m0)).u32(N).u32(K).u32(ldA / 4).u32(ldB / 4)
        .u32(ldOut / 4).u32(m0).u32(k0 / 4).u32(k0 === 0 ? first : INIT_OUT);
      gpu.dispatch(bcastKernel, u, [out, window, b, bias], [groups]);
    }
  }
}

/** The B-broadcast kernel for TN (A stored (K, M)) or NN (A stored (M, K)) with workgroups of `wg`. */
function bcastBKernel(transA: boolean, wg: number): Kernel {
  return transA
    ? { name: "matmul_bcast_tn", code: bcastTnCode, constants: { WG: wg } }
    : { name: "matmul_bcast_nn", code: bcastTnCode, constants: { A_MK: 1, WG: wg } };
}

/**
 * The bcast variant with B broadcast: out (M, N) (+)= op(A)·B, op(A) = Aᵀ (TN, transA) or A (NN), with
 * B (K, N) (stride ldB) copied into the uniform staging buffer and read 64 rows (one K slab) per
 * dispatch; the first slab starts from `first`, the others accumulate. A B whose 64 rows do not fit one
 * window (N > 256, such as the qkv and fc weights) is done in blocks of 256 columns, each staged densely.
 */
function matmulBcastB(
  gpu: Gpu,
  args: MatmulArgs,
  ldA: number,
  ldB: number,
  ldOut: number,
  first: number,
  transA: boolean,
): void {
  const { M, N, K } = args;
  const a = widen(args.a);
  // Workgroups of 64 invocations (BCAST_ROWS rows each), shrunk to no fewer than 8 while there would be
  // fewer than BCAST_MIN_GROUPS of them; then each block's columns are split among workgroups along y.
  const invocations = Math.ceil(M / BCAST_ROWS);
  let wg = 64;
  while (wg > 8 && Math.ceil(invocations / wg) < BCAST_MIN_GROUPS) wg /= 2;
  const kernel = bcastBKernel(transA, wg);
  const groups = Math.ceil(invocations / wg);
  const fits = MATMUL_BCAST_BK * ldB * 4 <= BCAST_WINDOW_BYTES;
  const blockCols = fits ? N : BCAST_BLOCK_COLS;
  for (let n0 = 0; n0 < N; n0 += blockCols) {
    const cols = Math.min(blockCols, N - n0);
    // B's rows: K of them, `cols` wide (empty when K = 0); a block is staged with row stride `cols`.
    const ld = fits ? ldB : cols;
    const staging = stageColumns(gpu, args.b, K, n0, K > 0 ? cols : 0, ldB, ld);
    const out = widen(fromColumn(args.out, n0));
    const bias = widen(args.bias ? fromColumn(args.bias, n0) : args.a);
    const nqs = Math.ceil(cols / 4);
    const split = Math.min(nqs, Math.ceil(BCAST_MIN_GROUPS / groups));
    const nqPer = Math.ceil(nqs / split);
    const groupsY = Math.ceil(nqs / nqPer);
    // K = 0 still needs one dispatch to write the bias (or zeros).
    for (let k0 = 0; k0 < Math.max(K, 1); k0 += MATMUL_BCAST_BK) {
      const window = { buffer: staging, offset: k0 * ld * 4, size: BCAST_WINDOW_BYTES };
      const u = new Uniforms().u32(M).u32(cols).u32(K).u32(ldA / 4).u32(ld / 4).u32(ldOut / 4).u32(k0)
        .u32(k0 === 0 ? first : INIT_OUT).u32(nqPer);
      gpu.dispatch(kernel, u, [out, window, a, bias, a], [groups, groupsY]);
    }
  }
}

/** Columns of out per invocation of `matmul_subgroup.wgsl`, and its slab depth (k per loaded slab). */
const SUBGROUP_COLS = 8;
const SUBGROUP_SLAB = 64;
/**
 * Threads llvmpipe runs workgroups on (one per CPU); a subgroup dispatch whose columns give fewer
 * workgroups splits its rows into this many parts along y, and no more: every part loads each slab of
 * op(B) again, and on lm_head's dx (M=1024 N=256 K=50257) bench/matmul.ts measured 2 parts at 38.9 GFLOP/s
 * against 22.8 with 16 on this 2-core machine.
 */
const CPU_THREADS = Math.max(2, navigator.hardwareConcurrency ?? 2);
/** Rows per workgroup at most: a tall product (dwte's 50257 rows) spreads over more, evening out the threads. */
const SUBGROUP_MAX_ROWS = 4096;
/** Rows per workgroup at least, when splitting a short product among threads. */
const SUBGROUP_MIN_ROWS = 32;
/**
 * Invocations (N/8) from which a subgroup dispatch takes workgroups of 64 instead of 8 (one subgroup):
 * bench/matmul.ts measured the lm_head logits (N=50257) at 60 GFLOP/s with 64 against 45 with 8, and the
 * block products (N ≤ 4·C) as fast or faster with 8. Two sizes keep llvmpipe's shader compiles (seconds
 * each) to two per layout.
 */
const SUBGROUP_WIDE = 512;
/**
 * Loop iterations one invocation of a subgroup dispatch may run (slabs × (rows + 1)): llvmpipe before
 * Mesa 23 ends every shader's loops after 65535 iterations in all (its loop limiter), which silently cut
 * dx (K = 50257, 786 slabs) short; a deep product is split into dispatches of fewer slabs.
 */
const SUBGROUP_LOOP_BUDGET = 16384;

/**
 * The subgroup variant: `matmul_subgroup.wgsl` with every K slab of 64 inside one dispatch (several for
 * deep products, see SUBGROUP_LOOP_BUDGET); vec4 strides and views.
 */
function matmulSubgroup(
  gpu: Gpu,
  args: MatmulArgs,
  ldA: number,
  ldB: number,
  ldOut: number,
  first: number,
  transA: boolean,
  transB: boolean,
): void {
  const { M, N, K } = args;
  const invocations = Math.ceil(N / SUBGROUP_COLS);
  const wg = invocations >= SUBGROUP_WIDE ? 64 : 8;
  const groupsX = Math.ceil(invocations / wg);
  const split = Math.min(
    Math.max(Math.ceil(CPU_THREADS / groupsX), Math.ceil(M / SUBGROUP_MAX_ROWS)),
    Math.max(1, Math.floor(M / SUBGROUP_MIN_ROWS)),
  );
  const mPer = Math.ceil(M / split);
  const kernel: Kernel = {
    name: `matmul_subgroup_${transA ? "tn" : transB ? "nt" : "nn"}`,
    code: subgroupCode,
    constants: { A_KM: transA ? 1 : 0, B_KN: transB ? 0 : 1, WG: wg },
  };
  const views = [widen(args.out), widen(args.a), args.a, widen(args.b), args.b, widen(args.bias ?? args.a)];
  const kPer = SUBGROUP_SLAB * Math.max(1, Math.floor(SUBGROUP_LOOP_BUDGET / (mPer + 1)));
  // K = 0 still needs one dispatch to write the bias (or zeros).
  for (let k0 = 0; k0 < Math.max(K, 1); k0 += kPer) {
    const u = new Uniforms().u32(M).u32(N).u32(K).u32(ldA).u32(ldB).u32(ldOut).u32(k0)
      .u32(Math.min(K, k0 + kPer)).u32(first).u32(mPer);
    gpu.dispatch(kernel, u, views, [groupsX, Math.ceil(M / mPer)]);
  }
}

/** The view starting n0 floats later (column n0 of a row-major matrix). */
function fromColumn(view: View, n0: number): View {
  return { buffer: view.buffer, offset: view.offset + n0 * 4, size: view.size - n0 * 4 };
}

/** Columns per block of a B-broadcast product whose B rows are too wide for one window: 64 rows of 256. */
const BCAST_BLOCK_COLS = BCAST_WINDOW_BYTES / 4 / MATMUL_BCAST_BK;

/**
 * Copies B[0 .. rows, n0 .. n0 + cols) (row stride ld in `view`) into the uniform staging buffer with row
 * stride `to` (one copy when the rows are copied whole, else one per row) and returns that buffer.
 */
function stageColumns(
  gpu: Gpu,
  view: View,
  rows: number,
  n0: number,
  cols: number,
  ld: number,
  to: number,
): GPUBuffer {
  if (to === ld) return stageBroadcast(gpu, fromColumn(view, n0), rows, cols, ld);
  const buffer = growStaging(gpu, rows * to * 4 + BCAST_WINDOW_BYTES);
  for (let r = 0; r < rows; r++) {
    const src = { buffer: view.buffer, offset: view.offset + (r * ld + n0) * 4, size: cols * 4 };
    gpu.copy(src, { buffer, offset: r * to * 4, size: cols * 4 }, cols * 4);
  }
  return buffer;
}

/** Throws unless `view` holds a rows × cols matrix with row stride ld ≥ cols. */
function checkMatrix(name: string, view: View, rows: number, cols: number, ld: number): void {
  if (rows === 0 || cols === 0) return;
  if (ld < cols) throw new Error(`matmul: ${name} row stride ${ld} is smaller than its ${cols} columns`);
  const need = (rows - 1) * ld + cols;
  if (view.size / 4 < need) {
    throw new Error(
      `matmul: ${name} view has ${
        view.size / 4
      } elements, a ${rows}×${cols} matrix with stride ${ld} needs ${need}`,
    );
  }
}

/** Whether a rows × cols matrix (stride ld) in `view` can be read and written as whole vec4s. */
function vec4Ok(view: View, rows: number, cols: number, ld: number): boolean {
  if (ld % 4 !== 0 || view.offset % 16 !== 0) return false;
  const widened = Math.ceil(view.size / 16) * 16;
  if (view.offset + widened > view.buffer.size) return false;
  if (rows === 0 || cols === 0) return true;
  return ((rows - 1) * ld + Math.ceil(cols / 4) * 4) * 4 <= widened;
}

/** The view rounded up to a whole number of vec4s. */
function widen(view: View): View {
  return { buffer: view.buffer, offset: view.offset, size: Math.ceil(view.size / 16) * 16 };
}

const BIAS_WG = 64;
/** Rows per block of the first bias-gradient pass. */
const BIAS_ROWS = 256;
const biasPartial: Kernel = {
  name: "bias_backward",
  code: biasCode,
  entryPoint: "partial_sums",
  constants: { WG: BIAS_WG },
};
const biasFinish: Kernel = {
  name: "bias_backward",
  code: biasCode,
  entryPoint: "finish",
  constants: { WG: BIAS_WG },
};
const scratch = new WeakMap<Gpu, View>();

/** A per-device scratch tensor of at least `floats` elements, reused across calls (dispatches run in order). */
function scratchTensor(gpu: Gpu, floats: number): View {
  let view = scratch.get(gpu);
  if (!view || view.size < floats * 4) {
    view = gpu.tensor(Math.max(floats, 1024), "bias_backward partials");
    scratch.set(gpu, view);
  }
  return view;
}

/**
 * dbias += column sums of dout. Deterministic: rows are summed in fixed blocks of 256, in order, and the
 * block sums in order.
 *
 * @param dbias (OC)
 * @param dout (N, OC)
 */
export function biasBackward(gpu: Gpu, dbias: View, dout: View, N: number, OC: number): void {
  for (const [name, v] of [["N", N], ["OC", OC]] as const) {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** 31) {
      throw new Error(`biasBackward: ${name} must be a non-negative integer, got ${v}`);
    }
  }
  if (dbias.size / 4 < OC) {
    throw new Error(`biasBackward: dbias has ${dbias.size / 4} elements, needs OC = ${OC}`);
  }
  if (dout.size / 4 < N * OC) {
    throw new Error(`biasBackward: dout has ${dout.size / 4} elements, needs N·OC = ${N * OC}`);
  }
  if (N === 0 || OC === 0) return;
  // At most 65535 blocks per dispatch dimension.
  const rows = Math.max(BIAS_ROWS, Math.ceil(N / 65535));
  const blocks = Math.ceil(N / rows);
  const partials = scratchTensor(gpu, blocks === 1 ? 1 : blocks * OC);
  const u = new Uniforms().u32(N).u32(OC).u32(rows).u32(blocks).u32(blocks === 1 ? 1 : 0);
  const groups = Math.ceil(OC / BIAS_WG);
  gpu.dispatch(biasPartial, u, [dbias, partials, dout], [groups, blocks]);
  if (blocks > 1) gpu.dispatch(biasFinish, u, [dbias, partials], [groups]);
}

/** FLOPs of one matmul, 2·M·N·K, for benchmarks. */
export function matmulFlops(M: number, N: number, K: number): number {
  return 2 * M * N * K;
}
