/**
 * GPT-2 run from given input embeddings instead of token ids: encoded[b, t, :] = embeds[b, t, :] +
 * wpe[t, :], then the same blocks and final layer norm. Distribution matching learns continuous
 * sequences this way, and its gradient with respect to the embeddings is the gradient reaching the
 * encoder's output, `acts.dresidual` (B·T, C) after a backward `step`.
 *
 * Built on GPT2 without editing it: `forwardHidden` is overridden to hand the encoder a one-part "token
 * table" that is the embeddings themselves, read with the identity ids 0 … B·T−1, so the encoder kernel
 * computes exactly embeds + wpe and every later kernel is GPT2's own. The minimal addition to
 * lib/model/gpt2.ts that would make this subclass unnecessary: an optional `embeds?: View` (B·T, C)
 * argument of `forwardHidden` and `step` that replaces `encoderForward(…tokens, wte…)` with the same call
 * on `[{ view: embeds, row0: 0, rows: B·T }]` and identity ids, and skips `encoderBackward`.
 *
 * @module
 */
import type { View } from "../gpu/runtime.ts";
import { type Activations, GPT2, type StepHooks } from "../model/gpt2.ts";

/** A GPT2 whose forward pass can start from input embeddings (see the module doc). */
export class EmbeddedGPT2 extends GPT2 {
  #embeds: View | null = null;
  #identity: Uint32Array = new Uint32Array(0);

  /**
   * Runs the transformer up to the final layer norm on input embeddings: `acts.lnf` (B·T, C) holds the
   * result, as after `forwardHidden`. Overwrites `acts.tokens` with the identity ids.
   *
   * @param embeds (B, T, C) token embeddings (position embeddings are added here)
   */
  forwardFromEmbeddings(acts: Activations, B: number, T: number, embeds: View): void {
    this.#withEmbeddings(embeds, B, T, () => this.forwardHidden(acts, B, T));
  }

  /**
   * `step` on input embeddings: forward, the output loss (normally replaced through `hooks.outputLoss`),
   * and with `backward` the whole backward pass. Afterwards `acts.dresidual` (B·T, C) holds the gradient
   * of the loss with respect to `embeds`. Parameter gradients are accumulated as usual (the token
   * embedding's gradient goes to row 0, as every position is given token 0 for the encoder's backward).
   *
   * @param embeds (B, T, C)
   */
  stepFromEmbeddings(
    acts: Activations,
    B: number,
    T: number,
    embeds: View,
    backward: boolean,
    hooks: StepHooks,
  ): void {
    const zeros = new Uint32Array(B * T);
    this.#withEmbeddings(embeds, B, T, () => this.step(acts, B, T, zeros, backward, 1, hooks));
  }

  /** GPT2's forward, with the embeddings as the token table while `#embeds` is set. */
  override forwardHidden(acts: Activations, B: number, T: number): void {
    const embeds = this.#embeds;
    if (embeds === null) return super.forwardHidden(acts, B, T);
    const N = B * T;
    const C = this.config.n_embd;
    if (embeds.size < N * C * 4) {
      throw new Error(`input embeddings hold ${embeds.size / 4} floats, B·T·C = ${N * C} needed`);
    }
    if (this.#identity.length !== N) this.#identity = Uint32Array.from({ length: N }, (_, i) => i);
    this.gpu.write(acts.tokens, this.#identity);
    const wte = this.p.wte;
    this.p.wte = [{ view: this.gpu.slice(embeds, 0, N * C), row0: 0, rows: N }];
    try {
      super.forwardHidden(acts, B, T);
    } finally {
      this.p.wte = wte;
    }
  }

  #withEmbeddings(embeds: View, B: number, T: number, fn: () => void): void {
    if (!Number.isInteger(B) || !Number.isInteger(T) || B < 1 || T < 1) {
      throw new Error(`batch must be positive integers, got ${B}×${T}`);
    }
    this.#embeds = embeds;
    try {
      fn();
    } finally {
      this.#embeds = null;
    }
  }
}
