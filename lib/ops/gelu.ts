/**
 * GELU activation with the tanh approximation (HF `gelu_new`, as in GPT-2), forward and backward.
 *
 * @module
 */
import code from "../gpu/kernels/gelu.wgsl" with { type: "text" };
import { type Gpu, grid, type Kernel, Uniforms, type View } from "../gpu/runtime.ts";

const WG = 256;
const forwardKernel: Kernel = { name: "gelu_forward", code, entryPoint: "forward", constants: { WG } };
const backwardKernel: Kernel = { name: "gelu_backward", code, entryPoint: "backward", constants: { WG } };
const inplaceKernel: Kernel = {
  name: "gelu_backward_inplace",
  code,
  entryPoint: "backward_inplace",
  constants: { WG },
};

function check(n: number, views: [View, string][]): void {
  if (!Number.isInteger(n) || n < 0 || n % 4 !== 0) {
    throw new Error(`gelu kernels need n to be a non-negative multiple of 4, got ${n}`);
  }
  for (const [view, name] of views) {
    if (view.size < n * 4) throw new Error(`gelu: ${name} holds ${view.size / 4} floats, needs ${n}`);
  }
}

function overlaps(a: View, b: View): boolean {
  return a.buffer === b.buffer && a.offset < b.offset + b.size && b.offset < a.offset + a.size;
}

/**
 * out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), elementwise. `out` must not overlap `inp`.
 *
 * @param out (N)
 * @param inp (N)
 * @param n N, a multiple of 4 (GPT-2 applies it to (B, T, 4·C))
 *
 * @example
 * ```ts
 * geluForward(gpu, fchGelu, fch, B * T * 4 * C);
 * ```
 */
export function geluForward(gpu: Gpu, out: View, inp: View, n: number): void {
  check(n, [[out, "out"], [inp, "inp"]]);
  if (overlaps(out, inp)) throw new Error("geluForward: out must not overlap inp");
  gpu.dispatch(forwardKernel, new Uniforms().u32(n), [out, inp], grid(Math.ceil(n / 4 / WG)));
}

/**
 * dinp = gelu'(inp) · dout, elementwise (overwrites, does NOT accumulate). `dinp` may be the same view
 * as `dout` (in place: same buffer and offset); any other overlap is an error.
 *
 * @param dinp (N)
 * @param inp (N) the forward input
 * @param dout (N)
 * @param n N, a multiple of 4
 */
export function geluBackward(gpu: Gpu, dinp: View, inp: View, dout: View, n: number): void {
  check(n, [[dinp, "dinp"], [inp, "inp"], [dout, "dout"]]);
  if (overlaps(dinp, inp)) throw new Error("geluBackward: dinp must not overlap inp");
  const groups = grid(Math.ceil(n / 4 / WG));
  if (dinp.buffer === dout.buffer && dinp.offset === dout.offset) {
    gpu.dispatch(inplaceKernel, new Uniforms().u32(n), [dinp, inp], groups);
  } else if (overlaps(dinp, dout)) {
    throw new Error("geluBackward: dinp overlaps dout without being the same view");
  } else {
    gpu.dispatch(backwardKernel, new Uniforms().u32(n), [dinp, inp, dout], groups);
  }
}
