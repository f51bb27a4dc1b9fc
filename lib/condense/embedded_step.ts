/**
 * A training step of an ordinary {@link GPT2} (the trainer's model) on input embeddings instead of token
 * ids: what `EmbeddedGPT2.stepFromEmbeddings` computes, for a model that was not constructed as an
 * EmbeddedGPT2 (lib/train/trainer.ts builds a plain GPT2, and an objective only gets that instance).
 *
 * The forward pass is EmbeddedGPT2's: for the duration of the step the instance's `forwardHidden` is
 * replaced by the same substitution EmbeddedGPT2 makes (the encoder reads a one-part "token table" that is
 * the embeddings themselves, with the identity ids 0 … B·T−1, so encoded = embeds + wpe and every later
 * kernel is GPT2's own); the class's own method is restored afterwards, so validation and evaluation on
 * token ids are untouched.
 *
 * The backward pass differs from `stepFromEmbeddings` in one place, on purpose: the gradient reaching the
 * input embeddings is NOT added to the token embedding table. The embeddings are fixed data here (the
 * stored dm vectors), not rows of wte, so that gradient belongs to no parameter; `stepFromEmbeddings`
 * (written for distribution matching, which never applies its model's gradients) accumulates it into wte
 * row 0. Here the encoder's wte gradient is redirected into a one-row sink just before it runs (the
 * `hiddenGrad(0, …)` hook is called after the output layer's dwte and before the encoder's backward); the
 * position embedding still gets its gradient, and wte its gradient through the tied output head.
 *
 * @module
 */
import type { RowPart, View } from "../gpu/runtime.ts";
import type { Activations, GPT2, StepHooks } from "../model/gpt2.ts";

/** Reusable buffers of {@link stepOnEmbeddings}. */
export class EmbeddedStepScratch {
  /** A one-row (1, C) table that takes the input-side wte gradient, which is discarded. */
  readonly sink: RowPart[];
  #identity = new Uint32Array(0);
  #zeros = new Uint32Array(0);

  constructor(model: GPT2) {
    const C = model.config.n_embd;
    this.sink = [{ view: model.gpu.tensor(C, "discarded input-embedding gradient"), row0: 0, rows: 1 }];
  }

  /** (N) 0, 1, …, N−1: the encoder reads row n of the embeddings for position n. */
  identity(N: number): Uint32Array {
    if (this.#identity.length !== N) this.#identity = Uint32Array.from({ length: N }, (_, i) => i);
    return this.#identity;
  }

  /** (N) zeros: every position's input gradient goes to row 0 of the sink. */
  zeros(N: number): Uint32Array {
    if (this.#zeros.length !== N) this.#zeros = new Uint32Array(N);
    return this.#zeros;
  }
}

/**
 * Runs `model.step` with backward on input embeddings (see the module doc): forward from `embeds` + wpe,
 * the output loss (`hooks.outputLoss`, else cross-entropy on `acts.targets` scaled by `gradScale`), and
 * the backward pass accumulating into `model.grads` except the input side of wte. Overwrites
 * `acts.tokens` with the identity ids; `acts.targets` must be uploaded.
 *
 * @param embeds (B, T, C) input embeddings (token embeddings; positions are added here)
 */
export function stepOnEmbeddings(
  model: GPT2,
  acts: Activations,
  B: number,
  T: number,
  embeds: View,
  scratch: EmbeddedStepScratch,
  gradScale: number,
  hooks: StepHooks = {},
): void {
  const { gpu } = model;
  const g = model.g;
  if (!g) throw new Error("stepOnEmbeddings: the model was created without gradients");
  const N = B * T;
  const C = model.config.n_embd;
  if (!Number.isInteger(B) || !Number.isInteger(T) || B < 1 || T < 1) {
    throw new Error(`stepOnEmbeddings: batch must be positive integers, got ${B}×${T}`);
  }
  if (embeds.size < N * C * 4) {
    throw new Error(`stepOnEmbeddings: embeddings hold ${embeds.size / 4} floats, B·T·C = ${N * C} needed`);
  }
  // The model's own forward (GPT2's, or a subclass's), called with the embeddings as the token table.
  const baseForward = model.forwardHidden;
  const table: RowPart[] = [{ view: gpu.slice(embeds, 0, N * C), row0: 0, rows: N }];
  const identity = scratch.identity(N);
  const embeddedForward = (a: Activations, b: number, t: number): void => {
    gpu.write(a.tokens, identity);
    const wte = model.p.wte;
    model.p.wte = table;
    try {
      baseForward.call(model, a, b, t);
    } finally {
      model.p.wte = wte;
    }
  };
  const dwte = g.wte;
  const stepHooks: StepHooks = {
    ...hooks,
    hiddenGrad: (i, grad) => {
      hooks.hiddenGrad?.(i, grad);
      // Hidden state 0 is the last one visited; the encoder's backward comes next.
      if (i === 0) g.wte = scratch.sink;
    },
  };
  const own = Object.getOwnPropertyDescriptor(model, "forwardHidden");
  Object.defineProperty(model, "forwardHidden", {
    value: embeddedForward,
    configurable: true,
    writable: true,
  });
  try {
    model.step(acts, B, T, scratch.zeros(N), true, gradScale, stepHooks);
  } finally {
    if (own) Object.defineProperty(model, "forwardHidden", own);
    else delete (model as { forwardHidden?: unknown }).forwardHidden;
    g.wte = dwte;
  }
}
