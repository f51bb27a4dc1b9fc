/**
 * Reading a condensed set (the files `deno task condense` writes, format in output.ts) back for training:
 * the k examples' ids as (k, T) blocks, their weights, the stored teacher top-k logits and the dm input
 * embeddings.
 *
 * A file is recognised as a condensed set when it is a `.jsonl` / `.ndjson` file and either its sidecar
 * FILE.meta.json says `"format": "gpt2-condensed"` or its first non-blank line has an `"ids"` array
 * (plain JSONL corpora have only a `"text"` field, see lib/data/text.ts).
 *
 * @module
 */
import { embedsPath, metaPath } from "./output.ts";

/** A condensed set in memory. */
export interface CondensedSet {
  /** The JSONL file. */
  path: string;
  /** Examples in the file (the k of the condensation). */
  count: number;
  /** T: tokens per example (all examples have the same length). */
  T: number;
  /** (count, T) token ids, example after example. */
  ids: Uint32Array;
  /** (count) how many real blocks each example stands for. */
  weights: Float64Array;
  /** (count) the real block each example is, or "synthetic". */
  sources: (number | "synthetic")[];
  /** Stored teacher top-k logits of every position, when every example has them; else null. */
  soft: { k: number; indices: Uint32Array; logits: Float32Array } | null;
  /** Whether only some examples carry soft targets (an inconsistent file). */
  softPartial: boolean;
  /** (count, T, C) input embeddings of dm sets, when every example has them; else null. */
  embeds: { C: number; data: Float32Array } | null;
  /** The sidecar's content, or null when there is none. */
  meta: Record<string, unknown> | null;
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** The first non-blank line of a file, reading at most `maxBytes` (a soft-target line can be long). */
async function firstLine(path: string, maxBytes = 64 * 2 ** 20): Promise<string> {
  const file = await Deno.open(path, { read: true });
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const decoder = new TextDecoder();
    let text = "";
    while (total < maxBytes) {
      const buf = new Uint8Array(1 << 16);
      const n = await file.read(buf);
      if (n === null) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      text += decoder.decode(buf.subarray(0, n), { stream: true });
      const lines = text.split("\n");
      // Everything but the last piece is a whole line.
      for (const line of lines.slice(0, -1)) if (line.trim().length > 0) return line;
      text = lines[lines.length - 1];
    }
    return text;
  } finally {
    file.close();
  }
}

/** Reads the sidecar FILE.meta.json, or null when there is none or it is not JSON. */
async function readMeta(path: string): Promise<Record<string, unknown> | null> {
  const text = await Deno.readTextFile(metaPath(path)).catch(() => null);
  if (text === null) return null;
  try {
    const json = JSON.parse(text);
    return json !== null && typeof json === "object" && !Array.isArray(json) ? json : null;
  } catch {
    return null;
  }
}

/**
 * Whether `path` is a condensed set (see the module doc). Never throws for a path that is not one (a
 * missing file, a folder, "embedded", another extension): those are for lib/data/text.ts to judge.
 */
export async function isCondensedFile(path: string): Promise<boolean> {
  if (!/\.(jsonl|ndjson)$/i.test(path)) return false;
  const info = await statOrNull(path);
  if (!info?.isFile) return false;
  const meta = await readMeta(path);
  if (meta?.format === "gpt2-condensed") return true;
  try {
    const value = JSON.parse((await firstLine(path)).trim());
    return value !== null && typeof value === "object" && Array.isArray(value.ids);
  } catch {
    return false;
  }
}

/** A finite number array of exactly `n` entries, or an Error naming the line. */
function numbers(x: unknown, n: number, where: string, what: string): number[] {
  if (!Array.isArray(x) || x.length !== n || !x.every((v) => typeof v === "number" && Number.isFinite(v))) {
    throw new Error(`${where}: "${what}" must be an array of ${n} finite numbers`);
  }
  return x as number[];
}

/**
 * Reads a condensed set. Throws a one-line Error for a line without an `ids` array of non-negative
 * integers, examples of different lengths, a non-finite weight, soft targets of the wrong shape, or
 * embeddings that are missing, of another width, or outside their file.
 */
export async function readCondensedSet(path: string): Promise<CondensedSet> {
  const raw = await Deno.readTextFile(path);
  const meta = await readMeta(path);
  const lines = raw.replace(/^\uFEFF/, "").split("\n");
  const ids: number[] = [];
  const weights: number[] = [];
  const sources: (number | "synthetic")[] = [];
  const softIdx: number[] = [];
  const softLog: number[] = [];
  let softK = 0;
  let withSoft = 0;
  const embedRefs: { offset: number; C: number; file: string; where: string }[] = [];
  let T = 0;
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line.length === 0) continue;
    const where = `${path}:${i + 1}`;
    let ex: Record<string, unknown>;
    try {
      ex = JSON.parse(line);
    } catch {
      throw new Error(`${where}: not valid JSON`);
    }
    if (ex === null || typeof ex !== "object" || !Array.isArray(ex.ids)) {
      throw new Error(`${where}: expected a condensed example with an "ids" array`);
    }
    const exIds = ex.ids as unknown[];
    if (exIds.length < 2 || !exIds.every((v) => Number.isInteger(v) && (v as number) >= 0)) {
      throw new Error(`${where}: "ids" must hold at least 2 non-negative integer token ids`);
    }
    if (count === 0) T = exIds.length;
    else if (exIds.length !== T) {
      throw new Error(`${where}: example of ${exIds.length} tokens, the first one has ${T}`);
    }
    for (const v of exIds) ids.push(v as number);
    const w = ex.weight === undefined ? 1 : ex.weight;
    if (typeof w !== "number" || !Number.isFinite(w) || w < 0) {
      throw new Error(`${where}: "weight" must be a finite number ≥ 0, got ${JSON.stringify(ex.weight)}`);
    }
    weights.push(w);
    sources.push(typeof ex.source === "number" ? ex.source : "synthetic");
    if (ex.soft !== undefined) {
      const soft = ex.soft as { indices?: unknown; logits?: unknown };
      const rowsI = soft?.indices, rowsL = soft?.logits;
      if (!Array.isArray(rowsI) || !Array.isArray(rowsL) || rowsI.length !== T || rowsL.length !== T) {
        throw new Error(`${where}: "soft" must hold T = ${T} rows of indices and logits`);
      }
      const k = Array.isArray(rowsI[0]) ? rowsI[0].length : 0;
      if (k < 1) throw new Error(`${where}: "soft" rows are empty`);
      if (withSoft === 0) softK = k;
      else if (k !== softK) throw new Error(`${where}: soft targets of width ${k}, earlier ones ${softK}`);
      for (let t = 0; t < T; t++) {
        const row = numbers(rowsI[t], k, where, `soft.indices[${t}]`);
        if (!row.every((v) => Number.isInteger(v) && v >= 0)) {
          throw new Error(`${where}: soft.indices[${t}] must hold token ids`);
        }
        softIdx.push(...row);
        softLog.push(...numbers(rowsL[t], k, where, `soft.logits[${t}]`));
      }
      withSoft++;
    }
    if (ex.embeds !== undefined) {
      const e = ex.embeds as { file?: unknown; offset?: unknown; shape?: unknown; dtype?: unknown };
      const shape = e?.shape as unknown[];
      if (
        typeof e?.file !== "string" || !Number.isInteger(e.offset) || (e.offset as number) < 0 ||
        !Array.isArray(shape) || shape.length !== 2 || shape[0] !== T || !Number.isInteger(shape[1]) ||
        (shape[1] as number) < 1 || (e.dtype !== undefined && e.dtype !== "float32")
      ) {
        throw new Error(`${where}: "embeds" must be {file, offset, shape: [${T}, C], dtype: "float32"}`);
      }
      embedRefs.push({ offset: e.offset as number, C: shape[1] as number, file: e.file, where });
    }
    count++;
  }
  if (count === 0) throw new Error(`${path} holds no condensed examples`);
  if (embedRefs.length !== 0 && embedRefs.length !== count) {
    throw new Error(
      `${path}: ${embedRefs.length} of ${count} examples have input embeddings; all or none must`,
    );
  }

  let embeds: CondensedSet["embeds"] = null;
  if (embedRefs.length > 0) {
    const C = embedRefs[0].C;
    const folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
    const cache = new Map<string, DataView>();
    const data = new Float32Array(count * T * C);
    for (const [j, ref] of embedRefs.entries()) {
      if (ref.C !== C) throw new Error(`${ref.where}: embeddings of width ${ref.C}, the first ones ${C}`);
      let view = cache.get(ref.file);
      if (!view) {
        // The file is named relative to the JSONL's folder; the default name is FILE.embeds.f32.
        const file = ref.file.startsWith("/") ? ref.file : folder + ref.file;
        const bytes = await Deno.readFile(file).catch(() => null) ??
          await Deno.readFile(embedsPath(path)).catch(() => null);
        if (bytes === null) throw new Error(`${ref.where}: embeddings file ${file} not found`);
        view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        cache.set(ref.file, view);
      }
      const bytes = T * C * 4;
      if (ref.offset % 4 !== 0 || ref.offset + bytes > view.byteLength) {
        throw new Error(`${ref.where}: embeddings at byte ${ref.offset} (+${bytes}) lie outside their file`);
      }
      for (let i = 0; i < T * C; i++) data[j * T * C + i] = view.getFloat32(ref.offset + 4 * i, true);
    }
    embeds = { C, data };
  }

  return {
    path,
    count,
    T,
    ids: Uint32Array.from(ids),
    weights: Float64Array.from(weights),
    sources,
    soft: withSoft === count
      ? { k: softK, indices: Uint32Array.from(softIdx), logits: Float32Array.from(softLog) }
      : null,
    softPartial: withSoft > 0 && withSoft < count,
    embeds,
    meta,
  };
}

/**
 * Checks a set against a vocabulary: every id (and stored top-k index) must be below `vocabSize`, and with
 * `matchRecorded` (a tokenizer's vocabulary) the sidecar's vocabulary size, when recorded, must equal it.
 */
export function checkVocabulary(
  set: CondensedSet,
  vocabSize: number,
  what = "the tokenizer",
  matchRecorded = true,
): void {
  const recorded = set.meta?.vocab_size;
  if (matchRecorded && typeof recorded === "number" && recorded !== vocabSize) {
    throw new Error(
      `${set.path} was condensed with a vocabulary of ${recorded} tokens, ${what} has ${vocabSize}`,
    );
  }
  const check = (xs: Uint32Array, name: string) => {
    for (let i = 0; i < xs.length; i++) {
      if (xs[i] >= vocabSize) {
        throw new Error(`${set.path}: ${name} ${xs[i]} is outside ${what}'s ${vocabSize} tokens`);
      }
    }
  };
  check(set.ids, "token id");
  if (set.soft) check(set.soft.indices, "soft-target index");
}

/**
 * The examples' ids as (count, T) training blocks, for `loadBlocks`: T must equal the examples' length
 * (a condensed set is not re-cut), and the ids must fit the tokenizer.
 */
export async function condensedBlocks(path: string, T: number, vocabSize: number): Promise<Uint32Array> {
  const set = await readCondensedSet(path);
  if (set.T !== T) {
    throw new Error(
      `${path} is a condensed set of ${set.T}-token examples: --seq must be ${set.T} (or omitted), got ${T}`,
    );
  }
  checkVocabulary(set, vocabSize);
  return set.ids;
}
