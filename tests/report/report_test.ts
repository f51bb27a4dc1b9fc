import assert from "node:assert/strict";
import { escapeHtml } from "../../lib/report/html.ts";
import { markdownTable } from "../../lib/report/markdown.ts";
import { parseMetrics, summarizeArms } from "../../lib/report/metrics.ts";
import { lossChartSpec, prefixSvgIds, renderSvg } from "../../lib/report/charts.ts";
import { project2d } from "../../lib/report/projection.ts";
import { writeReport } from "../../lib/report/write.ts";
import { HOSTILE_SAMPLE, syntheticReport } from "./_fixtures.ts";

Deno.test("parseMetrics() reads training (causal-LM term when logged) and validation losses, keeps a resumed step's last value, skips bad lines", () => {
  const text = [
    '{"event":"step","step":1,"loss":10.5}',
    '{"event":"step","step":2,"loss":9.5}',
    "{torn",
    '{"event":"eval","step":2,"val_loss":9.9,"val_ppl":20000}',
    '{"event":"step","step":2,"loss":9.25}',
    '{"event":"step","step":3,"loss":null}',
    '{"event":"step","step":4,"loss":31.5,"loss_ce":2.1,"loss_clm":8.75}',
    '{"event":"done","steps":3}',
  ].join("\n");
  assert.deepEqual(parseMetrics(text), [
    { step: 1, loss: 10.5, kind: "train" },
    { step: 2, loss: 9.25, kind: "train" },
    // A distillation step plots its causal-LM term, the quantity validation measures.
    { step: 4, loss: 8.75, kind: "train" },
    { step: 2, loss: 9.9, kind: "validation" },
  ]);
});

Deno.test("summarizeArms() gives the mean, sample standard deviation and range over an arm's seeds", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-test-" });
  try {
    const input = await syntheticReport(dir);
    const arms = summarizeArms(input.models);
    assert.deepEqual(arms.map((a) => a.arm), ["teacher", "student-kd", "student-kd-mse", "condensed-kmeans"]);
    const kd = arms[1];
    const [a, b] = input.models.filter((m) => m.arm === "student-kd").map((m) => m.testPpl);
    assert.equal(kd.seeds, 2);
    assert.ok(Math.abs(kd.pplMean - (a + b) / 2) < 1e-9);
    assert.ok(Math.abs(kd.pplStd - Math.abs(a - b) / Math.SQRT2) < 1e-9);
    assert.deepEqual([kd.pplMin, kd.pplMax], [Math.min(a, b), Math.max(a, b)]);
    assert.equal(arms[0].pplStd, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("markdownTable() and escapeHtml() escape markup, pipes and quotes", () => {
  const md = markdownTable({ header: ["a", "b"], align: ["left", "right"], rows: [["x|y", "<b>1</b>"]] });
  assert.equal(md, "| a | b |\n| --- | ---: |\n| x\\|y | &lt;b&gt;1&lt;/b&gt; |");
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
});

Deno.test("renderSvg() renders a Vega-Lite line chart headless, and prefixSvgIds() makes its ids unique", async () => {
  const spec = lossChartSpec(
    "Loss",
    [{ id: "r", label: "run" }],
    new Map([["r", parseMetrics('{"step":1,"loss":3}\n{"step":2,"loss":2}')]]),
  );
  const svg = await renderSvg(spec);
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /optimizer step/);
  const prefixed = prefixSvgIds('<clipPath id="clip1"></clipPath><g clip-path="url(#clip1)"></g>', "f2");
  assert.equal(prefixed, '<clipPath id="f2-clip1"></clipPath><g clip-path="url(#f2-clip1)"></g>');
});

Deno.test("project2d() separates two clusters with PCA and t-SNE and is repeatable", () => {
  const rows = Array.from(
    { length: 24 },
    (_, i) => Array.from({ length: 6 }, (_, j) => (i < 12 ? 0 : 5) + Math.sin(i * 7 + j)),
  );
  for (const method of ["PCA", "t-SNE"] as const) {
    const p = project2d(rows, method);
    assert.equal(p.length, 24);
    assert.deepEqual(project2d(rows, method), p, `${method} is not repeatable`);
    // Each point's nearest neighbour lies in its own cluster.
    for (let i = 0; i < 24; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let j = 0; j < 24; j++) {
        const d = j === i ? Infinity : (p[i][0] - p[j][0]) ** 2 + (p[i][1] - p[j][1]) ** 2;
        if (d < bestD) [best, bestD] = [j, d];
      }
      assert.equal(
        best < 12,
        i < 12,
        `${method}: point ${i}'s nearest neighbour ${best} is in the other cluster`,
      );
    }
  }
  assert.throws(() => project2d([[1], [2]], "PCA"), /at least 3 points/);
});

Deno.test("writeReport() writes report.md with linked plots and a self-contained report.html with the same tables", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-test-" });
  try {
    const input = await syntheticReport(dir);
    const written = await writeReport(dir, input);
    const md = await Deno.readTextFile(written.markdown);
    const html = await Deno.readTextFile(written.html);

    // Plots: perplexity, one loss plot per group, the projection; each a standalone SVG file.
    assert.deepEqual(
      written.plots.map((p) => p.slice(dir.length + 1)).sort(),
      [
        "plots/hidden-states.svg",
        "plots/loss-condensed.svg",
        "plots/loss-students.svg",
        "plots/loss-teacher.svg",
        "plots/perplexity.svg",
      ],
    );
    for (const p of written.plots) assert.match(await Deno.readTextFile(p), /^<svg/);
    for (const p of written.plots) {
      assert.ok(md.includes(`](${p.slice(dir.length + 1)})`), `report.md lacks ${p}`);
    }

    // Tables: every model, per-arm mean ± std, in both documents.
    for (const m of input.models) {
      assert.ok(md.includes(`| ${m.id} |`), `report.md lacks ${m.id}`);
      assert.ok(html.includes(`<td>${m.id}</td>`), `report.html lacks ${m.id}`);
    }
    // student-kd: seeds at 480.123 and 504.123 → mean 492.1, sample std 24/√2 = 16.97.
    assert.ok(html.includes('<td class="num">492.1 ± 16.97</td>'), "report.html lacks the mean ± std");
    assert.ok(md.includes("| 492.1 ± 16.97 |"), "report.md lacks the mean ± std");
    assert.ok(md.includes("total wall time of this run | 123.4"));

    // Self-contained: inline SVGs, no scripts, no external resources, hostile text escaped.
    assert.equal(html.match(/<svg/g)?.length, written.plots.length);
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /\b(src|href)="(https?:|\/\/|[^#"][^"]*\.(css|js|png|svg))/i);
    assert.ok(html.includes(escapeHtml(HOSTILE_SAMPLE)));
    assert.ok(!md.includes("<script>"));
    // Several inline SVGs never share an id.
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(new Set(ids).size, ids.length, "duplicate ids in report.html");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
