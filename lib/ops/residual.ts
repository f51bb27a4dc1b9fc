/**
 * Residual connection: forward add and gradient accumulation.
 *
 * @module
 */
import code from "../gpu/kernels/residual.wgsl" with { type: "text" };
import { type Gpu, grid, type Kernel, Uniforms, type View } from "../gpu/runtime.ts";

const WG = 256;
const forwardKernel: Kernel = { name: "residual_forward", code, entryPoint: "forward", constants: { WG } };
const addIntoKernel: Kernel = { name: "add_into", code, entryPoint: "add_into", constants: { WG } };

function checkMultipleOf4(n: number): void {
  if (n % 4 !== 0) throw new Error(`residual kernels need N divisible by 4, got ${n}`);
}

/**
 * out = a + b, elementwise.
 *
 * @param out (N)
 * @param a (N)
 * @param b (N)
 * @param n N, a multiple of 4 (every activation in GPT-2 is a multiple of C, and C of NH)
 *
 * @example
 * ```ts
 * residualForward(gpu, residual2, residual1, attnProj, B * T * C);
 * ```
 */
export function residualForward(gpu: Gpu, out: View, a: View, b: View, n: number): void {
  checkMultipleOf4(n);
  gpu.dispatch(forwardKernel, new Uniforms().u32(n), [out, a, b], grid(Math.ceil(n / 4 / WG)));
}

/**
 * dst += src, elementwise: gradient accumulation for residual branches.
 *
 * @param dst (N)
 * @param src (N)
 */
export function addInto(gpu: Gpu, dst: View, src: View, n: number): void {
  checkMultipleOf4(n);
  gpu.dispatch(addIntoKernel, new Uniforms().u32(n), [dst, src], grid(Math.ceil(n / 4 / WG)));
}
