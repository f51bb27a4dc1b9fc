/**
 * Writes a report into a folder: report.md with its plots as plots/*.svg, and report.html, which holds
 * the same text, tables and plots in one self-contained file. Loss curves come from each model's
 * metrics.jsonl (paths relative to the folder).
 *
 * @example
 * ```ts
 * const input: ReportInput = JSON.parse(await Deno.readTextFile("runs/demo/results.json"));
 * const { html } = await writeReport("runs/demo", input); // runs/demo/report.html
 * ```
 *
 * @module
 */
import { writeFileAtomic } from "../io/atomic.ts";
import { lossChartSpec, perplexityChartSpec, projectionChartSpec, renderSvg } from "./charts.ts";
import { buildDocument, type Figure, type RenderedFigures } from "./document.ts";
import { renderHtml } from "./html.ts";
import { renderMarkdown } from "./markdown.ts";
import { type LossPoint, readMetrics, summarizeArms } from "./metrics.ts";
import type { ReportInput } from "./types.ts";

/** The files a report consists of. */
export interface WrittenReport {
  markdown: string;
  html: string;
  /** The SVG files under plots/. */
  plots: string[];
}

/** Renders every plot of the report. */
export async function renderFigures(dir: string, input: ReportInput): Promise<RenderedFigures> {
  if (input.models.length === 0) throw new Error("a report needs at least one model");
  const arms = summarizeArms(input.models);
  const points = new Map<string, LossPoint[]>();
  for (const m of input.models) {
    if (m.metrics) points.set(m.id, await readMetrics(`${dir}/${m.metrics}`));
  }
  const perplexity: Figure = {
    file: "perplexity.svg",
    svg: await renderSvg(perplexityChartSpec(arms, input.models)),
    caption: "Test perplexity per arm: bar = mean over seeds, rule = lowest to highest seed, dots = seeds.",
  };
  const groups = [...new Set(input.models.map((m) => m.group))];
  const losses: Figure[] = [];
  for (const g of groups) {
    const models = input.models.filter((m) => m.group === g && (points.get(m.id)?.length ?? 0) > 0);
    if (models.length === 0) continue;
    losses.push({
      file: `loss-${g.replace(/[^a-z0-9-]+/gi, "_")}.svg`,
      svg: await renderSvg(lossChartSpec(`Loss: ${g}`, models, points)),
      caption: `Training (solid) and validation (dashed) loss of the ${g} runs.`,
    });
  }
  const projection: Figure | undefined = input.projection.length > 0
    ? {
      file: "hidden-states.svg",
      svg: await renderSvg(projectionChartSpec(input.projection)),
      caption:
        "Teacher and student hidden states on the same test tokens (the pair of layers the student's " +
        "MSE or Wasserstein term matched), projected together to 2-D with PCA (top) and t-SNE (bottom).",
    }
    : undefined;
  return { perplexity, losses, projection };
}

/** Writes report.md, plots/*.svg and report.html into `dir`; returns their paths. */
export async function writeReport(dir: string, input: ReportInput): Promise<WrittenReport> {
  const figures = await renderFigures(dir, input);
  const blocks = buildDocument(input, summarizeArms(input.models), figures);
  const all = [figures.perplexity, ...figures.losses, ...(figures.projection ? [figures.projection] : [])];
  const plots: string[] = [];
  for (const f of all) {
    const path = `${dir}/plots/${f.file}`;
    await writeFileAtomic(path, f.svg);
    plots.push(path);
  }
  const markdown = `${dir}/report.md`;
  const html = `${dir}/report.html`;
  await writeFileAtomic(markdown, renderMarkdown(blocks));
  await writeFileAtomic(html, renderHtml(input.title, blocks));
  return { markdown, html, plots };
}
