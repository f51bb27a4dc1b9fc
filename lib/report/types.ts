/**
 * What a report is made of: the models (one row each, several seeds of an arm share its `arm`), sample
 * generations, hidden-state projection points and the stage timings. The demo writes this as
 * OUT/results.json; the report renders it together with each run's metrics.jsonl.
 *
 * @module
 */
import type { ProjectionPoint } from "./projection.ts";

export type { ProjectionPoint } from "./projection.ts";

/** One trained and evaluated model. */
export interface ReportModel {
  /** Unique id, e.g. "student-kd-s1". */
  id: string;
  /** The experiment arm it belongs to; seeds of one arm are averaged, e.g. "student-kd". */
  arm: string;
  /** Human name of the arm, e.g. "KD (ce+clm+cos)". */
  label: string;
  /** Section of the tables and loss plots, e.g. "teacher", "students", "condensed". */
  group: string;
  seed: number;
  /** Parameters (tied head counted once). */
  params: number;
  /** Optimizer steps and training tokens. */
  steps: number;
  trainTokens: number;
  /** Wall time of training. */
  trainSeconds: number;
  /** Test set: mean NLL per token, perplexity, scored tokens. */
  testNll: number;
  testPpl: number;
  testTokens: number;
  /** Forward tokens/s during evaluation. */
  forwardTokensPerS: number;
  /** The run's metrics.jsonl, relative to the report's folder (absent: no loss curve). */
  metrics?: string;
}

/** A sampled continuation. */
export interface ReportSample {
  /** The model's id. */
  model: string;
  prompt: string;
  /** Prompt and continuation. */
  text: string;
}

/** How long one stage took. */
export interface ReportStage {
  name: string;
  seconds: number;
  /** Finished by an earlier run (its original time is `seconds`). */
  skipped: boolean;
}

/** Everything a report shows besides the metrics files. */
export interface ReportInput {
  title: string;
  /** Context paragraphs: data, hardware, what was run. Plain text. */
  notes: string[];
  models: ReportModel[];
  samples: ReportSample[];
  projection: ProjectionPoint[];
  stages: ReportStage[];
  /** Wall time of the run that wrote the report (seconds). */
  totalSeconds: number;
  /** The settings, shown as a table. */
  settings: Record<string, unknown>;
}
