/**
 * The learned linear projections Cs → Ct of layer-wise MSE distillation when the student is narrower (or
 * wider) than its teacher: one y = hS·W + b per mapped layer pair, trained with its own AdamW state under the
 * student's learning rate and hyper-parameters, and checkpointed with the run.
 *
 * Layout of the flat buffers (parameters, gradients, moments; each tensor 64-float aligned so it can be
 * bound on its own): W_0 (Cs, Ct), …, W_{P−1}, then b_0 (Ct), …, b_{P−1}. Weight decay applies to the W
 * range only, like the student's 2-D weights.
 *
 * @module
 */
import type { Gpu, View } from "../gpu/runtime.ts";
import { adamwUpdate } from "../ops/adamw.ts";
import { gradNormSquared } from "../ops/gradnorm.ts";
import type { MseProjection } from "../ops/hidden_losses.ts";
import { Rng } from "../rng.ts";
import type { AdamWConfig } from "../train/optimizer.ts";

const align = (n: number) => Math.ceil(n / 64) * 64;

/** P projections Cs → Ct with gradients and AdamW moments on the GPU. */
export class Projections {
  readonly gpu: Gpu;
  readonly count: number;
  readonly Cs: number;
  readonly Ct: number;
  /** Floats in each flat buffer. */
  readonly total: number;
  readonly params: View; // (total)
  readonly grads: View; // (total)
  readonly m: View; // (total)
  readonly v: View; // (total)
  /** AdamW steps taken. */
  step = 0;
  #normSq: View; // (1)
  #wStride: number;
  #bStart: number;
  #workspace: View; // (N, Ct), shared: each mseLoss call uses it start to end

  /**
   * Allocates `count` projections initialised like torch.nn.Linear (W and b uniform in ±1/√Cs, from
   * `seed`) with a workspace for up to N rows.
   */
  constructor(gpu: Gpu, count: number, Cs: number, Ct: number, N: number, seed: number) {
    this.gpu = gpu;
    this.count = count;
    this.Cs = Cs;
    this.Ct = Ct;
    this.#wStride = align(Cs * Ct);
    this.#bStart = count * this.#wStride;
    this.total = this.#bStart + count * align(Ct);
    this.params = gpu.tensor(this.total, "projection params");
    this.grads = gpu.tensor(this.total, "projection grads");
    this.m = gpu.tensor(this.total, "projection adam m");
    this.v = gpu.tensor(this.total, "projection adam v");
    this.#normSq = gpu.tensor(1, "projection grad norm²");
    this.#workspace = gpu.tensor(N * Ct, "projection workspace");
    const init = new Float32Array(this.total);
    const rng = new Rng(seed);
    const bound = 1 / Math.sqrt(Cs);
    for (let j = 0; j < count; j++) {
      for (let i = 0; i < Cs * Ct; i++) init[j * this.#wStride + i] = bound * (2 * rng.next() - 1);
      for (let i = 0; i < Ct; i++) init[this.#bStart + j * align(Ct) + i] = bound * (2 * rng.next() - 1);
    }
    gpu.write(this.params, init);
  }

  /** Projection j as `mseLoss` takes it (gradients accumulate into the shared buffers). */
  projection(j: number): MseProjection {
    const { gpu, Cs, Ct } = this;
    const w = j * this.#wStride;
    const b = this.#bStart + j * align(Ct);
    return {
      weight: gpu.slice(this.params, w, Cs * Ct),
      bias: gpu.slice(this.params, b, Ct),
      dWeight: gpu.slice(this.grads, w, Cs * Ct),
      dBias: gpu.slice(this.grads, b, Ct),
      workspace: this.#workspace,
    };
  }

  /** Zero-fills the gradients (start of an optimizer step). */
  zeroGrads(): void {
    this.gpu.zero(this.grads);
  }

  /** One AdamW step with the student's hyper-parameters (its clip applies to the projections' own norm). */
  update(lr: number, hyper: AdamWConfig): void {
    const { gpu } = this;
    gradNormSquared(gpu, this.#normSq, this.grads, this.total);
    this.step++;
    for (
      const [start, count, decay] of [[0, this.#bStart, true], [
        this.#bStart,
        this.total - this.#bStart,
        false,
      ]] as const
    ) {
      adamwUpdate(gpu, this.params, this.grads, this.m, this.v, this.#normSq, start, count, {
        lr,
        beta1: hyper.beta1,
        beta2: hyper.beta2,
        eps: hyper.eps,
        weightDecay: decay ? hyper.weightDecay : 0,
        step: this.step,
        gradScale: 1,
        maxNorm: hyper.clip,
      });
    }
  }
}
