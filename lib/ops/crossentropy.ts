/**
 * The model's output layer loss: fused softmax + cross-entropy over the (padded) vocabulary, with the
 * gradient written in place of the logits, and row-wise softmax with temperature for sampling.
 *
 * Logits are (N, Vp): V real vocabulary columns followed by Vp − V padding columns (GPT-2: V = 50257,
 * Vp = 50304), which never take part in the softmax. Matrices larger than one storage binding are processed
 * in row parts (see `rowParts`).
 *
 * @module
 */
import code from "../gpu/kernels/crossentropy.wgsl" with { type: "text" };
import { type Gpu, grid, type Kernel, rowParts, Uniforms, type View } from "../gpu/runtime.ts";

/** Invocations per workgroup (one workgroup per row). */
const WG = 256;
const crossEntropyKernel: Kernel = {
  name: "cross_entropy",
  code,
  entryPoint: "cross_entropy",
  constants: { WG },
};
const softmaxKernel: Kernel = { name: "softmax_rows", code, entryPoint: "softmax", constants: { WG } };

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions {
  /** Overwrite the logits with the gradient of gradScale · Σ losses. */
  writeGradient: boolean;
  /** Factor of the gradient, typically 1 / (number of non-ignored targets) for a mean loss. */
  gradScale: number;
}

function checkSizes(op: string, N: number, V: number, Vp: number): void {
  for (const [k, v] of Object.entries({ N, V, Vp })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${op}: ${k} must be a positive integer, got ${v}`);
  }
  if (V > Vp) throw new Error(`${op}: V=${V} exceeds the padded width Vp=${Vp}`);
  if (Vp % 4 !== 0) throw new Error(`${op}: Vp=${Vp} must be a multiple of 4`);
}

function checkView(op: string, name: string, view: View, elements: number): void {
  if (view.size < elements * 4) {
    throw new Error(`${op}: ${name} holds ${view.size / 4} elements, needs ${elements}`);
  }
}

/**
 * For each row n: losses[n] = logsumexp(logits[n, 0:V]) − logits[n, targets[n]], and 0 where targets[n] < 0
 * (ignored, as HF's −100). A target ≥ V gives a NaN loss. With `writeGradient`, logits is OVERWRITTEN IN
 * PLACE with (softmax(logits[n]) − onehot(targets[n]))·gradScale for non-ignored rows and 0 for ignored rows;
 * padding columns V .. Vp−1 are set to 0. Deterministic.
 *
 * @param losses (N) float32
 * @param logits (N, Vp), read (and overwritten by the gradient with `writeGradient`)
 * @param targets (N) int32
 *
 * @example
 * ```ts
 * crossEntropy(gpu, losses, logits, targets, B * T, 50257, 50304, { writeGradient: true, gradScale: 1 / (B * T) });
 * ```
 */
export function crossEntropy(
  gpu: Gpu,
  losses: View,
  logits: View,
  targets: View,
  N: number,
  V: number,
  Vp: number,
  options: CrossEntropyOptions,
): void {
  const op = "crossEntropy";
  checkSizes(op, N, V, Vp);
  if (!Number.isFinite(options.gradScale)) throw new Error(`${op}: gradScale must be finite`);
  checkView(op, "losses", losses, N);
  checkView(op, "logits", logits, N * Vp);
  checkView(op, "targets", targets, N);
  for (const part of rowParts(gpu, gpu.slice(logits, 0, N * Vp), N, Vp)) {
    const u = new Uniforms()
      .u32(part.rows).u32(V).u32(Vp / 4).u32(part.row0)
      .u32(options.writeGradient ? 1 : 0).f32(options.gradScale).f32(1);
    gpu.dispatch(crossEntropyKernel, u, [part.view, losses, targets], grid(part.rows));
  }
}

/**
 * probs = softmax(logits / temperature) over the V real columns of each row (for sampling and
 * teacher/student losses); padding columns V .. Vp−1 of probs are set to 0. probs must not alias logits.
 *
 * @param probs (N, Vp), written
 * @param logits (N, Vp)
 * @param temperature > 0; 1 gives the model's distribution
 */
export function softmaxRows(
  gpu: Gpu,
  probs: View,
  logits: View,
  N: number,
  V: number,
  Vp: number,
  temperature: number,
): void {
  const op = "softmaxRows";
  checkSizes(op, N, V, Vp);
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new Error(`${op}: temperature must be a positive number, got ${temperature}`);
  }
  checkView(op, "probs", probs, N * Vp);
  checkView(op, "logits", logits, N * Vp);
  const bytes = N * Vp * 4;
  if (
    probs.buffer === logits.buffer && probs.offset < logits.offset + bytes &&
    logits.offset < probs.offset + bytes
  ) {
    throw new Error(`${op}: probs must not overlap logits`);
  }
  const outParts = rowParts(gpu, gpu.slice(probs, 0, N * Vp), N, Vp);
  const inParts = rowParts(gpu, gpu.slice(logits, 0, N * Vp), N, Vp);
  outParts.forEach((part, i) => {
    const u = new Uniforms()
      .u32(part.rows).u32(V).u32(Vp / 4).u32(part.row0)
      .u32(0).f32(0).f32(1 / temperature);
    gpu.dispatch(softmaxKernel, u, [part.view, inParts[i].view], grid(part.rows));
  });
}
