/**
 * Learning-rate schedules with linear warmup, as Hugging Face's `get_{constant,linear,cosine}_schedule_with_warmup`.
 *
 * @module
 */

/** The schedule names accepted by `--schedule`. */
export const SCHEDULES = ["constant", "linear", "cosine"] as const;
export type ScheduleName = typeof SCHEDULES[number];

/** Learning-rate schedule settings. */
export interface Schedule {
  name: ScheduleName;
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warmup from 0 to `lr`. */
  warmup: number;
  /** Total optimizer steps (the decay reaches 0 here for linear and cosine). */
  total: number;
}

/**
 * Learning rate for optimizer step `step` (0-based: the first update uses step 0).
 *
 * @example
 * ```ts
 * learningRate({ name: "cosine", lr: 1e-3, warmup: 10, total: 100 }, 0); // 0 (warmup starts at 0)
 * ```
 */
export function learningRate(s: Schedule, step: number): number {
  if (step < s.warmup) return (s.lr * step) / Math.max(1, s.warmup);
  if (s.name === "constant") return s.lr;
  const progress = (step - s.warmup) / Math.max(1, s.total - s.warmup);
  if (s.name === "linear") return s.lr * Math.max(0, 1 - progress);
  return s.lr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
}
