/**
 * Plain-TypeScript reference for the whole GPT-2 (Hugging Face GPT2LMHeadModel: pre-LN blocks, learned
 * positions, GELU (tanh), tied lm_head = wte, no dropout), forward and backward, in the style of llm.c's
 * train_gpt2.c `gpt2_forward` / `gpt2_backward`. It is composed from the op references in lib/ref/ and
 * works on a flat parameter array in `paramLayout` order (Hugging Face names, Conv1D weights (in, out)).
 *
 * Everything runs in float64 by default so the gradients can be checked by finite differences; with
 * `float64: false` activations and gradients are float32 arrays, which is faster and closer to the GPU.
 *
 * @module
 */
import { IGNORE_INDEX } from "../data/blocks.ts";
import type { GPT2Config } from "../model/config.ts";
import type { ParamLayout } from "../model/params.ts";
import { attentionBackwardRef, attentionForwardRef } from "./attention.ts";
import { crossEntropyBackwardRef, crossEntropyForwardRef } from "./crossentropy.ts";
import { encoderBackwardRef, encoderForwardRef } from "./encoder.ts";
import { geluBackwardRef, geluForwardRef } from "./gelu.ts";
import { layernormBackwardRef, layernormForwardRef } from "./layernorm.ts";
import { biasBackwardRef, matmulRef } from "./matmul.ts";
import { addIntoRef } from "./residual.ts";
import type { Floats } from "./types.ts";

/** What `gpt2ForwardBackwardRef` computes. */
export interface RefResult {
  /** (B, T, V) */
  logits: Floats;
  /** (B, T) cross-entropy per position, 0 where the target is ignored. */
  losses: Floats;
  /** Mean of `losses` over the scored (non-ignored) positions; NaN when none is scored. */
  loss: number;
  /** (total) gradient of `loss` in `paramLayout` order (padding 0); only with `backward`. */
  grads?: Floats;
}

/** Options of `gpt2ForwardBackwardRef`. */
export interface RefOptions {
  /** Also compute the gradients of the mean loss. */
  backward: boolean;
  /** Compute in float64 (default true); false uses float32 arrays for activations and gradients. */
  float64?: boolean;
}

/** One block's saved activations. */
interface BlockActs {
  ln1: Floats; // (N, C)
  ln1Mean: Floats; // (N)
  ln1Rstd: Floats; // (N)
  qkv: Floats; // (N, 3C)
  atty: Floats; // (N, C)
  lse: Floats; // (B, NH, T)
  residual2: Floats; // (N, C)
  ln2: Floats; // (N, C)
  ln2Mean: Floats; // (N)
  ln2Rstd: Floats; // (N)
  fch: Floats; // (N, 4C)
  fchGelu: Floats; // (N, 4C)
  residual3: Floats; // (N, C)
}

/** The tensors of one block, as subarrays of a flat buffer (parameters or gradients). */
interface BlockTensors {
  ln1w: Floats; // (C)
  ln1b: Floats; // (C)
  qkvw: Floats; // (C, 3C)
  qkvb: Floats; // (3C)
  attprojw: Floats; // (C, C)
  attprojb: Floats; // (C)
  ln2w: Floats; // (C)
  ln2b: Floats; // (C)
  fcw: Floats; // (C, 4C)
  fcb: Floats; // (4C)
  fcprojw: Floats; // (4C, C)
  fcprojb: Floats; // (C)
}

/** All tensors of a flat buffer. */
interface ModelTensors {
  wte: Floats; // (V, C)
  wpe: Floats; // (maxT, C)
  blocks: BlockTensors[];
  lnfw: Floats; // (C)
  lnfb: Floats; // (C)
}

function tensors(flat: Floats, layout: ParamLayout, cfg: GPT2Config): ModelTensors {
  const get = (name: string): Floats => {
    const t = layout.byName.get(name);
    if (!t) throw new Error(`parameter layout has no tensor ${name}`);
    return flat.subarray(t.offset, t.offset + t.size);
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
    wte: get("wte.weight"),
    wpe: get("wpe.weight"),
    blocks,
    lnfw: get("ln_f.weight"),
    lnfb: get("ln_f.bias"),
  };
}

/**
 * GPT-2 forward pass with the mean cross-entropy loss and, with `backward`, its gradient with respect to
 * every parameter.
 *
 * @param params (total) flat parameters in `layout` order
 * @param tokens (B, T) token ids < V
 * @param targets (B, T) next-token ids, −100 where not scored
 */
export function gpt2ForwardBackwardRef(
  cfg: GPT2Config,
  layout: ParamLayout,
  params: ArrayLike<number>,
  tokens: ArrayLike<number>,
  targets: ArrayLike<number>,
  B: number,
  T: number,
  opts: RefOptions,
): RefResult {
  const C = cfg.n_embd;
  const NH = cfg.n_head;
  const V = cfg.vocab_size;
  const L = cfg.n_layer;
  const N = B * T;
  const eps = cfg.layer_norm_epsilon;
  if (params.length !== layout.total) {
    throw new Error(`parameter array has ${params.length} floats, the layout needs ${layout.total}`);
  }
  if (tokens.length !== N || targets.length !== N) {
    throw new Error(
      `tokens (${tokens.length}) and targets (${targets.length}) must both hold B·T = ${N} ids`,
    );
  }
  if (T > cfg.n_positions) throw new Error(`sequence length ${T} exceeds n_positions ${cfg.n_positions}`);
  if (C % NH !== 0) throw new Error(`n_embd ${C} is not divisible by n_head ${NH}`);
  for (let i = 0; i < N; i++) {
    if (!(tokens[i] >= 0 && tokens[i] < V)) throw new Error(`token ${i} is ${tokens[i]}, outside [0, ${V})`);
    if (targets[i] !== IGNORE_INDEX && !(targets[i] >= 0 && targets[i] < V)) {
      throw new Error(`target ${i} is ${targets[i]}, neither −100 nor in [0, ${V})`);
    }
  }
  const float64 = opts.float64 ?? true;
  const alloc = (n: number): Floats => float64 ? new Float64Array(n) : new Float32Array(n);
  const flat = alloc(layout.total);
  flat.set(params as ArrayLike<number>);
  const p = tensors(flat, layout, cfg);

  // Forward, saving what the backward pass needs.
  const encoded = alloc(N * C);
  encoderForwardRef(encoded, tokens, p.wte, p.wpe, B, T, C);
  const acts: BlockActs[] = [];
  let residual = encoded;
  for (let l = 0; l < L; l++) {
    const w = p.blocks[l];
    const a: BlockActs = {
      ln1: alloc(N * C),
      ln1Mean: alloc(N),
      ln1Rstd: alloc(N),
      qkv: alloc(N * 3 * C),
      atty: alloc(N * C),
      lse: alloc(B * NH * T),
      residual2: alloc(N * C),
      ln2: alloc(N * C),
      ln2Mean: alloc(N),
      ln2Rstd: alloc(N),
      fch: alloc(N * 4 * C),
      fchGelu: alloc(N * 4 * C),
      residual3: alloc(N * C),
    };
    layernormForwardRef(a.ln1, a.ln1Mean, a.ln1Rstd, residual, w.ln1w, w.ln1b, N, C, eps);
    matmulRef(a.qkv, a.ln1, w.qkvw, N, 3 * C, C, { bias: w.qkvb });
    attentionForwardRef(a.atty, a.lse, a.qkv, B, T, C, NH);
    // residual2 = residual + attention projection
    matmulRef(a.residual2, a.atty, w.attprojw, N, C, C, { bias: w.attprojb });
    addIntoRef(a.residual2, residual, N * C);
    layernormForwardRef(a.ln2, a.ln2Mean, a.ln2Rstd, a.residual2, w.ln2w, w.ln2b, N, C, eps);
    matmulRef(a.fch, a.ln2, w.fcw, N, 4 * C, C, { bias: w.fcb });
    geluForwardRef(a.fchGelu, a.fch, N * 4 * C);
    // residual3 = residual2 + MLP projection
    matmulRef(a.residual3, a.fchGelu, w.fcprojw, N, C, 4 * C, { bias: w.fcprojb });
    addIntoRef(a.residual3, a.residual2, N * C);
    acts.push(a);
    residual = a.residual3;
  }
  const lnf = alloc(N * C);
  const lnfMean = alloc(N);
  const lnfRstd = alloc(N);
  layernormForwardRef(lnf, lnfMean, lnfRstd, residual, p.lnfw, p.lnfb, N, C, eps);
  // Tied LM head: logits = lnf · wteᵀ, no bias.
  const logits = alloc(N * V);
  matmulRef(logits, lnf, p.wte, N, V, C, { transB: true });
  const losses = alloc(N);
  crossEntropyForwardRef(losses, logits, targets, N, V);
  let scored = 0;
  let sum = 0;
  for (let i = 0; i < N; i++) {
    if (targets[i] === IGNORE_INDEX) continue;
    scored++;
    sum += losses[i];
  }
  const loss = sum / scored;
  if (!opts.backward) return { logits, losses, loss };

  // Backward: gradients of the mean loss, i.e. of Σ losses / scored.
  const grads = alloc(layout.total);
  const g = tensors(grads, layout, cfg);
  const dlogits = alloc(N * V);
  crossEntropyBackwardRef(dlogits, logits, targets, N, V, 1 / scored);
  // dlnf = dlogits · wte, contracting over the vocabulary. matmulRef reads a (C, V) copy of wte as "transB"
  // so that its inner loop runs along contiguous memory: walking down a column of a 50257-row wte would
  // miss the cache on every step.
  const wteT = alloc(C * V);
  for (let v = 0; v < V; v++) for (let c = 0; c < C; c++) wteT[c * V + v] = p.wte[v * C + c];
  const dlnf = alloc(N * C);
  matmulRef(dlnf, dlogits, wteT, N, C, V, { transB: true });
  // dwte += dlogitsᵀ · lnf (the LM-head half; the embedding half comes last), again from a transposed copy
  // so that the contraction over the N rows reads contiguous memory.
  const dlogitsT = alloc(V * N);
  for (let n = 0; n < N; n++) for (let v = 0; v < V; v++) dlogitsT[v * N + n] = dlogits[n * V + v];
  matmulRef(g.wte, dlogitsT, lnf, V, C, N, { accumulate: true });
  // One residual-stream gradient serves every block: each block adds its branches' input gradients.
  const dres = alloc(N * C);
  layernormBackwardRef(dres, g.lnfw, g.lnfb, dlnf, residual, p.lnfw, lnfMean, lnfRstd, N, C);
  const dln = alloc(N * C);
  const dfch = alloc(N * 4 * C);
  const datty = alloc(N * C);
  const dqkv = alloc(N * 3 * C);
  for (let l = L - 1; l >= 0; l--) {
    const w = p.blocks[l];
    const dw = g.blocks[l];
    const a = acts[l];
    const blockIn = l === 0 ? encoded : acts[l - 1].residual3;
    // MLP branch of residual3 = residual2 + fcproj(gelu(fc(ln2(residual2)))).
    matmulRef(dfch, dres, w.fcprojw, N, 4 * C, C, { transB: true });
    matmulRef(dw.fcprojw, a.fchGelu, dres, 4 * C, C, N, { transA: true, accumulate: true });
    biasBackwardRef(dw.fcprojb, dres, N, C);
    geluBackwardRef(dfch, a.fch, dfch, N * 4 * C);
    matmulRef(dln, dfch, w.fcw, N, C, 4 * C, { transB: true });
    matmulRef(dw.fcw, a.ln2, dfch, C, 4 * C, N, { transA: true, accumulate: true });
    biasBackwardRef(dw.fcb, dfch, N, 4 * C);
    layernormBackwardRef(dres, dw.ln2w, dw.ln2b, dln, a.residual2, w.ln2w, a.ln2Mean, a.ln2Rstd, N, C);
    // Attention branch of residual2 = blockIn + attproj(attention(qkv(ln1(blockIn)))).
    matmulRef(datty, dres, w.attprojw, N, C, C, { transB: true });
    matmulRef(dw.attprojw, a.atty, dres, C, C, N, { transA: true, accumulate: true });
    biasBackwardRef(dw.attprojb, dres, N, C);
    attentionBackwardRef(dqkv, datty, a.qkv, a.atty, a.lse, B, T, C, NH);
    matmulRef(dln, dqkv, w.qkvw, N, C, 3 * C, { transB: true });
    matmulRef(dw.qkvw, a.ln1, dqkv, C, 3 * C, N, { transA: true, accumulate: true });
    biasBackwardRef(dw.qkvb, dqkv, N, 3 * C);
    layernormBackwardRef(dres, dw.ln1w, dw.ln1b, dln, blockIn, w.ln1w, a.ln1Mean, a.ln1Rstd, N, C);
  }
  encoderBackwardRef(g.wte, g.wpe, dres, tokens, B, T, C);
  return { logits, losses, loss, grads };
}
