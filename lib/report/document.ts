/**
 * The report as a list of blocks (headings, paragraphs, tables, figures, samples), built once and then
 * rendered to Markdown (markdown.ts) and to HTML (html.ts), so the two always say the same thing.
 *
 * @module
 */
import type { ArmSummary } from "./metrics.ts";
import type { ReportInput, ReportModel, ReportSample, ReportStage } from "./types.ts";

/** A table of preformatted cells. */
export interface Table {
  header: string[];
  /** Per column: numbers are right-aligned. */
  align: ("left" | "right")[];
  rows: string[][];
}

/** A figure: an SVG written to plots/<file> for Markdown and inlined in HTML. */
export interface Figure {
  /** File name under plots/, e.g. "perplexity.svg". */
  file: string;
  svg: string;
  caption: string;
}

/** One block of the report. */
export type Block =
  | { kind: "heading"; level: 1 | 2 | 3; text: string }
  | { kind: "paragraph"; text: string }
  | { kind: "table"; table: Table }
  | { kind: "figure"; figure: Figure }
  | { kind: "samples"; samples: ReportSample[] };

/** "1.23M", "456k", "789". */
export function formatParams(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}k`;
  return String(n);
}

/** A perplexity with enough digits to compare arms: 3 significant digits below 100, else 0.1. */
export function formatPpl(x: number): string {
  if (!Number.isFinite(x)) return "n/a";
  return x < 100 ? x.toFixed(2) : x.toFixed(1);
}

/** Per-arm summary: perplexity mean ± std with the seed range, sizes and speeds. */
export function armTable(arms: readonly ArmSummary[]): Table {
  return {
    header: [
      "arm",
      "group",
      "seeds",
      "parameters",
      "test ppl (mean ± std)",
      "min – max",
      "train tok/s",
      "forward tok/s",
      "train time (s)",
    ],
    align: ["left", "left", "right", "right", "right", "right", "right", "right", "right"],
    rows: arms.map((a) => [
      a.label,
      a.group,
      String(a.seeds),
      formatParams(a.params),
      a.seeds > 1 ? `${formatPpl(a.pplMean)} ± ${formatPpl(a.pplStd)}` : formatPpl(a.pplMean),
      a.seeds > 1 ? `${formatPpl(a.pplMin)} – ${formatPpl(a.pplMax)}` : "",
      a.trainTokensPerS.toFixed(0),
      a.forwardTokensPerS.toFixed(0),
      a.trainSeconds.toFixed(1),
    ]),
  };
}

/** Every model on its own row. */
export function modelTable(models: readonly ReportModel[]): Table {
  return {
    header: [
      "model",
      "seed",
      "parameters",
      "steps",
      "train tokens",
      "train tok/s",
      "forward tok/s",
      "train time (s)",
      "test nll",
      "test ppl",
      "scored tokens",
    ],
    align: ["left", "right", "right", "right", "right", "right", "right", "right", "right", "right", "right"],
    rows: models.map((m) => [
      m.id,
      String(m.seed),
      formatParams(m.params),
      String(m.steps),
      String(m.trainTokens),
      (m.trainSeconds > 0 ? m.trainTokens / m.trainSeconds : 0).toFixed(0),
      m.forwardTokensPerS.toFixed(0),
      m.trainSeconds.toFixed(1),
      m.testNll.toFixed(4),
      formatPpl(m.testPpl),
      String(m.testTokens),
    ]),
  };
}

/** Stage timings, with the total. */
export function stageTable(stages: readonly ReportStage[], totalSeconds: number): Table {
  return {
    header: ["stage", "time (s)", "in this run"],
    align: ["left", "right", "left"],
    rows: [
      ...stages.map((s) => [s.name, s.seconds.toFixed(1), s.skipped ? "skipped (done earlier)" : "ran"]),
      ["total wall time of this run", totalSeconds.toFixed(1), ""],
    ],
  };
}

/** The settings, one per row. */
export function settingsTable(settings: Record<string, unknown>): Table {
  return {
    header: ["setting", "value"],
    align: ["left", "left"],
    rows: Object.entries(settings).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  };
}

/** Plots the report shows, already rendered. */
export interface RenderedFigures {
  perplexity: Figure;
  /** One loss plot per group, in group order. */
  losses: Figure[];
  /** Absent when there are no projection points. */
  projection?: Figure;
}

/** The whole report in order. */
export function buildDocument(
  input: ReportInput,
  arms: readonly ArmSummary[],
  figures: RenderedFigures,
): Block[] {
  const blocks: Block[] = [{ kind: "heading", level: 1, text: input.title }];
  for (const note of input.notes) blocks.push({ kind: "paragraph", text: note });
  blocks.push(
    { kind: "heading", level: 2, text: "Results by arm" },
    { kind: "table", table: armTable(arms) },
    { kind: "figure", figure: figures.perplexity },
    { kind: "heading", level: 2, text: "Loss curves" },
    {
      kind: "paragraph",
      text:
        "Training loss per optimizer step (solid) and validation loss (dashed), from each run's metrics.jsonl.",
    },
  );
  for (const f of figures.losses) blocks.push({ kind: "figure", figure: f });
  if (figures.projection) {
    blocks.push(
      { kind: "heading", level: 2, text: "Hidden states" },
      { kind: "figure", figure: figures.projection },
    );
  }
  blocks.push(
    { kind: "heading", level: 2, text: "Samples" },
    { kind: "samples", samples: input.samples },
    { kind: "heading", level: 2, text: "Every model" },
    { kind: "table", table: modelTable(input.models) },
    { kind: "heading", level: 2, text: "Time per stage" },
    { kind: "table", table: stageTable(input.stages, input.totalSeconds) },
    { kind: "heading", level: 2, text: "Settings" },
    { kind: "table", table: settingsTable(input.settings) },
  );
  return blocks;
}
