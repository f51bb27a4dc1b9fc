/**
 * Reading a run's metrics.jsonl (written by lib/train/run.ts: `{"event": "step", "step", "loss", …}` per
 * optimizer step and `{"event": "eval", "step", "val_loss", …}` per validation) into loss curves, and the
 * per-arm statistics the report's tables and bars show. A distillation step's curve point is its causal-LM
 * term `loss_clm` (the cross-entropy validation measures), not its weighted objective.
 *
 * @module
 */
import type { ReportModel } from "./types.ts";

/** One point of a loss curve. */
export interface LossPoint {
  step: number;
  loss: number;
  kind: "train" | "validation";
}

/**
 * The training and validation losses of a metrics.jsonl text. Unparseable lines and non-finite losses are
 * skipped (a diverged run still plots); a step that appears twice (a resumed run) keeps its last value.
 */
export function parseMetrics(text: string): LossPoint[] {
  const train = new Map<number, number>();
  const valid = new Map<number, number>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(line);
    } catch {
      continue;
    }
    const step = j.step;
    if (typeof step !== "number") continue;
    if (j.event === "eval" && typeof j.val_loss === "number" && Number.isFinite(j.val_loss)) {
      valid.set(step, j.val_loss);
    } else if (j.event !== "eval") {
      // Distillation runs log their whole objective as "loss" and its causal-LM cross-entropy as
      // "loss_clm": the latter is what validation measures, so every arm shares one axis.
      const loss = typeof j.loss_clm === "number" ? j.loss_clm : j.loss;
      if (typeof loss === "number" && Number.isFinite(loss)) train.set(step, loss);
    }
  }
  const points: LossPoint[] = [];
  for (const [step, loss] of [...train].sort((a, b) => a[0] - b[0])) {
    points.push({ step, loss, kind: "train" });
  }
  for (const [step, loss] of [...valid].sort((a, b) => a[0] - b[0])) {
    points.push({ step, loss, kind: "validation" });
  }
  return points;
}

/** Reads and parses `path`; a missing file gives no points (the model then has no curve). */
export async function readMetrics(path: string): Promise<LossPoint[]> {
  try {
    return parseMetrics(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/** Statistics of one arm over its seeds. */
export interface ArmSummary {
  arm: string;
  label: string;
  group: string;
  seeds: number;
  params: number;
  /** Test perplexity: mean, sample standard deviation (0 for one seed), min and max over seeds. */
  pplMean: number;
  pplStd: number;
  pplMin: number;
  pplMax: number;
  /** Means over seeds. */
  trainTokensPerS: number;
  forwardTokensPerS: number;
  trainSeconds: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Groups models by arm, in first-appearance order. */
export function summarizeArms(models: readonly ReportModel[]): ArmSummary[] {
  const arms = new Map<string, ReportModel[]>();
  for (const m of models) arms.set(m.arm, [...(arms.get(m.arm) ?? []), m]);
  return [...arms.values()].map((ms) => {
    const ppl = ms.map((m) => m.testPpl);
    const mu = mean(ppl);
    const std = ppl.length > 1 ? Math.sqrt(ppl.reduce((a, p) => a + (p - mu) ** 2, 0) / (ppl.length - 1)) : 0;
    return {
      arm: ms[0].arm,
      label: ms[0].label,
      group: ms[0].group,
      seeds: ms.length,
      params: ms[0].params,
      pplMean: mu,
      pplStd: std,
      pplMin: Math.min(...ppl),
      pplMax: Math.max(...ppl),
      trainTokensPerS: mean(ms.map((m) => (m.trainSeconds > 0 ? m.trainTokens / m.trainSeconds : 0))),
      forwardTokensPerS: mean(ms.map((m) => m.forwardTokensPerS)),
      trainSeconds: mean(ms.map((m) => m.trainSeconds)),
    };
  });
}
