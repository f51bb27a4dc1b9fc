/**
 * The report's blocks as one self-contained HTML page: inline CSS, the SVG plots inline (their ids made
 * unique per plot), no scripts, fonts, images or links to anything outside the file.
 *
 * @module
 */
import { prefixSvgIds } from "./charts.ts";
import type { Block, Table } from "./document.ts";

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const STYLE = `
body { font: 15px/1.5 Helvetica, Arial, sans-serif; color: #222; max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e5e5e5; vertical-align: top; }
th { background: #f6f6f6; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.5em 0; overflow-x: auto; } figcaption { color: #555; font-size: 13px; }
blockquote { margin: 0.3em 0 1em; padding: 0.4em 1em; background: #f8f8f8; border-left: 3px solid #bbb; white-space: pre-wrap; }
.sample-model { font-weight: bold; margin-top: 1em; }
`;

function htmlTable(t: Table): string {
  const cls = (i: number) => (t.align[i] === "right" ? ' class="num"' : "");
  const head = t.header.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join("");
  const rows = t.rows.map((r) =>
    `<tr>${r.map((c, i) => `<td${cls(i)}>${escapeHtml(c)}</td>`).join("")}</tr>`
  );
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join("\n")}\n</tbody>\n</table>`;
}

/** Removes an SVG's XML prolog, if any, so it can sit inside HTML. */
function inlineSvg(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, "");
}

/** The whole report as an HTML document. */
export function renderHtml(title: string, blocks: readonly Block[]): string {
  const body: string[] = [];
  let figureNo = 0;
  for (const b of blocks) {
    switch (b.kind) {
      case "heading":
        body.push(`<h${b.level}>${escapeHtml(b.text)}</h${b.level}>`);
        break;
      case "paragraph":
        body.push(`<p>${escapeHtml(b.text)}</p>`);
        break;
      case "table":
        body.push(htmlTable(b.table));
        break;
      case "figure":
        figureNo++;
        body.push(
          `<figure id="figure-${figureNo}">\n${prefixSvgIds(inlineSvg(b.figure.svg), `f${figureNo}`)}\n` +
            `<figcaption>${escapeHtml(b.figure.caption)}</figcaption>\n</figure>`,
        );
        break;
      case "samples":
        for (const s of b.samples) {
          body.push(
            `<div class="sample-model">${escapeHtml(s.model)}</div>\n<blockquote>${
              escapeHtml(s.text)
            }</blockquote>`,
          );
        }
        break;
    }
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body.join("\n")}
</body>
</html>
`;
}
