/**
 * A Wasserstein critic for hidden-state distillation: one small MLP per mapped layer,
 * f(h) = w2 · gelu(h·W1 + b1) + b2 (input width C, hidden width H), trained to maximise the Wasserstein-1
 * estimate W = mean f(hT) − mean f(hS) over unmasked positions, with the WGAN-GP gradient penalty
 * λ·mean((‖∇_x f(x̂)‖ − 1)²) on random interpolates x̂ = ε·hT + (1 − ε)·hS, or with weight clipping. The
 * student minimises −mean f(hS).
 *
 * The penalty's parameter gradient (a gradient of a gradient norm) is derived by hand in lib/ref/critic.ts
 * and computed as GEMMs (`matmul`), column sums (`biasBackward`) and the elementwise kernels of
 * critic.wgsl. Parameters, gradients and AdamW moments each live in one flat buffer (W1 (C, H), b1 (H),
 * w2 (H), b2 (1)) so an optimizer step is one `adamwUpdate` call. Everything stays on the GPU; `estimate()`
 * is the only readback. Deterministic.
 *
 * Note: b2 cancels out of W and of the penalty, so its gradient is always 0 (kept for the layout).
 *
 * @module
 */
import code from "../gpu/kernels/critic.wgsl" with { type: "text" };
import { type Gpu, grid, type Kernel, Uniforms, type View } from "../gpu/runtime.ts";
import { type CriticOffsets, criticOffsets } from "../ref/critic.ts";
import { Rng } from "../rng.ts";
import { adamwUpdate } from "./adamw.ts";
import { gradNormSquared } from "./gradnorm.ts";
import { maskCount } from "./hidden_losses.ts";
import { biasBackward, matmul } from "./matmul.ts";

const WG = 64;
const kernel = (entryPoint: string): Kernel => ({
  name: `critic_${entryPoint}`,
  code,
  entryPoint,
  constants: { WG },
});
const K = {
  values: kernel("values"),
  wgrad: kernel("wgrad"),
  interpolate: kernel("interpolate"),
  gpDelta: kernel("gp_delta"),
  gpNorm: kernel("gp_norm"),
  gpEta: kernel("gp_eta"),
  finish: kernel("finish"),
  clamp: kernel("clamp_params"),
};

/** Options of one critic step. Give `lambdaGp` (WGAN-GP) or `clip` (WGAN weight clipping), or neither. */
export interface CriticStepOptions {
  /** AdamW learning rate. */
  lr: number;
  /** Gradient-penalty weight λ (WGAN-GP: 10); 0 or absent disables the penalty. */
  lambdaGp?: number;
  /** Clamp every parameter to [−clip, clip] after the step (WGAN: 0.01). */
  clip?: number;
  /** AdamW β1, default 0 (WGAN-GP's Adam setting). */
  beta1?: number;
  /** AdamW β2, default 0.9 (WGAN-GP). */
  beta2?: number;
  /** AdamW ε, default 1e-8. */
  eps?: number;
  /** Decoupled weight decay, default 0. */
  weightDecay?: number;
  /** Clip the gradient's global norm to this; 0 (default) disables. */
  maxNorm?: number;
}

/** Workspaces sized for up to `rows` positions. */
interface Work {
  rows: number;
  z: View; // (N, H) pre-activations, then D or Η
  e: View; // (N, H) E, Δ, B or gelu'(u)·B
  xhat: View; // (N, C) interpolates
  g: View; // (N, C) ∇_x f(x̂), then Γ
  vals: View; // (2N) f(hS), f(hT)
  pen: View; // (N) (‖∇f(x̂)‖ − 1)² per row
  eps: View; // (N) interpolation weights
}

/**
 * The critic of one mapped layer.
 *
 * @example
 * ```ts
 * const critic = new Critic(gpu, 768, 128, 1234);
 * for (let i = 0; i < 5; i++) critic.criticStep(hT, hS, mask, N, { lr: 1e-4, lambdaGp: 10 });
 * critic.studentGrad(dhS, hS, mask, N, 0.1); // dhS += 0.1·∂(−mean f(hS))/∂hS
 * console.log("W ≈", await critic.estimate());
 * ```
 */
export class Critic {
  readonly gpu: Gpu;
  /** Input width C (a multiple of 4). */
  readonly C: number;
  /** Hidden width H. */
  readonly H: number;
  /** Offsets of W1, b1, w2, b2 in the flat buffers. */
  readonly layout: CriticOffsets;
  /** (P) W1 (C, H), b1 (H), w2 (H), b2 (1); P = C·H + 2H + 1. */
  readonly params: View;
  /** (P) gradient of the critic loss −W + λ·penalty from the last `criticStep` (overwritten each step). */
  readonly grads: View;
  /** (P) AdamW first moment. */
  readonly m: View;
  /** (P) AdamW second moment. */
  readonly v: View;
  #stats: View; // (4) [M, 1/M, W, penalty]
  #normSq: View; // (1)
  #db1: View; // (H) b1 gradient accumulator (an aligned binding for biasBackward)
  #dw2: View; // (H) w2 gradient accumulator
  #work: Work | null = null;
  #rng: Rng;
  #step = 0;
  #lastEps = new Float32Array(0);

  /**
   * Allocates the critic and initialises it like torch.nn.Linear: W1, b1 ~ U(±1/√C), w2, b2 ~ U(±1/√H),
   * from `seed` (which also seeds the penalty's interpolation weights).
   */
  constructor(gpu: Gpu, C: number, H: number, seed: number) {
    for (const [k, v] of Object.entries({ C, H })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Critic: ${k} must be a positive integer, got ${v}`);
    }
    if (C % 4 !== 0) throw new Error(`Critic: C=${C} must be a multiple of 4`);
    this.gpu = gpu;
    this.C = C;
    this.H = H;
    this.layout = criticOffsets(C, H);
    const P = this.layout.total;
    this.params = gpu.tensor(P, "critic params");
    this.grads = gpu.tensor(P, "critic grads");
    this.m = gpu.tensor(P, "critic adam m");
    this.v = gpu.tensor(P, "critic adam v");
    this.#stats = gpu.tensor(4, "critic stats");
    this.#normSq = gpu.tensor(1, "critic grad norm²");
    this.#db1 = gpu.tensor(H, "critic db1");
    this.#dw2 = gpu.tensor(H, "critic dw2");
    this.#rng = new Rng(seed);
    const init = new Float32Array(P);
    const [kc, kh] = [1 / Math.sqrt(C), 1 / Math.sqrt(H)];
    for (let i = 0; i < this.layout.w2; i++) init[i] = kc * (2 * this.#rng.next() - 1);
    for (let i = this.layout.w2; i < P; i++) init[i] = kh * (2 * this.#rng.next() - 1);
    gpu.write(this.params, init);
  }

  /** Parameters in the flat buffers, P = C·H + 2H + 1. */
  get size(): number {
    return this.layout.total;
  }

  /** Critic steps taken. */
  get step(): number {
    return this.#step;
  }

  /** The interpolation weights ε (N) of the last step with a gradient penalty. */
  lastEps(): Float32Array {
    return this.#lastEps.slice();
  }

  /** The state of the generator of ε, for checkpoints (see `Rng.state`). */
  get rngState(): number[] {
    return this.#rng.state;
  }

  set rngState(words: number[]) {
    this.#rng.state = words;
  }

  /**
   * Records f on both inputs and W = mean f(hT) − mean f(hS) over unmasked positions (read it with
   * `estimate()`); the penalty statistic becomes 0.
   *
   * @param hT (N, C) teacher hidden states
   * @param hS (N, C) student hidden states
   * @param mask (N) u32, 0 = padding
   */
  forward(hT: View, hS: View, mask: View, N: number): void {
    const w = this.#prepare("forward", N, [hT, hS], mask);
    maskCount(this.gpu, this.#stats, mask, N);
    for (const [x, off] of [[hS, 0], [hT, N]] as const) {
      this.#preact(x, N, w.z);
      this.gpu.dispatch(K.values, this.#u(N, { valsOff: off }), [w.z, w.vals, this.params], grid(N));
    }
    this.#finish(N, mask, false);
  }

  /**
   * One critic update: grads = ∂(−W + λ·penalty)/∂params on this batch (overwritten), one AdamW step on
   * all parameters, then weight clipping when `clip` is given. Also records W and the penalty of this batch
   * under the parameters before the update (`estimate()`, `penalty()`). With λ > 0 it draws ε (N) uniform in
   * [0, 1) from the critic's generator and uploads it.
   *
   * @param hT (N, C) teacher hidden states
   * @param hS (N, C) student hidden states (detached: the student is not updated here)
   * @param mask (N) u32, 0 = padding
   */
  criticStep(hT: View, hS: View, mask: View, N: number, options: CriticStepOptions): void {
    const op = "criticStep";
    const lambda = options.lambdaGp ?? 0;
    if (!(Number.isFinite(lambda) && lambda >= 0)) {
      throw new Error(`${op}: lambdaGp must be ≥ 0, got ${lambda}`);
    }
    if (options.clip !== undefined && !(options.clip > 0 && Number.isFinite(options.clip))) {
      throw new Error(`${op}: clip must be a positive number, got ${options.clip}`);
    }
    const w = this.#prepare(op, N, [hT, hS], mask);
    const gpu = this.gpu;
    const { C, H } = this;
    const W1 = gpu.slice(this.params, 0, C * H);
    const dW1 = gpu.slice(this.grads, 0, C * H);
    gpu.zero(this.grads);
    gpu.zero(this.#db1);
    gpu.zero(this.#dw2);
    maskCount(gpu, this.#stats, mask, N);

    // −W = mean f(hS) − mean f(hT): coefficient +1/M on hS rows, −1/M on hT rows.
    for (const [x, sign, off] of [[hS, 1, 0], [hT, -1, N]] as const) {
      this.#preact(x, N, w.z);
      this.gpu.dispatch(
        K.wgrad,
        this.#u(N, { sign, valsOff: off }),
        [w.z, w.vals, this.params, w.e, mask, this.#stats],
        grid(N),
      );
      matmul(gpu, { out: dW1, a: x, b: w.z, M: C, N: H, K: N, transA: true, accumulate: true });
      biasBackward(gpu, this.#db1, w.z, N, H);
      biasBackward(gpu, this.#dw2, w.e, N, H);
    }

    if (lambda > 0) {
      const eps = new Float32Array(N);
      for (let n = 0; n < N; n++) eps[n] = this.#rng.next();
      this.#lastEps = eps;
      gpu.write(w.eps, eps);
      const C4 = C / 4;
      gpu.dispatch(
        K.interpolate,
        this.#u(N, { count: N * C4 }),
        [w.xhat, hT, hS, w.eps],
        grid(Math.ceil(N * C4 / WG)),
      );
      this.#preact(w.xhat, N, w.z); // Z = X̂·W1
      const elems = grid(Math.ceil(N * H / WG));
      gpu.dispatch(K.gpDelta, this.#u(N, { count: N * H }), [w.z, w.e, this.params], elems); // Δ
      matmul(gpu, { out: w.g, a: w.e, b: W1, M: N, N: C, K: H, transB: true }); // G = Δ·W1ᵀ = ∇f(x̂)
      gpu.dispatch(K.gpNorm, this.#u(N, { lambda2: 2 * lambda }), [w.g, w.pen, mask, this.#stats], grid(N)); // Γ
      matmul(gpu, { out: dW1, a: w.g, b: w.e, M: C, N: H, K: N, transA: true, accumulate: true }); // Γᵀ·Δ
      matmul(gpu, { out: w.e, a: w.g, b: W1, M: N, N: H, K: C }); // B = Γ·W1
      gpu.dispatch(K.gpEta, this.#u(N, { count: N * H }), [w.z, w.e, this.params], elems); // Η, gelu'(u)·B
      matmul(gpu, { out: dW1, a: w.xhat, b: w.z, M: C, N: H, K: N, transA: true, accumulate: true }); // X̂ᵀ·Η
      biasBackward(gpu, this.#db1, w.z, N, H);
      biasBackward(gpu, this.#dw2, w.e, N, H);
    }
    this.#finish(N, mask, lambda > 0);
    // The flat layout puts b1 and w2 at offsets a binding cannot start at; a copy needs only 4-byte alignment.
    gpu.copy(this.#db1, gpu.slice(this.grads, this.layout.b1, H));
    gpu.copy(this.#dw2, gpu.slice(this.grads, this.layout.w2, H));

    const maxNorm = options.maxNorm ?? 0;
    if (maxNorm > 0) gradNormSquared(gpu, this.#normSq, this.grads, this.size);
    this.#step++;
    adamwUpdate(gpu, this.params, this.grads, this.m, this.v, this.#normSq, 0, this.size, {
      lr: options.lr,
      beta1: options.beta1 ?? 0,
      beta2: options.beta2 ?? 0.9,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
      step: this.#step,
      gradScale: 1,
      maxNorm,
    });
    if (options.clip !== undefined) {
      gpu.dispatch(
        K.clamp,
        this.#u(N, { count: this.size, clip: options.clip }),
        [this.params],
        grid(Math.ceil(this.size / WG)),
      );
    }
  }

  /**
   * dhS += weight·∂(−mean_{unmasked} f(hS))/∂hS = −(weight/M)·∇_x f(hS[n]) on unmasked rows (accumulates,
   * like the other distillation losses' input gradients). Also records f(hS).
   *
   * @param dhS (N, C), accumulated
   * @param hS (N, C)
   * @param mask (N) u32, 0 = padding
   */
  studentGrad(dhS: View, hS: View, mask: View, N: number, weight: number): void {
    if (!Number.isFinite(weight)) throw new Error(`studentGrad: weight must be finite, got ${weight}`);
    const w = this.#prepare("studentGrad", N, [dhS, hS], mask);
    const { C, H } = this;
    maskCount(this.gpu, this.#stats, mask, N);
    this.#preact(hS, N, w.z);
    this.gpu.dispatch(
      K.wgrad,
      this.#u(N, { sign: -weight, valsOff: 0 }),
      [w.z, w.vals, this.params, w.e, mask, this.#stats],
      grid(N),
    );
    const W1 = this.gpu.slice(this.params, 0, C * H);
    matmul(this.gpu, { out: dhS, a: w.z, b: W1, M: N, N: C, K: H, transB: true, accumulate: true });
  }

  /** W = mean f(hT) − mean f(hS) from the last `forward` or `criticStep` (reads back one value). */
  async estimate(): Promise<number> {
    return (await this.gpu.read(this.#stats))[2];
  }

  /** mean (‖∇f(x̂)‖ − 1)² of the last `criticStep` with λ > 0 (0 after `forward` or without a penalty). */
  async penalty(): Promise<number> {
    return (await this.gpu.read(this.#stats))[3];
  }

  /** Z (N, H) = X·W1 (b1 is added by the kernels: its offset cannot start a binding). */
  #preact(x: View, N: number, z: View): void {
    const W1 = this.gpu.slice(this.params, 0, this.C * this.H);
    matmul(this.gpu, { out: z, a: x, b: W1, M: N, N: this.H, K: this.C });
  }

  /** stats[2] = W and stats[3] = the mean penalty (0 without `usePen`) from the recorded per-row values. */
  #finish(N: number, mask: View, usePen: boolean): void {
    const w = this.#work!;
    this.gpu.dispatch(K.finish, this.#u(N, { usePen: usePen ? 1 : 0 }), [this.#stats, w.vals, w.pen, mask], [
      1,
    ]);
  }

  #u(
    R: number,
    o: { count?: number; valsOff?: number; usePen?: number; sign?: number; lambda2?: number; clip?: number },
  ): Uniforms {
    const l = this.layout;
    return new Uniforms()
      .u32(R).u32(this.H).u32(this.C / 4).u32(o.count ?? 0)
      .u32(l.b1).u32(l.w2).u32(l.b2).u32(o.valsOff ?? 0).u32(o.usePen ?? 0)
      .f32(o.sign ?? 0).f32(o.lambda2 ?? 0).f32(o.clip ?? 0);
  }

  /** Validates a call's sizes and returns workspaces for N positions (grown on demand). */
  #prepare(op: string, N: number, states: View[], mask: View): Work {
    if (!Number.isInteger(N) || N < 1) throw new Error(`${op}: N must be a positive integer, got ${N}`);
    for (const s of states) {
      if (s.size < N * this.C * 4) {
        throw new Error(`${op}: a hidden-state view holds ${s.size / 4} floats, needs N·C = ${N * this.C}`);
      }
    }
    if (mask.size < N * 4) throw new Error(`${op}: mask holds ${mask.size / 4} elements, needs ${N}`);
    if (!this.#work || this.#work.rows < N) {
      const t = (n: number, label: string) => this.gpu.tensor(n, `critic ${label}`);
      const { C, H } = this;
      this.#work = {
        rows: N,
        z: t(N * H, "z"),
        e: t(N * H, "e"),
        xhat: t(N * C, "xhat"),
        g: t(N * C, "g"),
        vals: t(2 * N, "vals"),
        pen: t(N, "pen"),
        eps: t(N, "eps"),
      };
    }
    return this.#work;
  }
}
