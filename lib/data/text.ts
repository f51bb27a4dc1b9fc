/**
 * Loading training text: WikiText folders, plain text files, JSONL documents and the embedded corpus.
 *
 * Text is returned as one string and tokenized whole, like HF's run_clm, which tokenizes every
 * example and concatenates the ids (`group_texts`). For WikiText the file content is used as is
 * (its lines already end in "\n", so this equals concatenating HF's line examples).
 *
 * @module
 */
import { DEFAULT_CORPUS_NAME, defaultCorpus } from "./default_corpus.ts";

/** A dataset split. */
export type Split = "train" | "valid" | "test";

/** All splits, in order. */
export const SPLITS: readonly Split[] = ["train", "valid", "test"];

/**
 * Separator between JSONL documents. run_clm tokenizes documents separately and concatenates the
 * ids; joining with a blank line keeps a document's last word from fusing with the next document's
 * first word, and matches the "\n\n".join of HF's perplexity guide.
 */
export const JSONL_SEPARATOR = "\n\n";

/** File names tried for a split in a folder, in order (WikiText's own names first). */
function splitFiles(split: Split): string[] {
  return [`wiki.${split}.tokens`, `wiki.${split}.raw`, `${split}.txt`, `${split}.jsonl`];
}

/**
 * The text of one split of a dataset at `path`:
 * - `"embedded"` (DEFAULT_CORPUS_NAME): the project's generated default corpus (this name wins over a
 *   file or folder of the same name; write `./embedded` for that).
 * - a folder: WikiText (`wiki.<split>.tokens` or `wiki.<split>.raw`), or `<split>.txt`, or
 *   `<split>.jsonl`; exactly one of these must exist for the split.
 * - a `.jsonl` file: one JSON object per line with a string "text" field; blank lines are skipped,
 *   empty texts contribute nothing (as in run_clm), and documents are joined with JSONL_SEPARATOR.
 *   `split` is ignored.
 * - any other file: the whole file as text (a leading UTF-8 BOM is dropped). `split` is ignored.
 * Throws a one-line Error for a missing path, a missing split file, an empty text or a bad JSONL line.
 */
export async function loadText(path: string, split: Split): Promise<string> {
  if (!SPLITS.includes(split)) throw new Error(`unknown split "${split}" (expected train, valid or test)`);
  if (path === DEFAULT_CORPUS_NAME) return defaultCorpus()[split];
  const info = await statOrNull(path);
  if (info === null) throw new Error(`dataset not found: ${path}`);
  let file = path;
  if (info.isDirectory) {
    const found = await existingSplitFiles(path, split);
    if (found.length === 0) {
      throw new Error(`${path} has no ${split} split (looked for ${splitFiles(split).join(", ")})`);
    }
    if (found.length > 1) {
      throw new Error(`${path} has several ${split} files (${found.join(", ")}); pass one file instead`);
    }
    file = `${path}/${found[0]}`;
  }
  const raw = await Deno.readTextFile(file);
  const text = isJsonl(file) ? jsonlText(raw, file) : raw.replace(/^\uFEFF/, "");
  if (text.length === 0) throw new Error(`${file} has no text`);
  return text;
}

/**
 * The splits available at `path`: all three for "embedded", those with a file for a folder, and
 * ["train"] for a single file (loadText returns that file for any split; the caller decides how to
 * validate without a held-out split).
 */
export async function listSplits(path: string): Promise<Split[]> {
  if (path === DEFAULT_CORPUS_NAME) return [...SPLITS];
  const info = await statOrNull(path);
  if (info === null) throw new Error(`dataset not found: ${path}`);
  if (!info.isDirectory) return ["train"];
  const out: Split[] = [];
  for (const split of SPLITS) {
    if ((await existingSplitFiles(path, split)).length > 0) out.push(split);
  }
  return out;
}

async function existingSplitFiles(dir: string, split: Split): Promise<string[]> {
  const found: string[] = [];
  for (const name of splitFiles(split)) {
    const info = await statOrNull(`${dir}/${name}`);
    if (info?.isFile) found.push(name);
  }
  return found;
}

function isJsonl(file: string): boolean {
  return /\.(jsonl|ndjson)$/i.test(file);
}

/** The documents of a JSONL file joined with JSONL_SEPARATOR; throws on the first bad line. */
function jsonlText(raw: string, file: string): string {
  const docs: string[] = [];
  const lines = raw.replace(/^\uFEFF/, "").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line.length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`${file}:${i + 1}: not valid JSON`);
    }
    const text = value !== null && typeof value === "object" ? (value as { text?: unknown }).text : undefined;
    if (typeof text !== "string") {
      throw new Error(`${file}:${i + 1}: expected an object with a string "text" field`);
    }
    if (text.length > 0) docs.push(text);
  }
  return docs.join(JSONL_SEPARATOR);
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}
