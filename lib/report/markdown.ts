/**
 * The report's blocks as GitHub-flavoured Markdown; figures are linked as plots/<file> beside report.md.
 *
 * @module
 */
import type { Block, Table } from "./document.ts";

/** Escapes text for a Markdown table cell or paragraph: HTML-significant characters and pipes. */
export function escapeMarkdown(text: string): string {
  // Backslashes first, so the escapes added for the other characters are not escaped again.
  return text
    .replace(/([\\`*_\[\]#|])/g, "\\$1")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll("\n", " ");
}

/** A Markdown table (pipes, alignment row). */
export function markdownTable(t: Table): string {
  const row = (cells: string[]) => `| ${cells.map(escapeMarkdown).join(" | ")} |`;
  return [
    row(t.header),
    `| ${t.align.map((a) => (a === "right" ? "---:" : "---")).join(" | ")} |`,
    ...t.rows.map(row),
  ].join("\n");
}

/** The whole report as Markdown text (ends with a newline). */
export function renderMarkdown(blocks: readonly Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case "heading":
        out.push(`${"#".repeat(b.level)} ${escapeMarkdown(b.text)}`);
        break;
      case "paragraph":
        out.push(escapeMarkdown(b.text));
        break;
      case "table":
        out.push(markdownTable(b.table));
        break;
      case "figure":
        out.push(`![${escapeMarkdown(b.figure.caption)}](plots/${b.figure.file})`);
        break;
      case "samples":
        for (const s of b.samples) out.push(`**${escapeMarkdown(s.model)}**\n\n> ${escapeMarkdown(s.text)}`);
        break;
    }
  }
  return out.join("\n\n") + "\n";
}
