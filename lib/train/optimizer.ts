/**
 * AdamW over the model's flat parameter buffer, with global gradient-norm clipping computed on the GPU.
 * Weight decay applies to 2-D weights only (not to biases, layer norms or positions' … see `decay` in the
 * parameter layout), as in nanoGPT and Hugging Face's Trainer.
 *
 * @module
 */
import type { Gpu, View } from "../gpu/runtime.ts";
import type { GPT2 } from "../model/gpt2.ts";
import { adamwUpdate } from "../ops/adamw.ts";
import { gradNormSquared } from "../ops/gradnorm.ts";

/** AdamW hyper-parameters (PyTorch names and defaults). */
export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Global gradient-norm limit; 0 turns clipping off. */
  clip: number;
}

/** A contiguous range of the flat buffer sharing one weight-decay setting. */
interface DecayGroup {
  start: number;
  count: number;
  decay: boolean;
}

/** AdamW state (first and second moments) on the GPU, and the update step. */
export class AdamW {
  readonly gpu: Gpu;
  readonly model: GPT2;
  readonly config: AdamWConfig;
  readonly m: View; // (total)
  readonly v: View; // (total)
  readonly normSq: View; // (1)
  /** Optimizer steps taken so far. */
  step = 0;
  #groups: DecayGroup[];

  constructor(model: GPT2, config: AdamWConfig) {
    if (!model.grads) throw new Error("the model was created without gradients");
    this.gpu = model.gpu;
    this.model = model;
    this.config = config;
    const total = model.layout.total;
    this.m = this.gpu.tensor(total, "adam m");
    this.v = this.gpu.tensor(total, "adam v");
    this.normSq = this.gpu.tensor(1, "grad norm²");
    this.#groups = decayGroups(model);
  }

  /**
   * Applies one update with learning rate `lr` to the gradients accumulated since `zeroGrads`.
   * `gradScale` multiplies every gradient first (1 when the loss was already averaged).
   */
  update(lr: number, gradScale = 1): void {
    const { gpu, model, config } = this;
    const grads = model.grads!;
    const total = model.layout.total;
    // The norm is always computed: it is logged, and clipping reads it without a round trip.
    gradNormSquared(gpu, this.normSq, grads, total);
    this.step++;
    for (const g of this.#groups) {
      adamwUpdate(gpu, model.params, grads, this.m, this.v, this.normSq, g.start, g.count, {
        lr,
        beta1: config.beta1,
        beta2: config.beta2,
        eps: config.eps,
        weightDecay: g.decay ? config.weightDecay : 0,
        step: this.step,
        gradScale,
        maxNorm: config.clip,
      });
    }
  }

  /** The global gradient norm of the last update (reads back one float). */
  async gradNorm(): Promise<number> {
    const [sq] = await this.gpu.read(this.normSq);
    return Math.sqrt(sq);
  }

  /** Moments for a checkpoint. */
  async readState(): Promise<{ m: Float32Array; v: Float32Array; step: number }> {
    return { m: await this.gpu.read(this.m), v: await this.gpu.read(this.v), step: this.step };
  }

  /** Restores moments from a checkpoint. */
  loadState(state: { m: Float32Array; v: Float32Array; step: number }): void {
    const total = this.model.layout.total;
    if (state.m.length !== total || state.v.length !== total) {
      throw new Error(`optimizer state has ${state.m.length} floats, the model needs ${total}`);
    }
    this.gpu.write(this.m, state.m);
    this.gpu.write(this.v, state.v);
    this.step = state.step;
  }
}

/** Merges consecutive tensors with the same decay flag, padding included, into few update ranges. */
function decayGroups(model: GPT2): DecayGroup[] {
  const groups: DecayGroup[] = [];
  const tensors = [...model.layout.tensors].sort((a, b) => a.offset - b.offset);
  for (const t of tensors) {
    const last = groups[groups.length - 1];
    if (last && last.decay === t.decay) {
      last.count = t.offset + t.size - last.start;
    } else {
      groups.push({ start: t.offset, count: t.size, decay: t.decay });
    }
  }
  return groups;
}
