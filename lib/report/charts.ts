/**
 * The report's plots as Vega-Lite specifications, rendered to SVG headless with vega's View
 * (`renderer: "none"`, then `toSVG()`): no browser, canvas or network is involved.
 *
 * - {@link lossChartSpec}: training and validation loss against the step, one line per run, coloured by
 *   arm (seeds of an arm share a colour), dashed for validation.
 * - {@link perplexityChartSpec}: mean test perplexity per arm as bars on a log axis, a rule from the lowest
 *   to the highest seed and one dot per seed.
 * - {@link projectionChartSpec}: teacher and student hidden states in 2-D, one panel per student and method.
 *
 * @module
 */
import * as vega from "vega";
import * as vegaLite from "vega-lite";
import type { LossPoint } from "./metrics.ts";
import type { ArmSummary } from "./metrics.ts";
import type { ProjectionPoint, ReportModel } from "./types.ts";

/** A Vega-Lite specification (kept loose: vega-lite's own type is a deep union). */
export type ChartSpec = Record<string, unknown>;

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const FONT = "Helvetica, Arial, sans-serif";
const CONFIG = {
  font: FONT,
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#eee" },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 400 },
  header: { labelFontSize: 12, titleFontSize: 12 },
};

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  // deno-lint-ignore no-explicit-any
  const compiled = vegaLite.compile(spec as any).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Makes the ids inside an SVG unique to it (`id="x"` → `id="p-x"`, with `url(#x)` and `href="#x"` to
 * match), so that several SVGs inlined in one HTML page never resolve each other's clip paths.
 */
export function prefixSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_, id) => `href="#${prefix}-${id}"`);
}

/** Loss curves of `models` (their points from metrics.jsonl), one line per model. */
export function lossChartSpec(
  title: string,
  models: readonly Pick<ReportModel, "id" | "label">[],
  points: ReadonlyMap<string, LossPoint[]>,
): ChartSpec {
  const values = models.flatMap((m) =>
    (points.get(m.id) ?? []).map((p) => ({
      run: m.id,
      arm: m.label,
      step: p.step,
      loss: p.loss,
      kind: p.kind,
    }))
  );
  return {
    $schema: SCHEMA,
    title,
    width: 520,
    height: 240,
    config: CONFIG,
    data: { values },
    mark: { type: "line", point: false, strokeWidth: 1.6 },
    encoding: {
      x: { field: "step", type: "quantitative", title: "optimizer step" },
      y: { field: "loss", type: "quantitative", title: "loss (nats / token)", scale: { zero: false } },
      color: { field: "arm", type: "nominal", title: "arm", scale: { scheme: "tableau10" } },
      strokeDash: {
        field: "kind",
        type: "nominal",
        title: "curve",
        scale: { domain: ["train", "validation"], range: [[1, 0], [5, 3]] },
      },
      detail: { field: "run", type: "nominal" },
    },
  };
}

/** Mean test perplexity per arm with the spread over seeds. */
export function perplexityChartSpec(arms: readonly ArmSummary[], models: readonly ReportModel[]): ChartSpec {
  const order = arms.map((a) => a.label);
  const pplMin = Math.min(...models.map((m) => m.testPpl));
  const pplMax = Math.max(...models.map((m) => m.testPpl));
  // A log axis has no zero: bars start at the left end of the domain instead.
  const lowest = Math.max(1, pplMin / 1.5);
  const bars = arms.map((a) => ({
    base: lowest,
    arm: a.label,
    group: a.group,
    ppl: a.pplMean,
    lo: a.pplMin,
    hi: a.pplMax,
    seeds: a.seeds,
  }));
  const dots = models.map((m) => ({ arm: m.label, ppl: m.testPpl, seed: m.seed }));
  const y = { field: "arm", type: "nominal", title: null, sort: order, axis: { labelLimit: 400 } };
  const x = {
    type: "quantitative",
    title: "test perplexity (log scale; bar = mean, rule = min–max over seeds, dots = seeds)",
    scale: { type: "log", domain: [lowest, pplMax * 1.5], nice: false },
  };
  return {
    $schema: SCHEMA,
    title: "Test perplexity by arm",
    width: 520,
    height: { step: 26 },
    config: CONFIG,
    layer: [
      {
        data: { values: bars },
        mark: { type: "bar", opacity: 0.75, height: { band: 0.7 } },
        encoding: {
          y,
          x: { ...x, field: "base" },
          x2: { field: "ppl" },
          color: { field: "group", type: "nominal", title: "group", scale: { scheme: "set2" } },
          tooltip: [{ field: "arm" }, { field: "ppl", format: ".2f" }, { field: "seeds" }],
        },
      },
      {
        data: { values: bars },
        mark: { type: "rule", color: "#333", strokeWidth: 1.5 },
        encoding: { y, x: { ...x, field: "lo" }, x2: { field: "hi" } },
      },
      {
        data: { values: dots },
        mark: { type: "point", filled: true, color: "#111", size: 28 },
        encoding: { y, x: { ...x, field: "ppl" } },
      },
    ],
  };
}

/** Teacher and student hidden states in 2-D: rows = method (PCA, t-SNE), columns = student. */
export function projectionChartSpec(points: readonly ProjectionPoint[]): ChartSpec {
  return {
    $schema: SCHEMA,
    title: "Hidden states of the teacher and the MSE / Wasserstein students, projected to 2-D",
    config: CONFIG,
    data: { values: points },
    facet: {
      row: { field: "method", type: "nominal", title: null },
      column: { field: "panel", type: "nominal", title: null },
    },
    spec: {
      width: 300,
      height: 240,
      mark: { type: "point", filled: true, size: 18, opacity: 0.65 },
      encoding: {
        x: { field: "x", type: "quantitative", title: null, axis: { labels: false, ticks: false } },
        y: { field: "y", type: "quantitative", title: null, axis: { labels: false, ticks: false } },
        color: {
          field: "model",
          type: "nominal",
          title: "hidden states of",
          scale: { domain: ["teacher", "student"], range: ["#d95f02", "#1b9e77"] },
        },
        shape: { field: "model", type: "nominal", legend: null },
      },
    },
    resolve: { scale: { x: "independent", y: "independent" } },
  };
}
