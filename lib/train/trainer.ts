/**
 * The training loop: batches of T-token blocks, gradient accumulation, AdamW with a learning-rate
 * schedule and clipping, periodic validation perplexity, atomic checkpoints and exact resumption.
 *
 * Two runs with the same seed and data give identical losses (every kernel is deterministic), and a run
 * resumed from a checkpoint continues with the losses the uninterrupted run would have had.
 *
 * An {@link Objective} (knowledge distillation, lib/distill/objective.ts) may replace the causal-LM
 * micro-step; it sees the upcoming batches for prefetching and checkpoints its own state with the run's.
 *
 * @module
 */
import { BatchSampler, fillBatch, type SamplerState } from "../data/blocks.ts";
import type { Gpu } from "../gpu/runtime.ts";
import type { GPT2Config } from "../model/config.ts";
import { Activations, GPT2 } from "../model/gpt2.ts";
import { AdamW } from "./optimizer.ts";
import { learningRate, type ScheduleName } from "./schedule.ts";
import { type ExtraState, loadCheckpoint, type LoopState, saveCheckpoint } from "./checkpoint.ts";

export type { ExtraState } from "./checkpoint.ts";

/** Resolved settings of a training run. */
export interface TrainSettings {
  steps: number;
  /** Stop (with a checkpoint) after this many minutes; 0 = no limit. */
  maxMinutes: number;
  batch: number;
  seq: number;
  gradAccum: number;
  lr: number;
  schedule: ScheduleName;
  warmup: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  clip: number;
  seed: number;
  shuffle: boolean;
  /** Validate every N steps (0 = only at the end). */
  evalEvery: number;
  /** At most this many validation batches per evaluation (0 = all). */
  evalBatches: number;
  /** Checkpoint every N steps (0 = only at the end). */
  saveEvery: number;
}

/** One optimizer step's record (also a line of metrics.jsonl). */
export interface StepMetrics {
  step: number;
  loss: number;
  lr: number;
  tokens_per_s: number;
  grad_norm: number;
  elapsed_s: number;
  /** An objective's extra per-step values (each loss term, teacher wait); absent for plain training. */
  terms?: Record<string, number>;
}

/** One validation record. */
export interface EvalMetrics {
  step: number;
  val_loss: number;
  val_ppl: number;
  val_tokens: number;
}

/** What the loop reports to its caller (printing, progress, metrics files). */
export interface TrainCallbacks {
  onStart?(info: { startStep: number; params: number; resumed: boolean }): void;
  onStep?(m: StepMetrics): void | Promise<void>;
  onEval?(m: EvalMetrics): void | Promise<void>;
  onCheckpoint?(step: number): void | Promise<void>;
}

/** Inputs of a run. */
export interface TrainInputs {
  gpu: Gpu;
  config: GPT2Config;
  /** Initial parameters in layout order (ignored when resuming). */
  params: Float32Array;
  /** Training blocks (nTrain, T). */
  train: Uint32Array;
  /** Validation blocks (nValid, T), or null. */
  valid: Uint32Array | null;
  settings: TrainSettings;
  /** Output folder (checkpoints go to OUT/checkpoint/). */
  out: string;
  resume: boolean;
  /** Anything else that must match on resume (data path, model source). */
  runInfo: Record<string, unknown>;
  /** Replaces the causal-LM micro-step (knowledge distillation); absent for plain training. */
  objective?: Objective;
}

/** One micro-batch handed to an {@link Objective}; its tokens and targets are already uploaded. */
export interface MicroBatch {
  /** (B, T) token ids. */
  inputs: Uint32Array;
  /** (B, T) next-token targets, −100 where not scored. */
  targets: Int32Array;
  B: number;
  T: number;
  /** Number of scored targets (≥ 0) in the micro-batch. */
  scored: number;
  /** Index of the micro-batch within its optimizer step, 0 … gradAccum − 1. */
  micro: number;
  gradAccum: number;
  /** Optimizer steps completed before this one. */
  step: number;
  /**
   * The token ids (B, T) of the k-th micro-batch after this one (k ≥ 1): the data order is fixed in
   * advance, so an objective may prefetch what it needs for later batches (a teacher's outputs).
   */
  peek(k: number): Uint32Array;
}

/** What an objective gets once the student exists. */
export interface ObjectiveContext {
  gpu: Gpu;
  model: GPT2;
  acts: Activations;
  settings: TrainSettings;
  /** The run's seed (for the objective's own initialisation). */
  seed: number;
}

/**
 * A training objective that replaces the plain causal-LM micro-step, e.g. knowledge distillation. The loop
 * keeps everything else: data order, accumulation, the student's AdamW, schedules, validation,
 * checkpoints (with the objective's own state) and exact resumption.
 */
export interface Objective {
  /** Allocates the objective's GPU state; `saved` is its checkpointed state when resuming, else null. */
  start(ctx: ObjectiveContext, saved: ExtraState | null): Promise<void>;
  /**
   * Records the forward and backward passes of one uploaded micro-batch, accumulating the gradient of
   * (its loss / gradAccum) into `model.grads`. May await inputs it needs (a teacher's batch).
   */
  microStep(batch: MicroBatch): Promise<void>;
  /** The loss of the micro-batch last recorded (reads back; the step's loss is the mean over micro-batches). */
  microLoss(): Promise<number>;
  /** Called after the student's optimizer update of each step, with its learning rate (own updates). */
  afterUpdate(lr: number): void;
  /** Extra values of the step that just ended (loss terms, teacher wait), given its duration. */
  stepMetrics(stepSeconds: number): Promise<Record<string, number>>;
  /** Tensors and JSON state to checkpoint. */
  saveState(): Promise<ExtraState>;
}

/** Result of `train`. */
export interface TrainResult {
  model: GPT2;
  steps: number;
  tokens: number;
  seconds: number;
  lastVal: EvalMetrics | null;
  stoppedEarly: boolean;
}

/** Runs the training loop. */
export async function train(inputs: TrainInputs, cb: TrainCallbacks = {}): Promise<TrainResult> {
  const { gpu, settings: s, train: trainBlocks } = inputs;
  const T = s.seq;
  const B = s.batch;
  const nTrain = trainBlocks.length / T;
  if (nTrain < 1) throw new Error(`no training blocks of ${T} tokens`);
  const runConfig = {
    ...inputs.runInfo,
    ...s,
    steps: undefined,
    maxMinutes: undefined,
    evalEvery: undefined,
  };

  let config = inputs.config;
  let params = inputs.params;
  const sampler = new BatchSampler(nTrain, B, { seed: s.seed, shuffle: s.shuffle });
  const batches = new Lookahead(sampler);
  let startStep = 0;
  let tokens = 0;
  let moments: { m: Float32Array; v: Float32Array; step: number } | null = null;
  let savedObjective: ExtraState | null = null;
  const objective = inputs.objective;
  if (inputs.resume) {
    const ck = await loadCheckpoint(inputs.out);
    const mismatch = Object.keys(runConfig).find((k) =>
      JSON.stringify((runConfig as Record<string, unknown>)[k]) !== JSON.stringify(ck.state.run[k])
    );
    if (mismatch) {
      throw new Error(
        `cannot resume: setting "${mismatch}" differs from the checkpoint's ` +
          `(${JSON.stringify(ck.state.run[mismatch])} there, ${
            JSON.stringify((runConfig as Record<string, unknown>)[mismatch])
          } now)`,
      );
    }
    config = ck.config;
    params = ck.params;
    startStep = ck.state.step;
    tokens = ck.state.tokens;
    sampler.state = ck.state.sampler;
    moments = { m: ck.m, v: ck.v, step: ck.state.step };
    savedObjective = ck.extra;
    if (objective && !savedObjective) throw new Error("cannot resume: the checkpoint has no objective state");
  }

  const model = new GPT2(gpu, config, params, { training: true });
  const opt = new AdamW(model, {
    beta1: s.beta1,
    beta2: s.beta2,
    eps: s.eps,
    weightDecay: s.weightDecay,
    clip: s.clip,
  });
  if (moments) opt.loadState(moments);
  const acts = new Activations(gpu, config, B, T, true);
  await objective?.start({ gpu, model, acts, settings: s, seed: s.seed }, savedObjective);
  cb.onStart?.({ startStep, params: params.length, resumed: inputs.resume });

  const inputsBuf = new Uint32Array(B * T);
  const targetsBuf = new Int32Array(B * T);
  const schedule = { name: s.schedule, lr: s.lr, warmup: s.warmup, total: s.steps };
  const started = performance.now();
  let lastVal: EvalMetrics | null = null;
  let step = startStep;
  let stoppedEarly = false;

  const checkpoint = async () => {
    const state: LoopState = { step, sampler: batches.state, tokens, run: runConfig };
    await saveCheckpoint(
      inputs.out,
      config,
      model.layout,
      await model.readParams(),
      await opt.readState(),
      state,
      objective ? await objective.saveState() : undefined,
    );
    await cb.onCheckpoint?.(step);
  };
  const validate = async () => {
    if (!inputs.valid) return;
    lastVal = { step, ...(await evaluateBlocks(model, acts, inputs.valid, T, s.evalBatches)) };
    await cb.onEval?.(lastVal);
  };

  while (step < s.steps) {
    if (s.maxMinutes > 0 && (performance.now() - started) / 60000 >= s.maxMinutes) {
      stoppedEarly = true;
      break;
    }
    const t0 = performance.now();
    model.zeroGrads();
    let lossSum = 0;
    let lossCount = 0;
    for (let micro = 0; micro < s.gradAccum; micro++) {
      fillBatch(trainBlocks, T, batches.next(), inputsBuf, targetsBuf);
      const scored = countScored(targetsBuf);
      model.setBatch(acts, inputsBuf, targetsBuf);
      if (objective) {
        await objective.microStep({
          inputs: inputsBuf,
          targets: targetsBuf,
          B,
          T,
          scored,
          micro,
          gradAccum: s.gradAccum,
          step,
          peek: (k) => peekInputs(trainBlocks, T, batches.peek(k)),
        });
        if (micro === s.gradAccum - 1) {
          const lr = learningRate(schedule, step);
          opt.update(lr);
          objective.afterUpdate(lr);
        }
        lossSum += await objective.microLoss();
        lossCount += 1;
      } else {
        model.step(acts, B, T, inputsBuf, true, 1 / (scored * s.gradAccum));
        if (micro === s.gradAccum - 1) opt.update(learningRate(schedule, step));
        lossSum += sum(await gpu.read(gpu.slice(acts.losses, 0, B * T)));
        lossCount += scored;
      }
      tokens += B * T;
    }
    const lr = learningRate(schedule, step);
    step++;
    const seconds = (performance.now() - t0) / 1000;
    const metrics: StepMetrics = {
      step,
      loss: lossSum / lossCount,
      lr,
      tokens_per_s: (B * T * s.gradAccum) / seconds,
      grad_norm: await opt.gradNorm(),
      elapsed_s: (performance.now() - started) / 1000,
    };
    if (objective) metrics.terms = await objective.stepMetrics(seconds);
    await cb.onStep?.(metrics);
    if (s.evalEvery > 0 && step % s.evalEvery === 0 && step < s.steps) await validate();
    if (s.saveEvery > 0 && step % s.saveEvery === 0 && step < s.steps) await checkpoint();
  }
  // validate() assigns lastVal inside a closure, which TypeScript's narrowing does not see.
  if ((lastVal as EvalMetrics | null)?.step !== step) await validate();
  await checkpoint();
  return {
    model,
    steps: step,
    tokens,
    seconds: (performance.now() - started) / 1000,
    lastVal,
    stoppedEarly,
  };
}

/**
 * Mean next-token loss over whole blocks (each block scores its T−1 predictions), using `acts` sized
 * for (B, T). At most `maxBatches` batches when positive.
 */
export async function evaluateBlocks(
  model: GPT2,
  acts: Activations,
  blocks: Uint32Array,
  T: number,
  maxBatches = 0,
): Promise<{ val_loss: number; val_ppl: number; val_tokens: number }> {
  const gpu = model.gpu;
  const n = blocks.length / T;
  const B = acts.B;
  let batches = Math.ceil(n / B);
  if (maxBatches > 0) batches = Math.min(batches, maxBatches);
  const inputs = new Uint32Array(B * T);
  const targets = new Int32Array(B * T);
  let total = 0;
  let count = 0;
  for (let i = 0; i < batches; i++) {
    const rows = Math.min(B, n - i * B);
    const idx = Uint32Array.from({ length: rows }, (_, r) => i * B + r);
    fillBatch(blocks, T, idx, inputs.subarray(0, rows * T), targets.subarray(0, rows * T));
    model.setBatch(acts, inputs.subarray(0, rows * T), targets.subarray(0, rows * T));
    model.step(acts, rows, T, inputs, false, 1);
    total += sum(await gpu.read(gpu.slice(acts.losses, 0, rows * T)));
    count += countScored(targets.subarray(0, rows * T));
  }
  const loss = total / count;
  return { val_loss: loss, val_ppl: Math.exp(loss), val_tokens: count };
}

/**
 * The sampler with a look-ahead queue: `peek(k)` draws batches early (for prefetching) without changing the
 * order `next()` hands them out in, and `state` is the position of the first batch not yet handed out, so
 * a checkpoint resumes exactly there.
 */
class Lookahead {
  #sampler: BatchSampler;
  #queue: { state: SamplerState; indices: Uint32Array }[] = [];

  constructor(sampler: BatchSampler) {
    this.#sampler = sampler;
  }

  next(): Uint32Array {
    return (this.#queue.shift() ?? this.#draw()).indices;
  }

  /** Block indices of the k-th batch after the last one `next()` returned (k ≥ 1). */
  peek(k: number): Uint32Array {
    if (!Number.isInteger(k) || k < 1) throw new Error(`peek(k) needs k ≥ 1, got ${k}`);
    while (this.#queue.length < k) this.#queue.push(this.#draw());
    return this.#queue[k - 1].indices;
  }

  get state(): SamplerState {
    return this.#queue[0]?.state ?? this.#sampler.state;
  }

  #draw(): { state: SamplerState; indices: Uint32Array } {
    const state = this.#sampler.state;
    return { state, indices: this.#sampler.next() };
  }
}

function peekInputs(blocks: Uint32Array, T: number, indices: Uint32Array): Uint32Array {
  const inputs = new Uint32Array(indices.length * T);
  fillBatch(blocks, T, indices, inputs, new Int32Array(indices.length * T));
  return inputs;
}

function countScored(targets: Int32Array): number {
  let n = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] >= 0) n++;
  return n;
}

function sum(xs: Float32Array): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
}
