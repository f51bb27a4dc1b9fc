/**
 * Helpers for the tests of training on condensed sets: small hand-made sets on disk (random ids, chosen
 * weights, a teacher's top-k logits, dm-style embeddings), a teacher that serves a set's stored top-k to
 * DistillObjective, and training settings.
 *
 * @module
 */
import { fillBatch } from "../../lib/data/blocks.ts";
import type { Gpu } from "../../lib/gpu/runtime.ts";
import { GPT2 } from "../../lib/model/gpt2.ts";
import type { CondensedSet } from "../../lib/condense/condensed_set.ts";
import { GpuLanguageModel } from "../../lib/condense/lm.ts";
import { type CondensedExample, writeCondensed } from "../../lib/condense/output.ts";
import type { Teacher, TeacherBatch } from "../../lib/onnx/teacher.ts";
import { Rng } from "../../lib/rng.ts";
import type { MicroBatch, TrainSettings } from "../../lib/train/trainer.ts";
import type { TinyGpt2 } from "./_helpers.ts";

/** What to put in a hand-made set. */
export interface SetSpec {
  count: number;
  T: number;
  V: number;
  weights: number[];
  /** A teacher whose top-`softK` logits are stored. */
  teacher?: TinyGpt2;
  softK?: number;
  /** Width of random input embeddings to store (dm-style). */
  embedC?: number;
  seed?: number;
}

/** Writes a condensed set with random ids into `dir`/set.jsonl (+ sidecar, + embeddings); returns the path. */
export async function writeSet(gpu: Gpu, dir: string, spec: SetSpec): Promise<string> {
  const { count, T, V } = spec;
  const rng = new Rng(spec.seed ?? 11);
  const ids = Uint32Array.from({ length: count * T }, () => rng.int(V));
  const examples: CondensedExample[] = [];
  for (let j = 0; j < count; j++) {
    examples.push({
      text: `example ${j}`,
      ids: ids.subarray(j * T, (j + 1) * T),
      source: j,
      weight: spec.weights[j],
    });
  }
  if (spec.teacher) {
    const t = spec.teacher;
    const lm = new GpuLanguageModel(
      new GPT2(gpu, t.config, t.params, { training: false }),
      "test teacher",
      4,
    );
    const k = spec.softK ?? 8;
    const top = await lm.topK(ids, count, T, k);
    examples.forEach((e, j) => {
      e.soft = {
        k,
        indices: top.indices.subarray(j * T * k, (j + 1) * T * k),
        logits: top.logits.subarray(j * T * k, (j + 1) * T * k),
      };
    });
  }
  let embeds: Float32Array | null = null;
  if (spec.embedC) {
    const C = spec.embedC;
    embeds = Float32Array.from({ length: count * T * C }, () => 0.5 * rng.normal());
    examples.forEach((e, j) =>
      e.embeds = { file: "set.jsonl.embeds.f32", offset: j * T * C * 4, shape: [T, C] }
    );
  }
  const path = `${dir}/set.jsonl`;
  await writeCondensed(path, examples, {
    format: "gpt2-condensed",
    version: 1,
    method: spec.embedC ? "dm" : "kmeans",
    vocab_size: V,
  }, embeds);
  return path;
}

/**
 * A DistillObjective teacher that answers every batch with the stored top-k rows of the set's examples,
 * found by their ids.
 */
export class StoredTeacher implements Teacher {
  readonly info;
  #set: CondensedSet;
  #byIds = new Map<string, number>();
  #batches = new Map<number, TeacherBatch>();
  #next = 0;

  constructor(set: CondensedSet, V: number) {
    this.#set = set;
    this.info = {
      path: "stored",
      graph: "decoder" as const,
      vocabSize: V,
      nPositions: null,
      hiddenStates: 0,
      nEmbd: null,
    };
    for (let j = 0; j < set.count; j++) {
      this.#byIds.set(set.ids.subarray(j * set.T, (j + 1) * set.T).join(","), j);
    }
  }

  run(): Promise<never> {
    throw new Error("StoredTeacher has top-k rows only");
  }

  prefetch(ids: Uint32Array, B: number, T: number): number {
    const soft = this.#set.soft!;
    const k = soft.k;
    const indices = new Uint32Array(B * T * k);
    const logits = new Float32Array(B * T * k);
    for (let b = 0; b < B; b++) {
      const j = this.#byIds.get(ids.subarray(b * T, (b + 1) * T).join(","));
      if (j === undefined) throw new Error("StoredTeacher: unknown sequence");
      indices.set(soft.indices.subarray(j * T * k, (j + 1) * T * k), b * T * k);
      logits.set(soft.logits.subarray(j * T * k, (j + 1) * T * k), b * T * k);
    }
    const ticket = this.#next++;
    this.#batches.set(ticket, { B, T, V: this.info.vocabSize, topK: { k, indices, logits } });
    return ticket;
  }

  get(ticket: number): Promise<TeacherBatch> {
    const b = this.#batches.get(ticket)!;
    this.#batches.delete(ticket);
    return Promise.resolve(b);
  }

  stats() {
    return { batches: 0, cacheHits: 0, waitMs: 0, teacherMs: 0 };
  }

  close(): void {}
}

/** Training settings with no schedule, decay or clipping surprises. */
export function settings(overrides: Partial<TrainSettings> = {}): TrainSettings {
  return {
    steps: 1,
    maxMinutes: 0,
    batch: 2,
    seq: 7,
    gradAccum: 1,
    lr: 1e-2,
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

/** The inputs and shifted targets of some of the set's examples. */
export function batchOf(set: CondensedSet, examples: number[]): { inputs: Uint32Array; targets: Int32Array } {
  const B = examples.length;
  const inputs = new Uint32Array(B * set.T);
  const targets = new Int32Array(B * set.T);
  fillBatch(set.ids, set.T, Uint32Array.from(examples), inputs, targets);
  return { inputs, targets };
}

/** A micro-batch record (step 0 unless given). */
export function micro(
  inputs: Uint32Array,
  targets: Int32Array,
  B: number,
  T: number,
  opts: { step?: number; micro?: number; gradAccum?: number } = {},
): MicroBatch {
  let scored = 0;
  for (const t of targets) if (t >= 0) scored++;
  return {
    inputs,
    targets,
    B,
    T,
    scored,
    micro: opts.micro ?? 0,
    gradAccum: opts.gradAccum ?? 1,
    step: opts.step ?? 0,
    peek: () => inputs,
  };
}
