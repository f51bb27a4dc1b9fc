/**
 * General matrix multiply and the bias gradient.
 *
 * @module
 */
import naiveCode from "../gpu/kernels/matmul_naive.wgsl" with { type: "text" };
import biasCode from "../gpu/kernels/bias_backward.wgsl" with { type: "text" };
import type { Gpu, Kernel, View } from "../gpu/runtime.ts";
import { Uniforms } from "../gpu/runtime.ts";

/** Arguments of `matmul`: out (M, N) (+)= op(A) · op(B) (+ bias). */
export interface MatmulArgs {
  /** (M, N) row-major with row stride ldOut. */
  out: View;
  /** op(A) is (M, K): A is (M, K) row-major, or (K, M) when transA. */
  a: View;
  /** op(B) is (K, N): B is (K, N) row-major, or (N, K) when transB. */
  b: View;
  /** (N), added to every row (only without accumulate). */
  bias?: View | null;
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  /** out += op(A)·op(B) instead of out = op(A)·op(B) (+ bias). */
  accumulate?: boolean;
  ldOut?: number;
  ldA?: number;
  ldB?: number;
}

const naive: Kernel = { name: "matmul_naive", code: naiveCode };
const biasKernel: Kernel = { name: "bias_backward", code: biasCode, constants: { WG: 64 } };

const dummies = new WeakMap<Gpu, View>();
/** A bias binding for calls without bias (a binding cannot alias the writable output). */
function dummy(gpu: Gpu): View {
  let v = dummies.get(gpu);
  if (!v) dummies.set(gpu, v = gpu.tensor(4, "no bias"));
  return v;
}

/** Records out (M, N) (+)= op(A) · op(B) (+ bias). */
export function matmul(gpu: Gpu, args: MatmulArgs): void {
  const { M, N, K } = args;
  const transA = args.transA ?? false;
  const transB = args.transB ?? false;
  const ldOut = args.ldOut ?? N;
  const ldA = args.ldA ?? (transA ? M : K);
  const ldB = args.ldB ?? (transB ? K : N);
  if (args.bias && args.accumulate) throw new Error("matmul: bias cannot be combined with accumulate");
  if (M === 0 || N === 0) return;
  const u = new Uniforms().u32(M).u32(N).u32(K).u32(ldA).u32(ldB).u32(ldOut)
    .u32(transA ? 1 : 0).u32(transB ? 1 : 0).u32(args.accumulate ? 1 : 0).u32(args.bias ? 1 : 0);
  gpu.dispatch(naive, u, [args.out, args.a, args.b, args.bias ?? dummy(gpu)], [
    Math.ceil(N / 16),
    Math.ceil(M / 16),
  ]);
}

/** dbias (OC) += column sums of dout (N, OC). Deterministic. */
export function biasBackward(gpu: Gpu, dbias: View, dout: View, N: number, OC: number): void {
  gpu.dispatch(biasKernel, new Uniforms().u32(N).u32(OC), [dbias, dout], [Math.ceil(OC / 64)]);
}

/** FLOPs of one matmul, 2·M·N·K. */
export function matmulFlops(M: number, N: number, K: number): number {
  return 2 * M * N * K;
}
