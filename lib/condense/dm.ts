/**
 * Distribution matching (Zhao & Bilen 2023, "Dataset Condensation with Distribution Matching") for
 * language models: k synthetic sequences are learned as continuous input embeddings E (k, T, C) such that
 * their mean representation under randomly initialised GPT-2s matches the real data's.
 *
 * The embedding space: one fixed token embedding table wte (V, C) and position table wpe (the reference:
 * a model directory's, or a seeded random init's). Real blocks enter as wte[ids]; E lives in the same
 * space (it replaces wte[ids], positions are added by the network), so the nearest token of every
 * position is well defined and a student sharing that wte can read E directly.
 *
 * The networks: for every iteration, a GPT-2 of the reference's shape (C, L, NH) whose blocks and ln_f
 * are freshly initialised (Hugging Face's init, seeded), with the reference wpe. Both real and synthetic
 * sequences enter as embeddings (EmbeddedGPT2), so the networks need no real vocabulary: their own token
 * table is a dummy of 64 rows, which keeps the unused output projection negligible.
 *
 * One iteration, with a real batch R (Br blocks, sampled) and a synthetic batch S (Bs sequences, in a
 * shuffled cycle so every sequence is updated equally often):
 *   m_real = mean over R's Br·T positions of the final hidden state (ln_f output)   (C)
 *   m_syn  = the same over S                                                        (C)
 *   loss   = ‖m_syn − m_real‖²
 *   dloss/dh[n] = 2 (m_syn − m_real) / (Bs·T) for every synthetic position n,
 * injected at hidden state L through `StepHooks.hiddenGrad`; the output loss is replaced by zero. Both
 * means and the gradient are matrix products with constant vectors on the GPU (deterministic), and
 * backward leaves dloss/dE in `acts.dresidual`. E is updated by Adam (β 0.9, 0.999, ε 1e-8) on the CPU,
 * each sequence's moments advancing only when it is in the batch.
 *
 * @module
 */
import type { Gpu, View } from "../gpu/runtime.ts";
import { Activations, type StepHooks } from "../model/gpt2.ts";
import type { GPT2Config } from "../model/config.ts";
import { initParams, type ParamLayout, paramLayout } from "../model/params.ts";
import { matmul } from "../ops/matmul.ts";
import { Rng } from "../rng.ts";
import { EmbeddedGPT2 } from "./embedded_forward.ts";
import { nearestTokens } from "./lm.ts";

/** The fixed embedding space and the network shape. */
export interface DmReference {
  /** Shape of the random networks (n_embd, n_layer, n_head, n_positions, layer_norm_epsilon); its vocab_size is V of wte. */
  config: GPT2Config;
  /** (V, C) token embeddings. */
  wte: Float32Array;
  /** (n_positions, C) position embeddings. */
  wpe: Float32Array;
}

/** Options of {@link distributionMatching}. */
export interface DmOptions {
  k: number;
  T: number;
  seed: number;
  /** Adam steps. */
  iterations: number;
  /** Adam learning rate. */
  lr: number;
  /** Br: real blocks per iteration (capped at the number of blocks). */
  realBatch: number;
  /** Bs: synthetic sequences per iteration (capped at k). */
  synBatch: number;
  /** Distinct random networks, cycled (0 = a fresh one every iteration). */
  inits: number;
}

/** What {@link distributionMatching} returns. */
export interface DmResult {
  /** (k, T, C) learned input embeddings. */
  embeds: Float32Array;
  /** (k) the real block each sequence was initialised from. */
  initBlocks: number[];
  /** (k, T) the nearest token of every position (Euclidean, among the wte rows of the ids in `blocks`). */
  nearest: Uint32Array;
  /** (iterations) the loss of every iteration, before its update. */
  losses: number[];
  /** Milliseconds spent in the iterations and in the nearest-token search. */
  timings: { iterations_ms: number; nearest_ms: number };
}

/** Rows of the random networks' dummy token table. */
const DUMMY_VOCAB = 64;

/** The DM objective on the GPU: a network, its activations and the constant vectors of the means. */
export class DmObjective {
  readonly gpu: Gpu;
  readonly T: number;
  readonly C: number;
  readonly maxBatch: number;
  readonly model: EmbeddedGPT2;
  #layout: ParamLayout;
  #config: GPT2Config;
  #wpe: Float32Array;
  #acts: Activations;
  #input: View; // (maxBatch, T, C)
  #negRealMean: View; // (C): −m_real
  #diff: View; // (C): m_syn − m_real
  #ones = new Map<string, View>();

  /** @param maxBatch the largest Br or Bs that will be used */
  constructor(gpu: Gpu, ref: DmReference, T: number, maxBatch: number) {
    const c = ref.config;
    if (T > c.n_positions) {
      throw new Error(`sequence length ${T} exceeds the reference's n_positions ${c.n_positions}`);
    }
    if (ref.wpe.length < T * c.n_embd) {
      throw new Error(`reference wpe holds ${ref.wpe.length} floats, T·C = ${T * c.n_embd} needed`);
    }
    this.gpu = gpu;
    this.T = T;
    this.C = c.n_embd;
    this.maxBatch = maxBatch;
    this.#config = { ...c, vocab_size: DUMMY_VOCAB, n_positions: T };
    this.#layout = paramLayout(this.#config);
    this.#wpe = ref.wpe.subarray(0, T * c.n_embd);
    this.model = new EmbeddedGPT2(gpu, this.#config, this.#params(0), { training: true });
    this.#acts = new Activations(gpu, this.#config, maxBatch, T, true);
    this.#input = gpu.tensor(maxBatch * T * this.C, "dm input embeddings");
    this.#negRealMean = gpu.tensor(this.C, "dm -mean real");
    this.#diff = gpu.tensor(this.C, "dm mean difference");
  }

  /** Parameters of random network `seed`: HF init, with the reference's position embeddings. */
  #params(seed: number): Float32Array {
    const params = initParams(this.#config, this.#layout, seed);
    params.set(this.#wpe, this.#layout.byName.get("wpe.weight")!.offset);
    return params;
  }

  /** Switches to random network `seed`. */
  setNetwork(seed: number): void {
    this.gpu.write(this.model.params, this.#params(seed));
  }

  /** A constant (n) vector, cached. */
  #constant(n: number, value: number): View {
    const key = `${n}:${value}`;
    let v = this.#ones.get(key);
    if (!v) {
      v = this.gpu.tensor(n, "dm constant");
      this.gpu.write(v, new Float32Array(n).fill(value));
      this.#ones.set(key, v);
    }
    return v;
  }

  #upload(embeds: Float32Array, B: number): void {
    const n = B * this.T * this.C;
    if (!Number.isInteger(B) || B < 1 || B > this.maxBatch) {
      throw new Error(`batch ${B} outside 1 … ${this.maxBatch}`);
    }
    if (embeds.length !== n) throw new Error(`embeddings hold ${embeds.length} floats, B·T·C = ${n}`);
    this.gpu.write(this.#input, embeds);
  }

  /** out (C) = scale · Σ over the first N rows of lnf (+ bias): a (1, N) × (N, C) product. */
  #rowMean(out: View, N: number, scale: number, bias: View | null): void {
    const { gpu, C } = this;
    matmul(gpu, {
      out,
      a: this.#constant(N, scale),
      b: gpu.slice(this.#acts.lnf, 0, N * C),
      bias,
      M: 1,
      N: C,
      K: N,
    });
  }

  /**
   * Sets the real side: m_real = mean final hidden state of the real batch under the current network.
   *
   * @param embeds (Br, T, C) wte rows of the real blocks
   */
  setReal(embeds: Float32Array, Br: number): void {
    this.#upload(embeds, Br);
    this.model.forwardFromEmbeddings(this.#acts, Br, this.T, this.#input);
    this.#rowMean(this.#negRealMean, Br * this.T, -1 / (Br * this.T), null);
  }

  /** The loss ‖m_syn − m_real‖² of synthetic embeddings (Bs, T, C), forward only. */
  async loss(embeds: Float32Array, Bs: number): Promise<number> {
    this.#upload(embeds, Bs);
    this.model.forwardFromEmbeddings(this.#acts, Bs, this.T, this.#input);
    const N = Bs * this.T;
    this.#rowMean(this.#diff, N, 1 / N, this.#negRealMean);
    return sumOfSquares(await this.gpu.read(this.#diff));
  }

  /** The loss and its gradient (Bs, T, C) with respect to synthetic embeddings (Bs, T, C). */
  async lossAndGrad(embeds: Float32Array, Bs: number): Promise<{ loss: number; grad: Float32Array }> {
    const { gpu, C, T } = this;
    this.#upload(embeds, Bs);
    const N = Bs * T;
    const acts = this.#acts;
    const L = this.#config.n_layer;
    const hooks: StepHooks = {
      outputLoss: (logits, r0, rows) => {
        gpu.zero(logits);
        gpu.zero(gpu.slice(acts.losses, r0, rows));
      },
      hiddenGrad: (i, grad) => {
        if (i !== L) return;
        this.#rowMean(this.#diff, N, 1 / N, this.#negRealMean);
        // grad (N, C) += (2/N)·1 (N, 1) × diff (1, C)
        matmul(gpu, {
          out: grad,
          a: this.#constant(N, 2 / N),
          b: this.#diff,
          M: N,
          N: C,
          K: 1,
          accumulate: true,
        });
      },
    };
    this.model.zeroGrads(); // parameter gradients are not used; keep them from growing
    this.model.stepFromEmbeddings(acts, Bs, T, this.#input, true, hooks);
    const loss = sumOfSquares(await gpu.read(this.#diff));
    const grad = await gpu.read(gpu.slice(acts.dresidual, 0, N * C));
    return { loss, grad };
  }
}

function sumOfSquares(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

/** Gathers wte rows of n blocks: out (n, T, C) = wte[blocks[idx[j]]]. */
export function gatherEmbeddings(
  wte: Float32Array,
  C: number,
  blocks: Uint32Array,
  T: number,
  indices: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(indices.length * T * C);
  for (let j = 0; j < indices.length; j++) {
    for (let t = 0; t < T; t++) {
      const id = blocks[indices[j] * T + t];
      out.set(wte.subarray(id * C, (id + 1) * C), (j * T + t) * C);
    }
  }
  return out;
}

/** A seeded stream of batches of distinct indices from 0 … n−1: shuffled cycles (epochs). */
class Cycler {
  #order: Uint32Array;
  #cursor: number;
  #rng: Rng;
  constructor(n: number, rng: Rng) {
    this.#order = Uint32Array.from({ length: n }, (_, i) => i);
    this.#rng = rng;
    this.#rng.shuffle(this.#order);
    this.#cursor = 0;
  }
  next(B: number): number[] {
    const out: number[] = [];
    while (out.length < B) {
      if (this.#cursor === this.#order.length) {
        this.#rng.shuffle(this.#order);
        this.#cursor = 0;
      }
      const i = this.#order[this.#cursor++];
      if (!out.includes(i)) out.push(i);
    }
    return out;
  }
}

/** Seed of random network `i` for condensation seed `seed`. */
function networkSeed(seed: number, i: number): number {
  return (Math.imul(seed + 1, 0x2545f491) ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
}

/** Checks DM options; throws a one-line Error. */
export function checkDmOptions(opts: DmOptions): void {
  const positive = (name: string, x: number) => {
    if (!Number.isInteger(x) || x < 1) throw new Error(`${name} must be a positive integer, got ${x}`);
  };
  positive("k", opts.k);
  positive("T", opts.T);
  positive("real batch", opts.realBatch);
  positive("synthetic batch", opts.synBatch);
  if (!Number.isInteger(opts.iterations) || opts.iterations < 0) {
    throw new Error(`iterations must be an integer ≥ 0, got ${opts.iterations}`);
  }
  if (!Number.isInteger(opts.inits) || opts.inits < 0) {
    throw new Error(`inits must be an integer ≥ 0, got ${opts.inits}`);
  }
  if (!(opts.lr > 0)) throw new Error(`learning rate must be > 0, got ${opts.lr}`);
}

/**
 * Learns k synthetic sequences by distribution matching (see the module doc), initialised from k
 * distinct real blocks drawn by the seed. Deterministic for a seed.
 *
 * @param blocks (nBlocks, T) real token ids, each < V of the reference
 *
 * @example
 * ```ts
 * const { embeds, nearest, losses } = await distributionMatching(gpu, blocks, ref, {
 *   k: 120, T: 128, seed: 0, iterations: 200, lr: 1e-3, realBatch: 16, synBatch: 16, inits: 0,
 * });
 * ```
 */
export async function distributionMatching(
  gpu: Gpu,
  blocks: Uint32Array,
  ref: DmReference,
  opts: DmOptions,
  onProgress?: (done: number, total: number, loss: number) => void,
): Promise<DmResult> {
  checkDmOptions(opts);
  const { k, T } = opts;
  const C = ref.config.n_embd;
  const V = ref.config.vocab_size;
  if (ref.wte.length < V * C) {
    throw new Error(`reference wte holds ${ref.wte.length} floats, V·C = ${V * C} needed`);
  }
  const nBlocks = blocks.length / T;
  if (!Number.isInteger(nBlocks) || nBlocks < 1) {
    throw new Error(`blocks hold ${blocks.length} ids, not a positive multiple of T = ${T}`);
  }
  if (k > nBlocks) throw new Error(`k = ${k} is larger than the number of blocks (${nBlocks})`);
  for (let i = 0; i < blocks.length; i++) {
    if (blocks[i] >= V) throw new Error(`token id ${blocks[i]} is outside the reference vocabulary (${V})`);
  }
  const Br = Math.min(opts.realBatch, nBlocks);
  const Bs = Math.min(opts.synBatch, k);
  const rng = new Rng(opts.seed);
  const order = Uint32Array.from({ length: nBlocks }, (_, i) => i);
  rng.shuffle(order);
  const initBlocks = Array.from(order.subarray(0, k));
  const embeds = gatherEmbeddings(ref.wte, C, blocks, T, initBlocks);
  const objective = new DmObjective(gpu, ref, T, Math.max(Br, Bs));
  const realCycle = new Cycler(nBlocks, new Rng(networkSeed(opts.seed, -2)));
  const synCycle = new Cycler(k, new Rng(networkSeed(opts.seed, -3)));
  const seqFloats = T * C;
  const m1 = new Float32Array(k * seqFloats);
  const m2 = new Float32Array(k * seqFloats);
  const steps = new Uint32Array(k);
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  const losses: number[] = [];
  const t0 = performance.now();
  for (let it = 0; it < opts.iterations; it++) {
    objective.setNetwork(networkSeed(opts.seed, opts.inits > 0 ? it % opts.inits : it));
    objective.setReal(gatherEmbeddings(ref.wte, C, blocks, T, realCycle.next(Br)), Br);
    const syn = synCycle.next(Bs);
    const batch = new Float32Array(Bs * seqFloats);
    syn.forEach((j, b) => batch.set(embeds.subarray(j * seqFloats, (j + 1) * seqFloats), b * seqFloats));
    const { loss, grad } = await objective.lossAndGrad(batch, Bs);
    losses.push(loss);
    syn.forEach((j, b) => {
      const t = ++steps[j];
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      for (let i = 0; i < seqFloats; i++) {
        const at = j * seqFloats + i;
        const g = grad[b * seqFloats + i];
        m1[at] = beta1 * m1[at] + (1 - beta1) * g;
        m2[at] = beta2 * m2[at] + (1 - beta2) * g * g;
        embeds[at] -= (opts.lr * (m1[at] / c1)) / (Math.sqrt(m2[at] / c2) + eps);
      }
    });
    onProgress?.(it + 1, opts.iterations, loss);
  }
  const t1 = performance.now();
  // Decode over the ids the corpus uses (WikiText-2 valid: ~13k of 50257): 4× less work, and the text
  // stays in the corpus' vocabulary.
  const vocab = Uint32Array.from(new Set(blocks)).sort();
  const table = new Float32Array(vocab.length * C);
  vocab.forEach((id, i) => table.set(ref.wte.subarray(id * C, (id + 1) * C), i * C));
  const local = await nearestTokens(gpu, embeds, k * T, table, vocab.length, C);
  const nearest = local.map((i) => vocab[i]);
  const timings = { iterations_ms: Math.round(t1 - t0), nearest_ms: Math.round(performance.now() - t1) };
  return { embeds, initBlocks, nearest, losses, timings };
}
