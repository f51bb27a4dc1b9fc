/**
 * GPT-2 on the GPU, as Hugging Face's GPT2LMHeadModel: pre-LN blocks, learned positions, tied lm_head,
 * GELU (tanh), no dropout. Forward and backward are ordered kernel calls in the style of llm.c's
 * `gpt2_forward` / `gpt2_backward`; parameters and their gradients each live in one flat buffer laid out
 * by `paramLayout`.
 *
 * @module
 */
import { type Gpu, type RowPart, rowParts, type View } from "../gpu/runtime.ts";
import { attentionBackward, attentionDecode, attentionForward } from "../ops/attention.ts";
import { crossEntropy } from "../ops/crossentropy.ts";
import { encoderBackward, EncoderBackwardPlan, encoderForward } from "../ops/encoder.ts";
import { geluBackward, geluForward } from "../ops/gelu.ts";
import { layernormBackward, layernormForward } from "../ops/layernorm.ts";
import { biasBackward, matmul } from "../ops/matmul.ts";
import { addInto } from "../ops/residual.ts";
import { type GPT2Config, paddedVocab } from "./config.ts";
import { type ParamLayout, paramLayout } from "./params.ts";

/** Views of one block's parameters (or of their gradients). */
interface BlockTensors {
  ln1w: View; // (C)
  ln1b: View; // (C)
  qkvw: View; // (C, 3C)
  qkvb: View; // (3C)
  attprojw: View; // (C, C)
  attprojb: View; // (C)
  ln2w: View; // (C)
  ln2b: View; // (C)
  fcw: View; // (C, 4C)
  fcb: View; // (4C)
  fcprojw: View; // (4C, C)
  fcprojb: View; // (C)
}

/** Views of all tensors of a flat parameter (or gradient) buffer. */
interface ModelTensors {
  wte: RowPart[]; // (V, C), bound in parts when larger than one binding
  wpe: View; // (maxT, C)
  blocks: BlockTensors[];
  lnfw: View; // (C)
  lnfb: View; // (C)
}

function tensorViews(gpu: Gpu, flat: View, layout: ParamLayout, cfg: GPT2Config): ModelTensors {
  const get = (name: string): View => {
    const t = layout.byName.get(name);
    if (!t) throw new Error(`parameter layout has no tensor ${name}`);
    return gpu.slice(flat, t.offset, t.size);
  };
  const blocks: BlockTensors[] = [];
  for (let l = 0; l < cfg.n_layer; l++) {
    const p = `h.${l}.`;
    blocks.push({
      ln1w: get(p + "ln_1.weight"),
      ln1b: get(p + "ln_1.bias"),
      qkvw: get(p + "attn.c_attn.weight"),
      qkvb: get(p + "attn.c_attn.bias"),
      attprojw: get(p + "attn.c_proj.weight"),
      attprojb: get(p + "attn.c_proj.bias"),
      ln2w: get(p + "ln_2.weight"),
      ln2b: get(p + "ln_2.bias"),
      fcw: get(p + "mlp.c_fc.weight"),
      fcb: get(p + "mlp.c_fc.bias"),
      fcprojw: get(p + "mlp.c_proj.weight"),
      fcprojb: get(p + "mlp.c_proj.bias"),
    });
  }
  return {
    wte: rowParts(gpu, get("wte.weight"), cfg.vocab_size, cfg.n_embd),
    wpe: get("wpe.weight"),
    blocks,
    lnfw: get("ln_f.weight"),
    lnfb: get("ln_f.bias"),
  };
}

/** One block's saved activations. */
interface BlockActs {
  ln1: View; // (B, T, C)
  ln1Mean: View; // (B, T)
  ln1Rstd: View; // (B, T)
  qkv: View; // (B, T, 3C)
  atty: View; // (B, T, C)
  lse: View; // (B, NH, T)
  residual2: View; // (B, T, C)
  ln2: View; // (B, T, C)
  ln2Mean: View; // (B, T)
  ln2Rstd: View; // (B, T)
  fch: View; // (B, T, 4C)
  fchGelu: View; // (B, T, 4C)
  residual3: View; // (B, T, C)
}

/**
 * Activation and scratch buffers for batches of up to (B, T). Smaller batches use prefixes of the same
 * buffers, which stay contiguous because every activation is laid out (B, T, ...).
 */
export class Activations {
  readonly B: number;
  readonly T: number;
  readonly encoded: View; // (B, T, C)
  readonly blocks: BlockActs[];
  readonly lnf: View; // (B, T, C)
  readonly lnfMean: View; // (B, T)
  readonly lnfRstd: View; // (B, T)
  /** Rows of the output projection processed at once: logits for `chunkRows` rows fit one binding. */
  readonly chunkRows: number;
  readonly logits: View; // (chunkRows, Vp); overwritten in place by its gradient
  readonly lastHidden: View; // (B, C): the final hidden state of each sequence's last position
  readonly losses: View; // (B, T)
  readonly tokens: View; // (B, T) u32
  readonly targets: View; // (B, T) i32
  // Backward scratch.
  readonly dresidual: View; // (B, T, C)
  readonly dln: View; // (B, T, C)
  readonly dqkv: View; // (B, T, 3C)
  readonly datty: View; // (B, T, C)
  readonly dfch: View; // (B, T, 4C)
  readonly training: boolean;

  constructor(gpu: Gpu, cfg: GPT2Config, B: number, T: number, training: boolean) {
    const C = cfg.n_embd;
    const NH = cfg.n_head;
    const N = B * T;
    const Vp = paddedVocab(cfg.vocab_size);
    if (T > cfg.n_positions) {
      throw new Error(`sequence length ${T} is longer than the model's n_positions ${cfg.n_positions}`);
    }
    const largest = N * 4 * C * 4;
    if (largest > gpu.maxBinding) {
      throw new Error(
        `batch ${B}×${T} needs ${
          (largest / 2 ** 20).toFixed(0)
        } MiB activations per binding, more than this ` +
          `adapter's ${(gpu.maxBinding / 2 ** 20).toFixed(0)} MiB: use a smaller --batch (and --grad-accum)`,
      );
    }
    this.B = B;
    this.T = T;
    this.training = training;
    const t = (floats: number, label: string) => gpu.tensor(floats, label);
    this.encoded = t(N * C, "encoded");
    this.blocks = [];
    for (let l = 0; l < cfg.n_layer; l++) {
      this.blocks.push({
        ln1: t(N * C, "ln1"),
        ln1Mean: t(N, "ln1 mean"),
        ln1Rstd: t(N, "ln1 rstd"),
        qkv: t(N * 3 * C, "qkv"),
        atty: t(N * C, "atty"),
        lse: t(B * NH * T, "att lse"),
        residual2: t(N * C, "residual2"),
        ln2: t(N * C, "ln2"),
        ln2Mean: t(N, "ln2 mean"),
        ln2Rstd: t(N, "ln2 rstd"),
        fch: t(N * 4 * C, "fch"),
        fchGelu: t(N * 4 * C, "fch gelu"),
        residual3: t(N * C, "residual3"),
      });
    }
    this.lnf = t(N * C, "lnf");
    this.lnfMean = t(N, "lnf mean");
    this.lnfRstd = t(N, "lnf rstd");
    // Up to 128 MiB of logits at once (667 rows): big enough to keep the output matmuls efficient (the
    // `tiny` bench batch, 512 rows, is one chunk, so the vocabulary-deep dx runs one K pass, not two),
    // small enough that GPT-2 124M at B=8, T=1024 does not need 1.6 GB for them.
    const rowBytes = Vp * 4;
    // Chunks start at multiples of 64 rows so that every sliced view stays offset-aligned.
    const fit = Math.floor(Math.min(gpu.maxBinding, 128 * 2 ** 20) / rowBytes);
    this.chunkRows = fit >= N ? N : Math.max(64, Math.floor(fit / 64) * 64);
    this.logits = t(this.chunkRows * Vp, "logits");
    this.lastHidden = t(B * C, "last hidden");
    this.losses = t(N, "losses");
    this.tokens = t(N, "tokens");
    this.targets = t(N, "targets");
    const scratch = training ? 1 : 0;
    this.dresidual = t(N * C * scratch || 4, "dresidual");
    this.dln = t(N * C * scratch || 4, "dln");
    this.dqkv = t(N * 3 * C * scratch || 4, "dqkv");
    this.datty = t(N * C * scratch || 4, "datty");
    this.dfch = t(N * 4 * C * scratch || 4, "dfch");
  }
}

/**
 * Hooks that let other objectives (knowledge distillation) reuse the forward and backward passes.
 */
export interface StepHooks {
  /**
   * Replaces cross-entropy on each output chunk: `logits` (rows, Vp) holds the logits of rows
   * [r0, r0 + rows). It must write its per-row losses, and when backward runs, overwrite `logits` with
   * the gradient of the loss (already scaled).
   */
  outputLoss?: (logits: View, r0: number, rows: number) => void;
  /**
   * Called during backward to add extra gradient for hidden state i (Hugging Face's
   * `hidden_states[i]`: the input of block i for i < L, the output of ln_f for i = L). `grad` (B·T, C) is
   * the running gradient of that hidden state; add into it.
   */
  hiddenGrad?: (i: number, grad: View) => void;
}

/** A GPT-2 whose parameters (and, when training, gradients) live on the GPU. */
export class GPT2 {
  readonly gpu: Gpu;
  readonly config: GPT2Config;
  readonly layout: ParamLayout;
  /** Padded vocabulary: the logits row stride. */
  readonly Vp: number;
  readonly params: View; // (total) flat
  readonly grads: View | null; // (total) flat
  readonly p: ModelTensors;
  readonly g: ModelTensors | null;
  #encoderPlan: EncoderBackwardPlan | null = null;

  constructor(gpu: Gpu, config: GPT2Config, params: Float32Array, opts: { training: boolean }) {
    this.gpu = gpu;
    this.config = config;
    this.layout = paramLayout(config);
    this.Vp = paddedVocab(config.vocab_size);
    if (params.length !== this.layout.total) {
      throw new Error(`parameter array has ${params.length} floats, the layout needs ${this.layout.total}`);
    }
    this.params = gpu.tensor(this.layout.total, "params");
    gpu.write(this.params, params);
    this.p = tensorViews(gpu, this.params, this.layout, config);
    if (opts.training) {
      this.grads = gpu.tensor(this.layout.total, "grads");
      this.g = tensorViews(gpu, this.grads, this.layout, config);
    } else {
      this.grads = null;
      this.g = null;
    }
  }

  /** Copies the parameters back to the CPU in layout order. */
  readParams(): Promise<Float32Array> {
    return this.gpu.read(this.params);
  }

  /** Zero-fills the gradient buffer (start of an optimizer step). */
  zeroGrads(): void {
    if (this.grads) this.gpu.zero(this.grads);
  }

  /** Uploads a batch's tokens (B, T) and, optionally, targets (B, T) (−100 = ignored). */
  setBatch(acts: Activations, tokens: Uint32Array, targets: Int32Array | null): void {
    this.gpu.write(acts.tokens, tokens);
    if (targets) this.gpu.write(acts.targets, targets);
  }

  /**
   * Runs the transformer up to the final layer norm for tokens (B, T) already uploaded with `setBatch`.
   * `acts.lnf` holds the result.
   */
  forwardHidden(acts: Activations, B: number, T: number): void {
    this.#forwardBlocks(acts, B, T, 0, (_layer, a) => {
      attentionForward(this.gpu, a.atty, a.lse, a.qkv, B, T, this.config.n_embd, this.config.n_head);
    });
  }

  /**
   * Embedding, every block and the final layer norm for tokens (B, T) at positions pos0 …; only the
   * attention differs between full-sequence passes and cached decoding, so it is passed in.
   */
  #forwardBlocks(
    acts: Activations,
    B: number,
    T: number,
    pos0: number,
    attention: (layer: number, a: BlockActs) => void,
  ): void {
    const { gpu, config: cfg, p } = this;
    const C = cfg.n_embd;
    const N = B * T;
    const eps = cfg.layer_norm_epsilon;
    checkShape(acts, B, T);
    encoderForward(gpu, acts.encoded, acts.tokens, p.wte, p.wpe, B, T, C, pos0);
    let residual = acts.encoded;
    for (let l = 0; l < cfg.n_layer; l++) {
      const w = p.blocks[l];
      const a = acts.blocks[l];
      layernormForward(gpu, a.ln1, a.ln1Mean, a.ln1Rstd, residual, w.ln1w, w.ln1b, N, C, eps);
      matmul(gpu, { out: a.qkv, a: a.ln1, b: w.qkvw, bias: w.qkvb, M: N, N: 3 * C, K: C });
      attention(l, a);
      // residual2 temporarily holds the attention projection, then residual + projection.
      matmul(gpu, { out: a.residual2, a: a.atty, b: w.attprojw, bias: w.attprojb, M: N, N: C, K: C });
      addInto(gpu, a.residual2, residual, N * C);
      layernormForward(gpu, a.ln2, a.ln2Mean, a.ln2Rstd, a.residual2, w.ln2w, w.ln2b, N, C, eps);
      matmul(gpu, { out: a.fch, a: a.ln2, b: w.fcw, bias: w.fcb, M: N, N: 4 * C, K: C });
      geluForward(gpu, a.fchGelu, a.fch, N * 4 * C);
      matmul(gpu, { out: a.residual3, a: a.fchGelu, b: w.fcprojw, bias: w.fcprojb, M: N, N: C, K: 4 * C });
      addInto(gpu, a.residual3, a.residual2, N * C);
      residual = a.residual3;
    }
    layernormForward(gpu, acts.lnf, acts.lnfMean, acts.lnfRstd, residual, p.lnfw, p.lnfb, N, C, eps);
  }

  /**
   * Output projection and cross-entropy for rows [r0, r0 + rows) of `acts.lnf`, leaving the chunk's
   * logits in `acts.logits` (or their gradient, scaled by `gradScale`, when `backward` is set) and the
   * per-row losses in `acts.losses`. With `backward`, also accumulates dlnf into `acts.dln` rows and
   * dwte into the gradient buffer.
   */
  #outputChunk(
    acts: Activations,
    r0: number,
    rows: number,
    backward: boolean,
    gradScale: number,
    hooks: StepHooks,
  ): void {
    const { gpu, config: cfg, p } = this;
    const C = cfg.n_embd;
    const V = cfg.vocab_size;
    const Vp = this.Vp;
    const lnfRows = gpu.slice(acts.lnf, r0 * C, rows * C);
    const logits = gpu.slice(acts.logits, 0, rows * Vp);
    for (const part of p.wte) {
      // logits[:, part] = lnf · wte[part]ᵀ
      matmul(gpu, {
        out: logitsColumns(gpu, logits, rows, Vp, part),
        a: lnfRows,
        b: part.view,
        M: rows,
        N: part.rows,
        K: C,
        transB: true,
        ldOut: Vp,
      });
    }
    if (hooks.outputLoss) hooks.outputLoss(logits, r0, rows);
    else {
      crossEntropy(
        gpu,
        gpu.slice(acts.losses, r0, rows),
        logits,
        gpu.slice(acts.targets, r0, rows),
        rows,
        V,
        Vp,
        { writeGradient: backward, gradScale },
      );
    }
    if (!backward) return;
    const dlnfRows = gpu.slice(acts.dln, r0 * C, rows * C);
    p.wte.forEach((part, i) => {
      const dlogitsPart = logitsColumns(gpu, logits, rows, Vp, part);
      // dlnf += dlogits[:, part] · wte[part]
      matmul(gpu, {
        out: dlnfRows,
        a: dlogitsPart,
        b: part.view,
        M: rows,
        N: C,
        K: part.rows,
        ldA: Vp,
        accumulate: i > 0,
      });
      // dwte[part] += dlogits[:, part]ᵀ · lnf
      matmul(gpu, {
        out: this.g!.wte[i].view,
        a: dlogitsPart,
        b: lnfRows,
        M: part.rows,
        N: C,
        K: rows,
        transA: true,
        ldA: Vp,
        accumulate: true,
      });
    });
  }

  /**
   * Forward pass with loss for the uploaded batch: per-position losses land in `acts.losses` (B, T),
   * 0 where the target is ignored. With `backward`, also runs the whole backward pass, accumulating
   * gradients (scaled by `gradScale`, usually 1 / number of scored targets) into `grads`.
   */
  step(
    acts: Activations,
    B: number,
    T: number,
    tokens: ArrayLike<number>,
    backward: boolean,
    gradScale: number,
    hooks: StepHooks = {},
  ): void {
    if (backward && !this.g) throw new Error("model was created without gradients");
    this.forwardHidden(acts, B, T);
    const N = B * T;
    for (let r0 = 0; r0 < N; r0 += acts.chunkRows) {
      this.#outputChunk(acts, r0, Math.min(acts.chunkRows, N - r0), backward, gradScale, hooks);
    }
    if (backward) this.#backward(acts, B, T, tokens, hooks);
  }

  /** Hidden state i (Hugging Face's `hidden_states[i]`, 0 ≤ i ≤ L) of the last forward pass: (B·T, C). */
  hiddenState(acts: Activations, i: number): View {
    const L = this.config.n_layer;
    if (i < 0 || i > L) throw new Error(`hidden state ${i} out of range 0..${L}`);
    if (i === L) return acts.lnf;
    return i === 0 ? acts.encoded : acts.blocks[i - 1].residual3;
  }

  #backward(acts: Activations, B: number, T: number, tokens: ArrayLike<number>, hooks: StepHooks): void {
    const { gpu, config: cfg, p } = this;
    const g = this.g!;
    const C = cfg.n_embd;
    const NH = cfg.n_head;
    const N = B * T;
    const dres = gpu.slice(acts.dresidual, 0, N * C);
    const dln = gpu.slice(acts.dln, 0, N * C);
    const dqkv = gpu.slice(acts.dqkv, 0, N * 3 * C);
    const datty = gpu.slice(acts.datty, 0, N * C);
    const dfch = gpu.slice(acts.dfch, 0, N * 4 * C);

    // Final layer norm: dresidual = LN_f backward of dlnf (held in dln).
    const lastResidual = cfg.n_layer > 0 ? acts.blocks[cfg.n_layer - 1].residual3 : acts.encoded;
    hooks.hiddenGrad?.(cfg.n_layer, dln);
    gpu.zero(dres);
    layernormBackward(gpu, dres, g.lnfw, g.lnfb, dln, lastResidual, p.lnfw, acts.lnfMean, acts.lnfRstd, N, C);

    for (let l = cfg.n_layer - 1; l >= 0; l--) {
      const w = p.blocks[l];
      const dw = g.blocks[l];
      const a = acts.blocks[l];
      const residual = l === 0 ? acts.encoded : acts.blocks[l - 1].residual3;
      // residual3 = residual2 + fcproj(gelu(fc(ln2(residual2)))): dres flows to both branches.
      matmul(gpu, { out: dfch, a: dres, b: w.fcprojw, M: N, N: 4 * C, K: C, transB: true });
      matmul(gpu, {
        out: dw.fcprojw,
        a: a.fchGelu,
        b: dres,
        M: 4 * C,
        N: C,
        K: N,
        transA: true,
        accumulate: true,
      });
      biasBackward(gpu, dw.fcprojb, dres, N, C);
      geluBackward(gpu, dfch, a.fch, dfch, N * 4 * C);
      matmul(gpu, { out: dln, a: dfch, b: w.fcw, M: N, N: C, K: 4 * C, transB: true });
      matmul(gpu, { out: dw.fcw, a: a.ln2, b: dfch, M: C, N: 4 * C, K: N, transA: true, accumulate: true });
      biasBackward(gpu, dw.fcb, dfch, N, 4 * C);
      layernormBackward(gpu, dres, dw.ln2w, dw.ln2b, dln, a.residual2, w.ln2w, a.ln2Mean, a.ln2Rstd, N, C);
      // residual2 = residual + attproj(attention(qkv(ln1(residual)))).
      matmul(gpu, { out: datty, a: dres, b: w.attprojw, M: N, N: C, K: C, transB: true });
      matmul(gpu, { out: dw.attprojw, a: a.atty, b: dres, M: C, N: C, K: N, transA: true, accumulate: true });
      biasBackward(gpu, dw.attprojb, dres, N, C);
      attentionBackward(gpu, dqkv, datty, a.qkv, a.atty, a.lse, B, T, C, NH);
      matmul(gpu, { out: dln, a: dqkv, b: w.qkvw, M: N, N: C, K: 3 * C, transB: true });
      matmul(gpu, { out: dw.qkvw, a: a.ln1, b: dqkv, M: C, N: 3 * C, K: N, transA: true, accumulate: true });
      biasBackward(gpu, dw.qkvb, dqkv, N, 3 * C);
      layernormBackward(gpu, dres, dw.ln1w, dw.ln1b, dln, residual, w.ln1w, a.ln1Mean, a.ln1Rstd, N, C);
      hooks.hiddenGrad?.(l, dres);
    }
    if (this.#encoderPlan) this.#encoderPlan.update(tokens);
    else this.#encoderPlan = new EncoderBackwardPlan(gpu, tokens, acts.B * acts.T);
    encoderBackward(gpu, g.wte, g.wpe, dres, this.#encoderPlan, B, T, C);
  }

  /**
   * Logits of the last position of each sequence for tokens (B, T) already uploaded, for sampling without
   * a cache. Returns a view of `acts.logits` holding B rows of Vp floats.
   */
  lastLogits(acts: Activations, B: number, T: number): View {
    this.forwardHidden(acts, B, T);
    return this.#projectRows(acts, (b) => (b * T + T - 1), B);
  }

  #projectRows(acts: Activations, row: (b: number) => number, B: number): View {
    const { gpu, config: cfg, p } = this;
    const C = cfg.n_embd;
    if (B > acts.chunkRows) throw new Error(`cannot project ${B} rows at once (at most ${acts.chunkRows})`);
    // Gather the rows first: a copy needs only 4-byte alignment, a bound view needs more.
    for (let b = 0; b < B; b++) {
      gpu.copy(gpu.slice(acts.lnf, row(b) * C, C), gpu.slice(acts.lastHidden, b * C, C), C * 4);
    }
    const logits = gpu.slice(acts.logits, 0, B * this.Vp);
    for (const part of p.wte) {
      matmul(gpu, {
        out: logitsColumns(gpu, logits, B, this.Vp, part),
        a: gpu.slice(acts.lastHidden, 0, B * C),
        b: part.view,
        M: B,
        N: part.rows,
        K: C,
        transB: true,
        ldOut: this.Vp,
      });
    }
    return logits;
  }

  /**
   * One decoding step with a KV cache: tokens (B, Tn) at positions pos0 … pos0+Tn−1 (uploaded with
   * `setBatch`) attend to the cache, which they extend. Returns the logits of each sequence's last new
   * position, B rows of Vp floats.
   */
  decode(acts: Activations, cache: KVCache, B: number, Tn: number, pos0: number): View {
    const { gpu, config: cfg } = this;
    if (pos0 + Tn > cache.Tmax) throw new Error(`KV cache holds ${cache.Tmax} positions, need ${pos0 + Tn}`);
    this.#forwardBlocks(acts, B, Tn, pos0, (l, a) => {
      attentionDecode(
        gpu,
        a.atty,
        a.qkv,
        cache.k[l],
        cache.v[l],
        B,
        Tn,
        pos0,
        cache.Tmax,
        cfg.n_embd,
        cfg.n_head,
      );
    });
    return this.#projectRows(acts, (b) => b * Tn + Tn - 1, B);
  }
}

/** Keys and values of every layer for incremental decoding. */
export class KVCache {
  readonly Tmax: number;
  readonly k: View[]; // L × (B, NH, Tmax, hs)
  readonly v: View[]; // L × (B, NH, Tmax, hs)
  constructor(gpu: Gpu, cfg: GPT2Config, B: number, Tmax: number) {
    if (Tmax > cfg.n_positions) {
      throw new Error(`cannot cache ${Tmax} positions: the model has n_positions ${cfg.n_positions}`);
    }
    this.Tmax = Tmax;
    const floats = B * Tmax * cfg.n_embd;
    this.k = Array.from({ length: cfg.n_layer }, () => gpu.tensor(floats, "k cache"));
    this.v = Array.from({ length: cfg.n_layer }, () => gpu.tensor(floats, "v cache"));
  }
}

function checkShape(acts: Activations, B: number, T: number): void {
  if (B > acts.B || T > acts.T || B * T > acts.B * acts.T) {
    throw new Error(`batch ${B}×${T} does not fit activations allocated for ${acts.B}×${acts.T}`);
  }
}

/** The columns [row0, row0 + rows) of a (rows, Vp) logits chunk, as a view starting at that column. */
function logitsColumns(gpu: Gpu, logits: View, rows: number, Vp: number, part: RowPart): View {
  return gpu.slice(logits, part.row0, (rows - 1) * Vp + part.rows);
}
