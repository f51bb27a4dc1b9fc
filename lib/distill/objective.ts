/**
 * Knowledge distillation as a training objective (`Objective` of lib/train/trainer.ts): each micro-batch
 * runs the teacher, then the student's forward and backward passes with
 *
 *     loss = α_ce·ce + α_clm·clm + α_rkl·rkl + α_cos·cos + α_mse·mse + α_wd·W
 *
 * - ce: T²·KL(softmax(t/T) ‖ softmax(s/T)), mean over all B·T positions (HF distiller's "batchmean" over
 *   the attention mask, which includes each block's last position);
 * - clm: cross-entropy on the shifted labels, mean over scored targets (HF's lm_loss_fct);
 * - rkl: T²·KL(softmax(s/T) ‖ softmax(t/T)), mean over positions;
 * - cos: 1 − cos(hS, hT) mean over positions, on the last hidden states (HF distiller) or, with an
 *   explicit layer map, on every mapped pair (mean over pairs);
 * - mse: mean squared error per element between mapped hidden states, through a learned projection when
 *   the widths differ (mean over pairs);
 * - W: the Wasserstein-1 estimate mean f(hT) − mean f(hS) of one critic per mapped pair (mean over pairs);
 *   each optimizer step first trains the critics `nCritic` times on its first micro-batch (WGAN-GP or
 *   weight clipping, own AdamW with β = (0, 0.9)), then the student's gradient −α_wd·∇mean f(hS) flows.
 *
 * The logit terms are fused per output chunk (`distillLogits`, replacing the cross-entropy through
 * `StepHooks.outputLoss`); hidden-state terms add their gradients during backward (`StepHooks.hiddenGrad`).
 * The teacher is either a {@link WebGpuTeacher} (its forward pass is recorded on the same device, its
 * logits projected chunk by chunk: nothing crosses to the CPU) or any CPU `Teacher` (onnxruntime-node),
 * whose batches are prefetched `prefetch` micro-batches ahead; the time the loop waits for them is
 * measured and reported per step (`teacher_wait`, a fraction of the step's time).
 *
 * @module
 */
import type { Gpu, View } from "../gpu/runtime.ts";
import type { GPT2Config } from "../model/config.ts";
import type { StepHooks } from "../model/gpt2.ts";
import type { Teacher, TeacherBatch } from "../onnx/teacher.ts";
import { Critic } from "../ops/critic.ts";
import { distillLogits, type DistillTeacher } from "../ops/distill_logits.ts";
import { cosineLoss, mseLoss } from "../ops/hidden_losses.ts";
import type { ExtraState, MicroBatch, Objective, ObjectiveContext } from "../train/trainer.ts";
import type { HiddenPair } from "./layer_map.ts";
import { Projections } from "./projection.ts";
import { WebGpuTeacher } from "./webgpu_teacher.ts";

/** Loss weights and the settings of the trained auxiliaries. */
export interface DistillSettings {
  /** Softmax temperature T of the ce and rkl terms. */
  temperature: number;
  alphaCe: number;
  alphaClm: number;
  alphaCos: number;
  alphaMse: number;
  alphaWd: number;
  alphaRkl: number;
  /** Hidden-state pairs of the mse and wd terms. */
  pairs: HiddenPair[];
  /** Hidden-state pairs of the cos term (HF's distiller: the last hidden states). */
  cosPairs: HiddenPair[];
  /** Critic updates per optimizer step. */
  nCritic: number;
  /** The critics' AdamW learning rate. */
  criticLr: number;
  /** Hidden width H of each critic MLP. */
  criticHidden: number;
  /** WGAN-GP penalty weight λ (0 = no penalty). */
  gpLambda: number;
  /** WGAN weight clipping bound (0 = no clipping). */
  criticClip: number;
}

/** The loss weights of a distillation objective and the temperature of its KL terms. */
export type LossWeights = Pick<
  DistillSettings,
  "alphaCe" | "alphaClm" | "alphaCos" | "alphaMse" | "alphaWd" | "alphaRkl" | "temperature"
>;

/** HF distiller's DistilGPT2 loss: 5·ce at T=2 + 2·clm + 1·cos. */
export const DISTILGPT2_LOSS: Readonly<LossWeights> = {
  temperature: 2,
  alphaCe: 5,
  alphaClm: 2,
  alphaCos: 1,
  alphaMse: 0,
  alphaWd: 0,
  alphaRkl: 0,
};

/** What a teacher offers to the checks before training. */
export interface TeacherShape {
  /** Blocks L (hidden states 0 … L), or null when unknown (a teacher without hidden-state outputs). */
  layers: number | null;
  /** Hidden width C, or null when unknown. */
  width: number | null;
}

/** The critics' Adam betas (WGAN-GP's). Fixed: exact resumption relies on β1 = 0 (see `restoreCritic`). */
const CRITIC_BETA1 = 0;
const CRITIC_BETA2 = 0.9;

/** The hidden-state terms that are switched on. */
function hiddenTerms(s: DistillSettings): { cos: boolean; mse: boolean; wd: boolean } {
  return { cos: s.alphaCos > 0, mse: s.alphaMse > 0, wd: s.alphaWd > 0 };
}

/** Whether the settings need the teacher's hidden states. */
export function needsHidden(s: DistillSettings): boolean {
  const t = hiddenTerms(s);
  return t.cos || t.mse || t.wd;
}

/**
 * Checks the settings against the student and teacher before anything runs; throws a one-line Error for a
 * negative weight, a bad temperature, layer indices out of range, or cos/wd between different widths (only
 * mse has a projection).
 */
export function checkDistillSetup(s: DistillSettings, student: GPT2Config, teacher: TeacherShape): void {
  if (!(s.temperature > 0) || !Number.isFinite(s.temperature)) {
    throw new Error(`--temperature must be a positive number, got ${s.temperature}`);
  }
  const alphas = {
    ce: s.alphaCe,
    clm: s.alphaClm,
    cos: s.alphaCos,
    mse: s.alphaMse,
    wd: s.alphaWd,
    rkl: s.alphaRkl,
  };
  for (const [name, a] of Object.entries(alphas)) {
    if (!(a >= 0) || !Number.isFinite(a)) throw new Error(`--alpha-${name} must be ≥ 0, got ${a}`);
  }
  if (Object.values(alphas).every((a) => a === 0)) {
    throw new Error("every --alpha-* is 0: nothing to train on");
  }
  const terms = hiddenTerms(s);
  if (terms.wd) {
    if (s.gpLambda > 0 && s.criticClip > 0) {
      throw new Error("give either --gp-lambda (WGAN-GP) or --critic-clip (weight clipping), not both");
    }
    if (!(s.nCritic >= 1) || !Number.isInteger(s.nCritic)) {
      throw new Error(`--n-critic must be ≥ 1, got ${s.nCritic}`);
    }
  }
  const used: [string, HiddenPair[]][] = [];
  if (terms.cos) used.push(["cos", s.cosPairs]);
  if (terms.mse) used.push(["mse", s.pairs]);
  if (terms.wd) used.push(["wd", s.pairs]);
  for (const [term, pairs] of used) {
    if (pairs.length === 0) throw new Error(`--alpha-${term} needs at least one layer pair (--layer-map)`);
    for (const p of pairs) {
      if (p.student < 0 || p.student > student.n_layer) {
        throw new Error(`${term}: student hidden state ${p.student} does not exist (0 … ${student.n_layer})`);
      }
      if (teacher.layers !== null && (p.teacher < 0 || p.teacher > teacher.layers)) {
        throw new Error(`${term}: teacher hidden state ${p.teacher} does not exist (0 … ${teacher.layers})`);
      }
    }
    if (term !== "mse" && teacher.width !== null && teacher.width !== student.n_embd) {
      throw new Error(
        `--alpha-${term} needs equal widths (student n_embd ${student.n_embd}, teacher ${teacher.width}); ` +
          `use --alpha-mse, which learns a projection`,
      );
    }
  }
}

/** Per-step sums of the loss terms over micro-batches. */
interface Sums {
  micro: number;
  total: number;
  ce: number;
  clm: number;
  rkl: number;
  cos: number;
  mse: number;
  wd: number;
  waitMs: number;
}

const zeroSums = (): Sums => ({
  micro: 0,
  total: 0,
  ce: 0,
  clm: 0,
  rkl: 0,
  cos: 0,
  mse: 0,
  wd: 0,
  waitMs: 0,
});

/** GPU buffers that hold a CPU teacher's batch. */
interface Upload {
  /** (chunkRows, V) full logits or (chunkRows, k) top-k logits of one output chunk. */
  logits: View;
  /** (chunkRows, k) u32 top-k indices (top-k teachers only). */
  indices: View | null;
  /** Teacher hidden state index → (N, Ct). */
  hidden: Map<number, View>;
}

/** Knowledge distillation from a teacher; see the module doc. */
export class DistillObjective implements Objective {
  readonly teacher: Teacher;
  readonly settings: DistillSettings;
  /** Micro-batches a CPU teacher works ahead. */
  readonly prefetchDepth: number;
  #ctx: ObjectiveContext | null = null;
  #gpuTeacher: WebGpuTeacher | null;
  #upload: Upload | null = null;
  #tickets: number[] = [];
  #batch: TeacherBatch | null = null;
  /** (align64(N·3) + 64·slots): per-row [clm, ce, rkl], then one 64-float slot per hidden loss value. */
  #readout: View | null = null;
  #slot0 = 0;
  #mask: View | null = null;
  #projections: Projections | null = null;
  #critics: Critic[] = [];
  #scored = 0;
  #N = 0;
  #gradAccum = 1;
  #lastW = 0;
  #sums = zeroSums();
  #totalWaitMs = 0;
  #totalStepS = 0;

  /** @param prefetch micro-batches a CPU teacher computes ahead (default 2). */
  constructor(teacher: Teacher, settings: DistillSettings, options: { prefetch?: number } = {}) {
    this.teacher = teacher;
    this.settings = settings;
    this.prefetchDepth = options.prefetch ?? 2;
    this.#gpuTeacher = teacher instanceof WebGpuTeacher ? teacher : null;
  }

  /** Teacher wait over the whole run: milliseconds and the fraction of step time. */
  get teacherWait(): { ms: number; fraction: number } {
    return {
      ms: this.#totalWaitMs,
      fraction: this.#totalStepS > 0 ? this.#totalWaitMs / 1000 / this.#totalStepS : 0,
    };
  }

  start(ctx: ObjectiveContext, saved: ExtraState | null): Promise<void> {
    this.#ctx = ctx;
    const { gpu, model, acts } = ctx;
    const s = this.settings;
    const cfg = model.config;
    const N = acts.B * acts.T;
    const C = cfg.n_embd;
    const terms = hiddenTerms(s);
    const gpuTeacher = this.#gpuTeacher;
    const teacherWidth = gpuTeacher ? gpuTeacher.config.n_embd : this.teacher.info.nEmbd;
    const onnxLayers = this.teacher.info.hiddenStates > 0 ? this.teacher.info.hiddenStates - 1 : null;
    checkDistillSetup(s, cfg, {
      layers: gpuTeacher ? gpuTeacher.config.n_layer : onnxLayers,
      width: teacherWidth,
    });
    const slots = (terms.cos ? s.cosPairs.length : 0) + (terms.mse ? s.pairs.length : 0);
    this.#slot0 = Math.ceil((N * 3) / 64) * 64;
    this.#readout = gpu.tensor(this.#slot0 + 64 * slots, "distill losses");
    this.#mask = gpu.tensor(N, "distill mask");
    gpu.write(this.#mask, new Uint32Array(N).fill(1));
    if (gpuTeacher) {
      gpuTeacher.reserve(acts.B, acts.T);
    } else {
      // Full logits; replaced by top-k buffers when the first batch turns out to be top-k.
      const logits = gpu.tensor(acts.chunkRows * cfg.vocab_size, "teacher logits chunk");
      this.#upload = { logits, indices: null, hidden: new Map() };
    }
    const Ct = teacherWidth ?? C;
    if (terms.mse && Ct !== C) {
      this.#projections = new Projections(gpu, s.pairs.length, C, Ct, N, ctx.seed * 7919 + 1);
    }
    if (terms.wd) {
      this.#critics = s.pairs.map((_, j) => new Critic(gpu, C, s.criticHidden, ctx.seed * 7919 + 101 + j));
    }
    if (saved) this.#restore(saved);
    return Promise.resolve();
  }

  async microStep(batch: MicroBatch): Promise<void> {
    const { model, acts } = this.#ctx!;
    const { B, T } = batch;
    const N = B * T;
    this.#N = N;
    this.#scored = batch.scored;
    this.#gradAccum = batch.gradAccum;
    if (this.#gpuTeacher) this.#gpuTeacher.forward(batch.inputs, B, T);
    else await this.#receive(batch);
    if (batch.micro === 0) this.#projections?.zeroGrads();
    const hooks: StepHooks = {
      outputLoss: (logits, r0, rows) => this.#outputLoss(logits, r0, rows),
      hiddenGrad: (i, grad) => this.#hiddenGrad(i, grad, batch.micro === 0),
    };
    model.step(acts, B, T, batch.inputs, true, 1, hooks);
  }

  async microLoss(): Promise<number> {
    const { gpu } = this.#ctx!;
    const s = this.settings;
    const terms = hiddenTerms(s);
    const N = this.#N;
    const data = await gpu.read(this.#readout!);
    let clm = 0, ce = 0, rkl = 0;
    for (let n = 0; n < N; n++) {
      clm += data[3 * n];
      ce += data[3 * n + 1];
      rkl += data[3 * n + 2];
    }
    clm = this.#scored > 0 ? clm / this.#scored : 0;
    ce /= N;
    rkl /= N;
    let slot = 0;
    const meanOf = (count: number) => {
      let sum = 0;
      for (let j = 0; j < count; j++) sum += data[this.#slot0 + 64 * slot++];
      return sum / count;
    };
    const cos = terms.cos ? meanOf(s.cosPairs.length) : 0;
    const mse = terms.mse ? meanOf(s.pairs.length) : 0;
    if (terms.wd && this.#sums.micro === 0) {
      // The critics were trained (and W recorded) on this step's first micro-batch.
      let w = 0;
      for (const critic of this.#critics) w += await critic.estimate();
      this.#lastW = w / this.#critics.length;
    }
    const wd = terms.wd ? this.#lastW : 0;
    const total = s.alphaCe * ce + s.alphaClm * clm + s.alphaRkl * rkl + s.alphaCos * cos + s.alphaMse * mse +
      s.alphaWd * wd;
    const sums = this.#sums;
    sums.micro++;
    sums.total += total;
    sums.ce += ce;
    sums.clm += clm;
    sums.rkl += rkl;
    sums.cos += cos;
    sums.mse += mse;
    sums.wd += wd;
    return total;
  }

  afterUpdate(lr: number): void {
    const s = this.#ctx!.settings;
    this.#projections?.update(lr, {
      beta1: s.beta1,
      beta2: s.beta2,
      eps: s.eps,
      weightDecay: s.weightDecay,
      clip: s.clip,
    });
  }

  stepMetrics(stepSeconds: number): Promise<Record<string, number>> {
    const sums = this.#sums;
    const n = Math.max(sums.micro, 1);
    const terms = hiddenTerms(this.settings);
    const out: Record<string, number> = {
      loss_ce: sums.ce / n,
      loss_clm: sums.clm / n,
      loss_rkl: sums.rkl / n,
    };
    if (terms.cos) out.loss_cos = sums.cos / n;
    if (terms.mse) out.loss_mse = sums.mse / n;
    if (terms.wd) out.loss_wd = sums.wd / n;
    out.teacher_wait = stepSeconds > 0 ? sums.waitMs / 1000 / stepSeconds : 0;
    out.teacher_wait_ms = sums.waitMs;
    this.#totalWaitMs += sums.waitMs;
    this.#totalStepS += stepSeconds;
    this.#sums = zeroSums();
    return Promise.resolve(out);
  }

  async saveState(): Promise<ExtraState> {
    const { gpu } = this.#ctx!;
    const tensors: ExtraState["tensors"] = [];
    const state: Record<string, unknown> = {};
    const p = this.#projections;
    if (p) {
      tensors.push(
        { name: "projection.params", data: await gpu.read(p.params) },
        { name: "projection.m", data: await gpu.read(p.m) },
        { name: "projection.v", data: await gpu.read(p.v) },
      );
      state.projectionStep = p.step;
    }
    const critics = [];
    for (const [j, c] of this.#critics.entries()) {
      tensors.push(
        { name: `critic.${j}.params`, data: await gpu.read(c.params) },
        { name: `critic.${j}.m`, data: await gpu.read(c.m) },
        { name: `critic.${j}.v`, data: await gpu.read(c.v) },
      );
      critics.push({ step: c.step, rng: c.rngState });
    }
    state.critics = critics;
    return { tensors, state };
  }

  /** Uploads what the CPU teacher computed for this micro-batch, keeping `prefetchDepth` batches queued. */
  async #receive(batch: MicroBatch): Promise<void> {
    const { gpu } = this.#ctx!;
    const { B, T } = batch;
    if (this.#tickets.length === 0) this.#tickets.push(this.teacher.prefetch(batch.inputs, B, T));
    while (this.#tickets.length < 1 + this.prefetchDepth) {
      this.#tickets.push(this.teacher.prefetch(batch.peek(this.#tickets.length), B, T));
    }
    const ticket = this.#tickets.shift()!;
    const t0 = performance.now();
    const got = await this.teacher.get(ticket);
    this.#sums.waitMs += performance.now() - t0;
    const V = this.#ctx!.model.config.vocab_size;
    if (got.B !== B || got.T !== T || got.V !== V) {
      throw new Error(`teacher returned a ${got.B}×${got.T}×${got.V} batch for ${B}×${T}×${V}`);
    }
    this.#batch = got;
    const up = this.#upload!;
    if (got.topK && !up.indices) {
      const rows = this.#ctx!.acts.chunkRows;
      up.logits = gpu.tensor(rows * got.topK.k, "teacher top-k logits chunk");
      up.indices = gpu.tensor(rows * got.topK.k, "teacher top-k indices chunk");
    }
    const s = this.settings;
    const terms = hiddenTerms(s);
    const wanted = new Set<number>([
      ...(terms.cos ? s.cosPairs : []).map((p) => p.teacher),
      ...(terms.mse || terms.wd ? s.pairs : []).map((p) => p.teacher),
    ]);
    for (const i of wanted) {
      const h = got.hidden?.[i];
      if (!h) throw new Error(`the teacher returned no hidden state ${i}`);
      let view = up.hidden.get(i);
      if (!view) up.hidden.set(i, view = gpu.tensor(h.length, `teacher hidden ${i}`));
      if (view.size !== h.length * 4) throw new Error(`teacher hidden state ${i} changed size`);
      gpu.write(view, h);
    }
  }

  /** The teacher's logits of output rows [r0, r0 + rows), on the GPU. */
  #teacherChunk(r0: number, rows: number): DistillTeacher {
    if (this.#gpuTeacher) {
      return { kind: "full", logits: this.#gpuTeacher.logitsChunk(r0, rows), stride: this.#gpuTeacher.Vp };
    }
    const { gpu, model } = this.#ctx!;
    const V = model.config.vocab_size;
    const up = this.#upload!;
    const b = this.#batch!;
    if (b.topK) {
      const { k } = b.topK;
      gpu.write(up.logits, b.topK.logits.subarray(r0 * k, (r0 + rows) * k));
      gpu.write(up.indices!, b.topK.indices.subarray(r0 * k, (r0 + rows) * k));
      return { kind: "topk", logits: up.logits, indices: up.indices!, k };
    }
    gpu.write(up.logits, b.logits!.subarray(r0 * V, (r0 + rows) * V));
    return { kind: "full", logits: up.logits, stride: V };
  }

  #outputLoss(logits: View, r0: number, rows: number): void {
    const { gpu, model, acts } = this.#ctx!;
    const s = this.settings;
    const N = this.#N;
    const V = model.config.vocab_size;
    // One gradient scale for all terms: 1/(N·accum) is ce's and rkl's mean; clm's is over scored targets.
    const clmScale = this.#scored > 0 ? N / this.#scored : 0;
    distillLogits(
      gpu,
      gpu.slice(this.#readout!, r0 * 3, rows * 3),
      logits,
      gpu.slice(acts.targets, r0, rows),
      null,
      this.#teacherChunk(r0, rows),
      rows,
      V,
      model.Vp,
      {
        temperature: s.temperature,
        alphaClm: s.alphaClm * clmScale,
        alphaCe: s.alphaCe,
        alphaRkl: s.alphaRkl,
        gradScale: 1 / (N * this.#gradAccum),
      },
    );
  }

  /** Adds the hidden-state terms' gradients for student hidden state i into `grad` (N, C). */
  #hiddenGrad(i: number, grad: View, firstMicro: boolean): void {
    const { gpu, model, acts } = this.#ctx!;
    const s = this.settings;
    const terms = hiddenTerms(s);
    const N = this.#N;
    const C = model.config.n_embd;
    const hS = gpu.slice(model.hiddenState(acts, i), 0, N * C);
    const mask = this.#mask!;
    const gradScale = 1 / this.#gradAccum;
    let slot = 0;
    const slotView = () => gpu.slice(this.#readout!, this.#slot0 + 64 * slot++, 1);
    if (terms.cos) {
      for (const p of s.cosPairs) {
        const loss = slotView();
        if (p.student !== i) continue;
        cosineLoss(gpu, {
          loss,
          dhS: grad,
          hS,
          hT: this.#teacherHidden(p.teacher),
          mask,
          N,
          C,
          weight: s.alphaCos / s.cosPairs.length,
          gradScale,
          accumulate: true,
        });
      }
    }
    if (terms.mse) {
      s.pairs.forEach((p, j) => {
        const loss = slotView();
        if (p.student !== i) return;
        const hT = this.#teacherHidden(p.teacher);
        const Ct = hT.size / 4 / N;
        mseLoss(gpu, {
          loss,
          dhS: grad,
          hS,
          hT,
          mask,
          N,
          Cs: C,
          Ct,
          weight: s.alphaMse / s.pairs.length,
          gradScale,
          accumulate: true,
          projection: this.#projections?.projection(j) ?? null,
        });
      });
    }
    if (terms.wd) {
      s.pairs.forEach((p, j) => {
        if (p.student !== i) return;
        const critic = this.#critics[j];
        const hT = this.#teacherHidden(p.teacher);
        if (firstMicro) {
          for (let k = 0; k < s.nCritic; k++) {
            critic.criticStep(hT, hS, mask, N, {
              lr: s.criticLr,
              lambdaGp: s.gpLambda,
              clip: s.criticClip > 0 ? s.criticClip : undefined,
              beta1: CRITIC_BETA1,
              beta2: CRITIC_BETA2,
            });
          }
          critic.forward(hT, hS, mask, N); // W under the updated critic, for the metrics
        }
        critic.studentGrad(grad, hS, mask, N, s.alphaWd / s.pairs.length / this.#gradAccum);
      });
    }
  }

  #teacherHidden(i: number): View {
    if (this.#gpuTeacher) return this.#gpuTeacher.hidden(i);
    const view = this.#upload!.hidden.get(i);
    if (!view) throw new Error(`teacher hidden state ${i} was not uploaded`);
    return view;
  }

  #restore(saved: ExtraState): void {
    const { gpu } = this.#ctx!;
    const tensor = (name: string, floats: number): Float32Array => {
      const t = saved.tensors.find((x) => x.name === name);
      if (!t) throw new Error(`cannot resume: the checkpoint has no ${name}`);
      if (t.data.length !== floats) {
        throw new Error(`cannot resume: ${name} holds ${t.data.length} floats, the run needs ${floats}`);
      }
      return t.data;
    };
    const p = this.#projections;
    if (p) {
      gpu.write(p.params, tensor("projection.params", p.total));
      gpu.write(p.m, tensor("projection.m", p.total));
      gpu.write(p.v, tensor("projection.v", p.total));
      p.step = Number(saved.state.projectionStep ?? 0);
    }
    const critics = (saved.state.critics ?? []) as { step: number; rng: number[] }[];
    if (critics.length !== this.#critics.length) {
      throw new Error(
        `cannot resume: the checkpoint has ${critics.length} critics, the run ${this.#critics.length}`,
      );
    }
    this.#critics.forEach((c, j) => {
      restoreCritic(gpu, c, critics[j].step, {
        params: tensor(`critic.${j}.params`, c.size),
        m: tensor(`critic.${j}.m`, c.size),
        v: tensor(`critic.${j}.v`, c.size),
      });
      c.rngState = critics[j].rng;
    });
  }
}

/**
 * The smallest step count from which AdamW's bias corrections, as float32 uniforms, no longer change with
 * β1 = 0 and β2 = `beta2`: stepSize = lr/(1 − 0^t) = lr for every t ≥ 1 and 1/√(1 − β2^t) rounds to 1.
 */
function settledStep(beta2: number): number {
  let t = 1;
  while (Math.fround(1 / Math.sqrt(1 - Math.pow(beta2, t))) !== 1) t++;
  return t;
}

/**
 * Restores a critic to a checkpointed state. `Critic` exposes its step counter (used in AdamW's bias
 * corrections) read-only, so it is advanced with zero-learning-rate steps on a one-row dummy batch — at
 * most `settledStep(β2)` of them (≈ 160), after which the corrections are bit-identical to the saved
 * step's — and the parameters and moments are then overwritten with the saved ones.
 */
function restoreCritic(
  gpu: Gpu,
  critic: Critic,
  step: number,
  saved: { params: Float32Array; m: Float32Array; v: Float32Array },
): void {
  const target = Math.min(step, settledStep(CRITIC_BETA2));
  if (critic.step < target) {
    const row = gpu.tensor(critic.C, "critic restore row");
    const mask = gpu.tensor(1, "critic restore mask");
    gpu.write(mask, new Uint32Array([1]));
    while (critic.step < target) {
      critic.criticStep(row, row, mask, 1, { lr: 0, beta1: CRITIC_BETA1, beta2: CRITIC_BETA2 });
    }
  }
  gpu.write(critic.params, saved.params);
  gpu.write(critic.m, saved.m);
  gpu.write(critic.v, saved.v);
}
