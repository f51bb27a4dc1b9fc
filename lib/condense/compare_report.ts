/**
 * The report of a condensation comparison (compare.ts): per-group statistics, the Markdown table, and the
 * perplexity bar chart with standard-deviation error bars, rendered to SVG by Vega-Lite + Vega (npm
 * `vega-lite` compiles the chart, `vega` renders it headless with `View.toSVG()`: no canvas, no browser).
 *
 * @module
 */
import { renderSvg } from "../report/charts.ts";

/** The measured outcome of one arm (one training run). */
export interface ArmResult {
  /** Unique name, e.g. "kmeans-tfidf", "random-s1", "dm-soft". */
  name: string;
  /** The arm without its seed, e.g. "random" for "random-s1"; runs of one group are averaged. */
  group: string;
  /** "full" or the condensation method. */
  method: string;
  /** kmeans: the block embedding. */
  embed: string | null;
  seed: number;
  soft_targets: boolean;
  sample_weights: boolean;
  /** The condensed file trained on (null for full data). */
  condensed_file: string | null;
  /** Distinct training examples (blocks) of the arm. */
  examples: number;
  steps: number;
  /** Tokens the optimizer saw: steps × batch × seq. */
  train_tokens_seen: number;
  /** Loss of the last step (the objective's: weighted, or distillation). */
  final_train_loss: number;
  test_nll: number;
  test_ppl: number;
  test_tokens: number;
  train_seconds: number;
  eval_seconds: number;
}

/** Mean and spread of the runs of one group. */
export interface GroupSummary {
  group: string;
  /** Human-readable description of the group's training set. */
  label: string;
  runs: number;
  examples: number;
  ppl_mean: number;
  /** Sample standard deviation (n − 1) of the runs' perplexities; null for a single run. */
  ppl_sd: number | null;
  nll_mean: number;
  final_train_loss_mean: number;
}

/** Describes a group for the table and the plot. */
export function groupLabel(r: ArmResult): string {
  const base = r.method === "full"
    ? "full data"
    : r.method === "kmeans"
    ? `k-means (${r.embed})`
    : r.method === "dm"
    ? "distribution matching"
    : r.method;
  return r.soft_targets ? `${base} + soft targets` : base;
}

/** Groups the arms (in first-seen order) with their mean and sample standard deviation. */
export function summarize(arms: ArmResult[]): GroupSummary[] {
  const groups = new Map<string, ArmResult[]>();
  for (const a of arms) groups.set(a.group, [...(groups.get(a.group) ?? []), a]);
  return [...groups.entries()].map(([group, rs]) => {
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const ppl = rs.map((r) => r.test_ppl);
    const m = mean(ppl);
    const sd = rs.length > 1 ? Math.sqrt(ppl.reduce((s, x) => s + (x - m) ** 2, 0) / (rs.length - 1)) : null;
    return {
      group,
      label: groupLabel(rs[0]),
      runs: rs.length,
      examples: rs[0].examples,
      ppl_mean: m,
      ppl_sd: sd,
      nll_mean: mean(rs.map((r) => r.test_nll)),
      final_train_loss_mean: mean(rs.map((r) => r.final_train_loss)),
    };
  });
}

/** Lines above the table: what was trained on, what was evaluated, the budget. */
export interface ReportHeader {
  title: string;
  lines: string[];
}

/** The Markdown report: header lines, then one row per group. */
export function markdownReport(header: ReportHeader, groups: GroupSummary[]): string {
  const rows = [
    "| arm | training examples | runs | test ppl (mean ± sd) | test nll | last train loss |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...groups.map((g) =>
      `| ${g.label} | ${g.examples} | ${g.runs} | ${g.ppl_mean.toFixed(2)}${
        g.ppl_sd === null ? "" : ` ± ${g.ppl_sd.toFixed(2)}`
      } | ${g.nll_mean.toFixed(4)} | ${g.final_train_loss_mean.toFixed(4)} |`
    ),
  ];
  return [`# ${header.title}`, "", ...header.lines.map((l) => `- ${l}`), "", ...rows, ""].join("\n");
}

/**
 * The bar chart of test perplexity per group (mean over runs), with mean ± sd error bars where a group
 * has several runs, as an SVG document.
 */
export async function perplexitySvg(
  title: string,
  subtitle: string,
  groups: GroupSummary[],
): Promise<string> {
  const values = groups.map((g) => ({
    arm: g.label,
    ppl: g.ppl_mean,
    lo: g.ppl_sd === null ? g.ppl_mean : g.ppl_mean - g.ppl_sd,
    hi: g.ppl_sd === null ? g.ppl_mean : g.ppl_mean + g.ppl_sd,
    runs: g.runs,
    kind: g.group === "full"
      ? "full data"
      : g.group.endsWith("-soft")
      ? "k examples + soft targets"
      : "k examples",
  }));
  const x = {
    field: "arm",
    type: "nominal",
    sort: null,
    title: null,
    axis: { labelAngle: -30, labelLimit: 400 },
  };
  const y = (field: string) => ({ field, type: "quantitative", title: "test perplexity" });
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle },
    width: Math.max(240, 56 * values.length),
    height: 260,
    data: { values },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          x,
          y: y("ppl"),
          color: { field: "kind", type: "nominal", title: null, legend: { orient: "top", labelLimit: 400 } },
        },
      },
      {
        transform: [{ filter: "datum.runs > 1" }],
        mark: { type: "errorbar", ticks: true, color: "#222" },
        encoding: { x, y: y("lo"), y2: { field: "hi" } },
      },
      {
        mark: { type: "text", dy: -6, fontSize: 10 },
        encoding: { x, y: y("hi"), text: { field: "ppl", format: ".1f" } },
      },
    ],
  };
  return await renderSvg(spec);
}
