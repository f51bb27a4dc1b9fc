/**
 * AdamW optimizer step over a range of the flat parameter buffer, with global-norm gradient clipping
 * computed on the GPU (see `gradNormSquared`), in PyTorch semantics.
 *
 * @module
 */
import code from "../gpu/kernels/adamw.wgsl" with { type: "text" };
import { type Gpu, grid, type Kernel, Uniforms, type View } from "../gpu/runtime.ts";
import { bindWindow, checkAligned, checkRange, chunkRange, defaultChunkFloats } from "./chunks.ts";

const WG = 256;
const kernel: Kernel = { name: "adamw", code, entryPoint: "main", constants: { WG } };

/** Hyperparameters of one AdamW step. */
export interface AdamWHyper {
  /** Learning rate of this step. */
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay (0 for biases and layer norms). */
  weightDecay: number;
  /** Step number, starting at 1 (bias corrections use β^step). */
  step: number;
  /** Multiplies the raw gradient, e.g. 1 / gradient-accumulation steps or 1 / loss scale. */
  gradScale: number;
  /** Clip the scaled gradient's global norm to this; 0 disables clipping. */
  maxNorm: number;
}

/** Options for `adamwUpdate`. */
export interface AdamWOptions {
  /** Window size in floats (a positive multiple of 64), default `maxBinding` / 4; tests set it small. */
  chunkFloats?: number;
}

function checkHyper(h: AdamWHyper): void {
  const bad = (what: string) => {
    throw new Error(`adamwUpdate: ${what}`);
  };
  if (!(Number.isFinite(h.lr) && h.lr >= 0)) bad(`lr must be a finite number >= 0, got ${h.lr}`);
  if (!(h.beta1 >= 0 && h.beta1 < 1)) bad(`beta1 must be in [0, 1), got ${h.beta1}`);
  if (!(h.beta2 >= 0 && h.beta2 < 1)) bad(`beta2 must be in [0, 1), got ${h.beta2}`);
  if (!(Number.isFinite(h.eps) && h.eps > 0)) bad(`eps must be > 0, got ${h.eps}`);
  if (!(Number.isFinite(h.weightDecay) && h.weightDecay >= 0)) {
    bad(`weightDecay must be >= 0, got ${h.weightDecay}`);
  }
  if (!(Number.isInteger(h.step) && h.step >= 1)) bad(`step must be an integer >= 1, got ${h.step}`);
  if (!Number.isFinite(h.gradScale)) bad(`gradScale must be finite, got ${h.gradScale}`);
  if (!(Number.isFinite(h.maxNorm) && h.maxNorm >= 0)) bad(`maxNorm must be >= 0, got ${h.maxNorm}`);
}

/**
 * One AdamW step (torch.optim.AdamW) on the elements [start, start + count) of the flat buffers:
 *
 *     p -= lr·wd·p;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  p -= lr·m̂ / (√v̂ + eps)
 *
 * with m̂ = m/(1−β1^step), v̂ = v/(1−β2^step) and g = grad·gradScale·clip. When maxNorm > 0,
 * clip = min(1, maxNorm / (‖grad·gradScale‖ + 1e-6)) with ‖grad·gradScale‖ = |gradScale|·√normSq[0]
 * (torch.nn.utils.clip_grad_norm_ applied to the scaled gradient); clip = 1 when maxNorm = 0. The norm
 * is read on the GPU, so call `gradNormSquared(gpu, normSq, grads, total)` before the first range of a
 * step. Call once per weight-decay group (`paramGroups` in lib/model/params.ts). Elements outside the
 * range are left untouched; the buffers may be larger than one storage binding (processed in chunks).
 *
 * @param params (total) updated in place
 * @param grads (total) raw gradients (not modified)
 * @param m (total) first moment, updated in place (zero before step 1)
 * @param v (total) second moment, updated in place (zero before step 1)
 * @param normSq (1) Σ grads² over all parameters; read only when h.maxNorm > 0
 * @param start first float of the range
 * @param count floats in the range
 */
export function adamwUpdate(
  gpu: Gpu,
  params: View,
  grads: View,
  m: View,
  v: View,
  normSq: View,
  start: number,
  count: number,
  h: AdamWHyper,
  options: AdamWOptions = {},
): void {
  const op = "adamwUpdate";
  checkHyper(h);
  for (const [what, view] of [["params", params], ["grads", grads], ["m", m], ["v", v]] as const) {
    checkRange(op, start, count, view.size / 4, `${what} view`);
  }
  if (normSq.size < 4) throw new Error(`${op}: normSq must hold 1 float, got ${normSq.size} bytes`);
  checkAligned(gpu, op, "normSq", normSq);

  // Step scalars in float64, as PyTorch computes them in Python floats.
  const stepSize = h.lr / (1 - Math.pow(h.beta1, h.step));
  const invSqrtBc2 = 1 / Math.sqrt(1 - Math.pow(h.beta2, h.step));
  const normView = { ...normSq, size: 4 };
  for (const c of chunkRange(start, count, options.chunkFloats ?? defaultChunkFloats(gpu))) {
    const u = new Uniforms()
      .u32(c.lo).u32(c.hi)
      .f32(1 - h.lr * h.weightDecay)
      .f32(h.beta1).f32(1 - h.beta1)
      .f32(h.beta2).f32(1 - h.beta2)
      .f32(h.eps).f32(stepSize).f32(invSqrtBc2)
      .f32(h.gradScale).f32(h.maxNorm);
    const views = [
      bindWindow(gpu, op, "params", params, c),
      bindWindow(gpu, op, "grads", grads, c),
      bindWindow(gpu, op, "m", m, c),
      bindWindow(gpu, op, "v", v, c),
      normView,
    ];
    const vec4s = Math.ceil(c.hi / 4) - Math.floor(c.lo / 4);
    gpu.dispatch(kernel, u, views, grid(Math.ceil(vec4s / WG)));
  }
}
