/**
 * Helpers for the distillation tests: tiny random GPT-2s (in memory and as model directories), batches
 * with shifted labels, and a student + objective ready for one micro-step.
 *
 * @module
 */
import { IGNORE_INDEX } from "../../lib/data/blocks.ts";
import type { Gpu } from "../../lib/gpu/runtime.ts";
import { type GPT2Config, validateConfig } from "../../lib/model/config.ts";
import { Activations, GPT2 } from "../../lib/model/gpt2.ts";
import { saveModelDir } from "../../lib/model/model_dir.ts";
import { initParams, type ParamLayout, paramLayout } from "../../lib/model/params.ts";
import { Rng } from "../../lib/rng.ts";
import type { MicroBatch, TrainSettings } from "../../lib/train/trainer.ts";

/** A random model. */
export interface TinyModel {
  config: GPT2Config;
  layout: ParamLayout;
  params: Float32Array;
}

/**
 * A random GPT-2 (vocabulary 67 by default, so Vp = 128 has padding) whose 1-D tensors are randomised too
 * and whose embeddings are scaled up, so that attention is not uniform and the logits are not flat.
 */
export function tinyModel(overrides: Partial<GPT2Config>, seed: number): TinyModel {
  const config = validateConfig({
    vocab_size: 67,
    n_positions: 16,
    n_embd: 16,
    n_layer: 2,
    n_head: 2,
    ...overrides,
  });
  const layout = paramLayout(config);
  const params = initParams(config, layout, seed);
  const rng = new Rng(seed + 1000);
  for (const t of layout.tensors) {
    if (t.shape.length === 1) {
      const base = /ln_\w+\.weight$/.test(t.name) ? 1 : 0;
      for (let i = 0; i < t.size; i++) params[t.offset + i] = base + 0.1 * (2 * rng.next() - 1);
    } else {
      const scale = t.name === "wte.weight" || t.name === "wpe.weight" ? 20 : 5;
      for (let i = 0; i < t.size; i++) params[t.offset + i] *= scale;
    }
  }
  return { config, layout, params };
}

/** Saves a model into a fresh temporary directory and returns its path. */
export async function saveTemp(m: TinyModel, prefix = "distill-test-"): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  await saveModelDir(dir, m.config, m.layout, m.params);
  return dir;
}

/** Random ids (B, T) and their shifted next-token targets (−100 at each sequence's end). */
export function randomBatch(
  B: number,
  T: number,
  V: number,
  seed: number,
): { ids: Uint32Array; targets: Int32Array } {
  const rng = new Rng(seed);
  const ids = Uint32Array.from({ length: B * T }, () => rng.int(V));
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) targets[b * T + t] = t === T - 1 ? IGNORE_INDEX : ids[b * T + t + 1];
  }
  return { ids, targets };
}

/** Training settings for objective tests (only AdamW's and the accumulation matter). */
export function testSettings(overrides: Partial<TrainSettings> = {}): TrainSettings {
  return {
    steps: 1,
    maxMinutes: 0,
    batch: 2,
    seq: 5,
    gradAccum: 1,
    lr: 1e-3,
    schedule: "constant",
    warmup: 0,
    weightDecay: 0,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    clip: 0,
    seed: 0,
    shuffle: false,
    evalEvery: 0,
    evalBatches: 0,
    saveEvery: 0,
    ...overrides,
  };
}

/** A student on the GPU with gradients and activations for (B, T). */
export function student(gpu: Gpu, m: TinyModel, B: number, T: number): { model: GPT2; acts: Activations } {
  const model = new GPT2(gpu, m.config, m.params, { training: true });
  return { model, acts: new Activations(gpu, m.config, B, T, true) };
}

/** A micro-batch record for `Objective.microStep` (peek returns the same ids: fine for a fixed batch). */
export function microBatch(
  ids: Uint32Array,
  targets: Int32Array,
  B: number,
  T: number,
  opts: { micro?: number; gradAccum?: number } = {},
): MicroBatch {
  let scored = 0;
  for (const t of targets) if (t >= 0) scored++;
  return {
    inputs: ids,
    targets,
    B,
    T,
    scored,
    micro: opts.micro ?? 0,
    gradAccum: opts.gradAccum ?? 1,
    step: 0,
    peek: () => ids,
  };
}
