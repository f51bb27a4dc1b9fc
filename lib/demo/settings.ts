/**
 * The demo's settings: the sizes of every stage, chosen so that the whole pipeline (teacher → ONNX →
 * four students → three condensed sets → training on each → evaluation → report) runs in under ten
 * minutes on a 2-core CPU with lavapipe, where the 50257-wide output projection limits training to
 * ~100–200 tokens/s for the `tiny` preset.
 *
 * Settings come from {@link DEMO_DEFAULTS}, then an optional JSON file (`--config FILE`), then flags
 * (lib/cli/config.ts). The settings that change results are recorded in OUT/demo.json; a rerun with the
 * same settings resumes, one with other settings is refused (see {@link resultSettings}).
 *
 * @module
 */

/** Every setting of a demo run. */
export interface DemoSettings {
  /** 'embedded', a WikiText folder (wiki.{train,valid,test}.{raw,tokens} or {train,valid,test}.txt) or a file. */
  data: string;
  /** Output folder: stage results, run folders, report.md and report.html. */
  out: string;
  /** T: tokens per training block, evaluation window and hidden-state sequence. */
  seq: number;
  /** B: sequences per micro-batch. */
  batch: number;
  /** Teacher (`tiny` preset, from scratch): optimizer steps and peak learning rate. */
  teacherSteps: number;
  teacherLr: number;
  /** Each student (half the teacher's blocks, copied from it): steps and learning rate. */
  studentSteps: number;
  studentLr: number;
  /** Each model trained from scratch on a condensed set: steps and learning rate. */
  condensedSteps: number;
  condensedLr: number;
  /** Examples per condensed set. */
  k: number;
  /** Seeds per student and condensed arm (the spread in the perplexity plot). */
  seeds: number;
  /** Test tokens scored per model (the first N of the test split). */
  evalTokens: number;
  /** Validate every N steps during training (curves in the report). */
  evalEvery: number;
  /** Validation batches per evaluation during training. */
  evalBatches: number;
  /** The prompt of the sample generations. */
  prompt: string;
  /** New tokens per sample. */
  sampleTokens: number;
  /** Test positions whose hidden states are projected (teacher vs the MSE and Wasserstein students). */
  projectionTokens: number;
  /** onnxruntime-node threads for the teacher (1 leaves the other core to lavapipe). */
  teacherThreads: number;
}

/** The defaults: sized for the ten-minute budget on a 2-core CPU (see the module doc). */
export const DEMO_DEFAULTS: DemoSettings = {
  data: "embedded",
  out: "runs/demo",
  seq: 32,
  batch: 4,
  teacherSteps: 40,
  teacherLr: 3e-3,
  studentSteps: 10,
  studentLr: 1e-3,
  condensedSteps: 10,
  condensedLr: 3e-3,
  k: 120,
  seeds: 2,
  evalTokens: 2048,
  evalEvery: 5,
  evalBatches: 2,
  prompt: "The river",
  sampleTokens: 20,
  projectionTokens: 128,
  teacherThreads: 1,
};

/** The settings that determine results (everything but where the output goes). */
export function resultSettings(s: DemoSettings): Omit<DemoSettings, "out"> {
  const { out: _out, ...rest } = s;
  return rest;
}

/** Checks values that the flag specs cannot (relations between settings); throws a one-line Error. */
export function checkDemoSettings(s: DemoSettings): void {
  if (s.evalTokens < s.seq + 1) {
    throw new Error(`--eval-tokens ${s.evalTokens} must be at least --seq + 1 = ${s.seq + 1}`);
  }
  if (s.projectionTokens < s.seq) {
    throw new Error(`--projection-tokens ${s.projectionTokens} must be at least --seq ${s.seq}`);
  }
  if (s.prompt.trim() === "") throw new Error("--prompt must not be empty");
}
