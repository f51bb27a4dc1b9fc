/**
 * Training on a condensed set (`deno task train --data FILE.jsonl`, FILE written by `deno task condense`).
 *
 * The k examples are the training blocks: their ids, T = their length (lib/data/dataset.ts reads them
 * through condensed_set.ts), batched by the trainer's sampler like any blocks. Validation and evaluation
 * stay on real text (`--val-data`; a condensed file has no valid split).
 *
 * Without options, and for sets of real or generated token ids, this is plain causal-LM training on those
 * blocks (the trainer's own micro-step). Otherwise a {@link CondensedObjective} replaces the micro-step:
 *
 * - `sampleWeights`: example b of a micro-batch gets weight ω_b = its stored weight (the number of real
 *   blocks it stands for), and the micro-batch loss is the weighted mean of per-example mean losses,
 *
 *       L = Σ_b ω_b·ℓ_b / Σ_b ω_b,   ℓ_b = mean over b's scored positions (its T−1 next-token targets),
 *
 *   the sums running over the B examples of the micro-batch (an example drawn twice counts twice). A step
 *   averages its micro-batches, as the trainer does. With equal weights this is exactly plain training
 *   (bit-identical gradients); without `sampleWeights` every ω_b = 1.
 * - `softTargets`: ℓ_b is the distillation loss of lib/distill/objective.ts on the stored teacher top-k
 *   logits (distillLogits' top-k form): ℓ_b = α_ce·T_s²·KL(q ‖ softmax(z/T_s)) averaged over b's T
 *   positions + α_clm·(cross-entropy averaged over b's scored positions), q = softmax of the k stored
 *   logits at temperature T_s. With ω_b = 1 this equals DistillObjective with a top-k teacher on the same
 *   batches (α_rkl = 0, no hidden-state terms).
 * - input embeddings (sets made by `--method dm`, always used when present): each example's input is its
 *   stored (T, C) vectors instead of wte[id] (positions are still added), run through the
 *   EmbeddedGPT2 substitution (embedded_step.ts); its targets are its stored ids (each position's nearest
 *   token) shifted by one. Trained: every parameter; wte only through the tied output head (the stored
 *   vectors are fixed data, so the gradient reaching them is dropped, not added to any wte row); wpe and all
 *   blocks as usual. The vectors live in the embedding space dm used (its --model's, or the seeded random
 *   init of --dm-config); a student initialised with that same init (same preset, same seed) starts with
 *   exactly that wte.
 *
 * Gradients are reduced deterministically: the output loss runs per (chunk, example) segment with that
 * example's gradient scale ω_b / (Σω · n_b · gradAccum), everything downstream is the model's own passes.
 *
 * @module
 */
import { BatchSampler } from "../data/blocks.ts";
import type { View } from "../gpu/runtime.ts";
import type { GPT2Config } from "../model/config.ts";
import type { StepHooks } from "../model/gpt2.ts";
import { crossEntropy } from "../ops/crossentropy.ts";
import { DISTILL_MAX_TOPK, distillLogits } from "../ops/distill_logits.ts";
import type { ExtraState, MicroBatch, Objective, ObjectiveContext, TrainSettings } from "../train/trainer.ts";
import { checkVocabulary, type CondensedSet, isCondensedFile, readCondensedSet } from "./condensed_set.ts";
import { EmbeddedStepScratch, stepOnEmbeddings } from "./embedded_step.ts";

/** How to train on a condensed set (see the module doc). */
export interface CondensedTrainOptions {
  /** Weight each example's mean loss by its stored weight. */
  sampleWeights: boolean;
  /** Train on the stored teacher top-k logits (knowledge distillation). */
  softTargets: boolean;
  /** Softmax temperature of the soft-target KL. */
  temperature: number;
  /** Weight of the soft-target KL (×T²). */
  alphaCe: number;
  /** Weight of the causal-LM cross-entropy when training on soft targets. */
  alphaClm: number;
}

/** Defaults: plain training; the soft-target weights of `deno task distill`. */
export const CONDENSED_TRAIN_DEFAULTS: CondensedTrainOptions = {
  sampleWeights: false,
  softTargets: false,
  temperature: 2,
  alphaCe: 0.5,
  alphaClm: 0.5,
};

/** Rows [row0, row0 + len) of a micro-batch: one example's part of one output chunk. */
interface Segment {
  row0: number;
  len: number;
  /** The example's row in the micro-batch. */
  b: number;
}

/**
 * The (chunk, example) segments of a (B, T) micro-batch whose output layer runs `chunkRows` rows at a time
 * (GPT2.step's chunk loop), in order.
 */
export function outputSegments(B: number, T: number, chunkRows: number): Segment[] {
  const N = B * T;
  const out: Segment[] = [];
  for (let r0 = 0; r0 < N; r0 += chunkRows) {
    const r1 = Math.min(N, r0 + chunkRows);
    for (let b = Math.floor(r0 / T); b * T < r1; b++) {
      const s0 = Math.max(r0, b * T);
      out.push({ row0: s0, len: Math.min(r1, (b + 1) * T) - s0, b });
    }
  }
  return out;
}

/** Rounds up to whole 64-float (256-byte) slots: every storage offset alignment divides 256. */
const align64 = (n: number) => Math.ceil(n / 64) * 64;

/** Per-step sums of the loss terms. */
interface Sums {
  micro: number;
  ce: number;
  clm: number;
}

/** The micro-batch being recorded. */
interface Current {
  examples: Uint32Array;
  omega: Float64Array;
  omegaSum: number;
  scored: Int32Array;
  gradAccum: number;
}

/** Training on a condensed set with per-example weights, stored soft targets or input embeddings. */
export class CondensedObjective implements Objective {
  readonly set: CondensedSet;
  readonly options: CondensedTrainOptions;
  #ctx: ObjectiveContext | null = null;
  #sampler: BatchSampler | null = null;
  #segments: Segment[] = [];
  #labels: View | null = null;
  #losses: View | null = null;
  #topIdx: View | null = null;
  #topLog: View | null = null;
  #embeds: View | null = null;
  #scratch: EmbeddedStepScratch | null = null;
  #slot = { labels: 0, losses: 0, top: 0 };
  #cpu = {
    labels: new Int32Array(0),
    idx: new Uint32Array(0),
    log: new Float32Array(0),
    embeds: new Float32Array(0),
  };
  #current: Current | null = null;
  #sums: Sums = { micro: 0, ce: 0, clm: 0 };

  constructor(set: CondensedSet, options: CondensedTrainOptions) {
    checkTrainOptions(set, options);
    this.set = set;
    this.options = options;
  }

  start(ctx: ObjectiveContext, _saved: ExtraState | null): Promise<void> {
    this.#ctx = ctx;
    const { gpu, model, acts, settings } = ctx;
    const set = this.set;
    const T = set.T;
    if (acts.T !== T) {
      throw new Error(`the activations are for T = ${acts.T}, the condensed set has T = ${T}`);
    }
    checkModelFit(set, this.options, model.config);
    this.#sampler = new BatchSampler(set.count, settings.batch, {
      seed: settings.seed,
      shuffle: settings.shuffle,
    });
    this.#segments = outputSegments(acts.B, T, acts.chunkRows);
    const S = this.#segments.length;
    const k = this.options.softTargets ? set.soft!.k : 0;
    this.#slot = { labels: align64(T), losses: align64(3 * T), top: align64(T * k) };
    this.#labels = gpu.tensor(S * this.#slot.labels, "condensed labels");
    this.#losses = gpu.tensor(S * this.#slot.losses, "condensed losses");
    this.#cpu.labels = new Int32Array(S * this.#slot.labels);
    if (k > 0) {
      this.#topIdx = gpu.tensor(S * this.#slot.top, "condensed top-k indices");
      this.#topLog = gpu.tensor(S * this.#slot.top, "condensed top-k logits");
      this.#cpu.idx = new Uint32Array(S * this.#slot.top);
      this.#cpu.log = new Float32Array(S * this.#slot.top);
    }
    if (set.embeds) {
      const N = acts.B * T;
      this.#embeds = gpu.tensor(N * set.embeds.C, "condensed input embeddings");
      this.#cpu.embeds = new Float32Array(N * set.embeds.C);
      this.#scratch = new EmbeddedStepScratch(model);
    }
    return Promise.resolve();
  }

  /** The set's examples in micro-batch `g` of the run (the trainer's sampler order, recomputed). */
  #examplesOf(g: number): Uint32Array {
    const sampler = this.#sampler!;
    const p = g * sampler.B;
    sampler.state = { epoch: Math.floor(p / sampler.nBlocks), cursor: p % sampler.nBlocks };
    return sampler.next();
  }

  microStep(batch: MicroBatch): Promise<void> {
    const { gpu, model, acts } = this.#ctx!;
    const { B, T } = batch;
    const set = this.set;
    if (B !== this.#sampler!.B || T !== set.T) {
      throw new Error(`micro-batch ${B}×${T} does not match the run's ${this.#sampler!.B}×${set.T}`);
    }
    // The trainer hands over ids, not block indices: recompute which examples these are, and check.
    const examples = this.#examplesOf(batch.step * batch.gradAccum + batch.micro);
    for (let b = 0; b < B; b++) {
      const e = examples[b];
      for (let t = 0; t < T; t++) {
        if (set.ids[e * T + t] !== batch.inputs[b * T + t]) {
          throw new Error(
            `condensed training lost track of the batch order (micro-batch ${batch.micro} of step ${batch.step})`,
          );
        }
      }
    }
    const omega = new Float64Array(B);
    const scored = new Int32Array(B);
    let omegaSum = 0;
    for (let b = 0; b < B; b++) {
      omega[b] = this.options.sampleWeights ? set.weights[examples[b]] : 1;
      omegaSum += omega[b];
      for (let t = 0; t < T; t++) if (batch.targets[b * T + t] >= 0) scored[b]++;
    }
    if (!(omegaSum > 0)) throw new Error("every example of a micro-batch has weight 0");
    this.#current = { examples, omega, omegaSum, scored, gradAccum: batch.gradAccum };

    // Each segment's labels (and teacher top-k rows) go to its own 256-byte-aligned slot.
    const k = this.options.softTargets ? set.soft!.k : 0;
    const cpu = this.#cpu;
    this.#segments.forEach((seg, j) => {
      cpu.labels.set(batch.targets.subarray(seg.row0, seg.row0 + seg.len), j * this.#slot.labels);
      if (k > 0) {
        const from = (examples[seg.b] * T + (seg.row0 - seg.b * T)) * k;
        cpu.idx.set(set.soft!.indices.subarray(from, from + seg.len * k), j * this.#slot.top);
        cpu.log.set(set.soft!.logits.subarray(from, from + seg.len * k), j * this.#slot.top);
      }
    });
    gpu.write(this.#labels!, cpu.labels);
    if (k > 0) {
      gpu.write(this.#topIdx!, cpu.idx);
      gpu.write(this.#topLog!, cpu.log);
    }
    const hooks: StepHooks = { outputLoss: (logits, r0, rows) => this.#outputLoss(logits, r0, rows) };
    if (set.embeds) {
      const C = set.embeds.C;
      for (let b = 0; b < B; b++) {
        const from = examples[b] * T * C;
        cpu.embeds.set(set.embeds.data.subarray(from, from + T * C), b * T * C);
      }
      gpu.write(this.#embeds!, cpu.embeds);
      stepOnEmbeddings(model, acts, B, T, this.#embeds!, this.#scratch!, 1, hooks);
    } else {
      model.step(acts, B, T, batch.inputs, true, 1, hooks);
    }
    return Promise.resolve();
  }

  /** The output loss of rows [r0, r0 + rows): per segment, with its example's gradient scale. */
  #outputLoss(logits: View, r0: number, rows: number): void {
    const { gpu, model } = this.#ctx!;
    const cur = this.#current!;
    const o = this.options;
    const V = model.config.vocab_size;
    const Vp = model.Vp;
    const T = this.set.T;
    this.#segments.forEach((seg, j) => {
      if (seg.row0 < r0 || seg.row0 >= r0 + rows) return;
      if (seg.row0 + seg.len > r0 + rows) throw new Error("an output segment crosses a chunk boundary");
      const z = gpu.slice(logits, (seg.row0 - r0) * Vp, seg.len * Vp);
      const labels = gpu.slice(this.#labels!, j * this.#slot.labels, seg.len);
      const w = cur.omega[seg.b];
      const n = cur.scored[seg.b];
      if (o.softTargets) {
        const k = this.set.soft!.k;
        const at = j * this.#slot.top;
        distillLogits(
          gpu,
          gpu.slice(this.#losses!, j * this.#slot.losses, 3 * seg.len),
          z,
          labels,
          null,
          {
            kind: "topk",
            indices: gpu.slice(this.#topIdx!, at, seg.len * k),
            logits: gpu.slice(this.#topLog!, at, seg.len * k),
            k,
          },
          seg.len,
          V,
          Vp,
          {
            temperature: o.temperature,
            // ce is a mean over the example's T positions, clm over its n scored ones (as in distillation).
            alphaClm: n > 0 ? o.alphaClm * (T / n) : 0,
            alphaCe: o.alphaCe,
            alphaRkl: 0,
            gradScale: w / (cur.omegaSum * T * cur.gradAccum),
          },
        );
      } else {
        crossEntropy(
          gpu,
          gpu.slice(this.#losses!, j * this.#slot.losses, seg.len),
          z,
          labels,
          seg.len,
          V,
          Vp,
          { writeGradient: true, gradScale: n > 0 ? w / (cur.omegaSum * n * cur.gradAccum) : 0 },
        );
      }
    });
  }

  async microLoss(): Promise<number> {
    const { gpu } = this.#ctx!;
    const cur = this.#current!;
    const o = this.options;
    const T = this.set.T;
    const data = await gpu.read(this.#losses!);
    const B = cur.omega.length;
    const ce = new Float64Array(B);
    const clm = new Float64Array(B);
    this.#segments.forEach((seg, j) => {
      const at = j * this.#slot.losses;
      for (let r = 0; r < seg.len; r++) {
        if (o.softTargets) {
          clm[seg.b] += data[at + 3 * r];
          ce[seg.b] += data[at + 3 * r + 1];
        } else clm[seg.b] += data[at + r];
      }
    });
    let total = 0, ceMean = 0, clmMean = 0;
    for (let b = 0; b < B; b++) {
      const w = cur.omega[b] / cur.omegaSum;
      const clmB = cur.scored[b] > 0 ? clm[b] / cur.scored[b] : 0;
      const ceB = ce[b] / T;
      total += w * (o.softTargets ? o.alphaCe * ceB + o.alphaClm * clmB : clmB);
      ceMean += w * ceB;
      clmMean += w * clmB;
    }
    this.#sums.micro++;
    this.#sums.ce += ceMean;
    this.#sums.clm += clmMean;
    return total;
  }

  afterUpdate(_lr: number): void {}

  stepMetrics(_stepSeconds: number): Promise<Record<string, number>> {
    const s = this.#sums;
    const n = Math.max(1, s.micro);
    const out: Record<string, number> = this.options.softTargets
      ? { loss_ce: s.ce / n, loss_clm: s.clm / n }
      : {};
    this.#sums = { micro: 0, ce: 0, clm: 0 };
    return Promise.resolve(out);
  }

  saveState(): Promise<ExtraState> {
    // Nothing to carry over: the batch order is the trainer's, and the objective has no parameters.
    return Promise.resolve({ tensors: [], state: { objective: "condensed" } });
  }
}

/** Throws a one-line Error when the options ask for something the set does not have. */
function checkTrainOptions(set: CondensedSet, o: CondensedTrainOptions): void {
  if (o.softTargets) {
    if (set.softPartial) throw new Error(`${set.path}: only some examples have soft targets`);
    if (!set.soft) {
      throw new Error(`${set.path} has no soft targets (condense with --soft-targets N and a teacher)`);
    }
    if (!(o.temperature > 0) || !Number.isFinite(o.temperature)) {
      throw new Error(`--temperature must be a positive number, got ${o.temperature}`);
    }
    for (const [name, a] of [["alpha-ce", o.alphaCe], ["alpha-clm", o.alphaClm]] as const) {
      if (!(a >= 0) || !Number.isFinite(a)) throw new Error(`--${name} must be ≥ 0, got ${a}`);
    }
    if (o.alphaCe === 0 && o.alphaClm === 0) throw new Error("--alpha-ce and --alpha-clm are both 0");
  }
  if (o.sampleWeights) {
    for (let j = 0; j < set.count; j++) {
      if (!(set.weights[j] > 0)) {
        throw new Error(
          `${set.path}: example ${j + 1} has weight ${set.weights[j]}; --sample-weights needs > 0`,
        );
      }
    }
  }
}

/** Throws a one-line Error when the set does not fit the model (width, vocabulary, top-k width, length). */
export function checkModelFit(set: CondensedSet, o: CondensedTrainOptions, config: GPT2Config): void {
  if (set.T > config.n_positions) {
    throw new Error(
      `${set.path} has ${set.T}-token examples, the model's n_positions is ${config.n_positions}`,
    );
  }
  checkVocabulary(set, config.vocab_size, "the model", false);
  if (set.embeds && set.embeds.C !== config.n_embd) {
    throw new Error(
      `${set.path} holds ${set.embeds.C}-wide input embeddings, the model's n_embd is ${config.n_embd}`,
    );
  }
  if (o.softTargets && set.soft) {
    const k = set.soft.k;
    if (k > DISTILL_MAX_TOPK || k > config.vocab_size) {
      throw new Error(`${set.path}: top-${k} soft targets exceed the supported ${DISTILL_MAX_TOPK}`);
    }
  }
}

/** What a training run needs to train on a condensed set. */
export interface CondensedRunPlan {
  set: CondensedSet;
  /** The run's settings with T = the examples' length. */
  settings: TrainSettings;
  /** The micro-step replacement, or null for plain training on the ids. */
  objective: CondensedObjective | null;
  /** Recorded in run.json (and checked on resume). */
  runInfo: Record<string, unknown>;
  /** One line for the log. */
  description: string;
  /** Checks the set against the model and its tokenizer (before any GPU work). */
  check(config: GPT2Config, vocabSize: number): void;
}

/**
 * Plans training on `data` when it is a condensed set; null for any other data (then `options` must not
 * ask for weights or soft targets). `seqExplicit`: whether `settings.seq` was given (it must then equal
 * the examples' length; otherwise that length replaces it). `external`: another objective (distillation)
 * replaces the micro-step, which works for sets of token ids without weights or soft targets only.
 */
export async function planCondensedRun(o: {
  data: string;
  settings: TrainSettings;
  seqExplicit: boolean;
  options?: CondensedTrainOptions;
  external: boolean;
}): Promise<CondensedRunPlan | null> {
  const opts = o.options ?? CONDENSED_TRAIN_DEFAULTS;
  if (!(await isCondensedFile(o.data))) {
    if (opts.sampleWeights || opts.softTargets) {
      throw new Error(
        `--sample-weights and --soft-targets need a condensed set (a .jsonl from deno task condense); ${o.data} is not one`,
      );
    }
    return null;
  }
  const set = await readCondensedSet(o.data);
  if (o.seqExplicit && o.settings.seq !== set.T) {
    throw new Error(
      `${o.data} is a condensed set of ${set.T}-token examples: --seq must be ${set.T} (or omitted), got ${o.settings.seq}`,
    );
  }
  const needed = opts.sampleWeights || opts.softTargets || set.embeds !== null;
  if (needed && o.external) {
    throw new Error(
      `${o.data}: input embeddings, --sample-weights and --soft-targets are for deno task train only`,
    );
  }
  const objective = needed ? new CondensedObjective(set, opts) : null;
  const method = typeof set.meta?.method === "string" ? set.meta.method : null;
  const runInfo = {
    condensed: {
      file: o.data,
      examples: set.count,
      seq: set.T,
      method,
      sample_weights: opts.sampleWeights,
      soft_targets: opts.softTargets
        ? { k: set.soft!.k, temperature: opts.temperature, alpha_ce: opts.alphaCe, alpha_clm: opts.alphaClm }
        : false,
      input_embeddings: set.embeds !== null,
    },
  };
  const parts = [`${set.count} condensed examples of ${set.T} tokens${method ? ` (${method})` : ""}`];
  if (set.embeds) parts.push("inputs: stored dm embeddings");
  if (opts.sampleWeights) parts.push("loss: weighted mean of per-example losses");
  if (opts.softTargets) {
    parts.push(
      `soft targets: top-${set.soft!.k}, ${opts.alphaCe}·ce(T=${opts.temperature}) + ${opts.alphaClm}·clm`,
    );
  }
  return {
    set,
    settings: { ...o.settings, seq: set.T },
    objective,
    runInfo,
    description: parts.join("; "),
    check: (config, vocabSize) => {
      checkVocabulary(set, vocabSize);
      checkModelFit(set, opts, config);
    },
  };
}
