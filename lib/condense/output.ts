/**
 * The condensed-set files.
 *
 * OUT (JSON Lines), one example per line, keys in this order:
 *   {"text": decoded ids, "ids": [T ids], "source": block index | "synthetic", "weight": number,
 *    "prompt_block"?: block index (synthetic: the prompt's block), "init_block"?: block index (dm: the
 *    block the sequence was initialised from), "mean_logprob"?: number (synthetic),
 *    "soft"?: {"indices": [[k ids] × T], "logits": [[k logits] × T]} (the teacher's top-k per position),
 *    "embeds"?: {"file": name, "offset": bytes, "shape": [T, C], "dtype": "float32"} (dm)}
 * OUT.embeds.f32 (dm only): the (k, T, C) float32 little-endian embeddings, example j at byte j·T·C·4;
 *   "file" is this file's name, relative to OUT's folder.
 * OUT.meta.json: the settings and statistics of the run ({@link CondenseMeta}); its "timings" are the
 *   only part that differs between two runs with the same settings. OUT itself is byte-identical.
 * Each file is written atomically (temporary file + rename), the embeddings first and the sidecar last.
 *
 * Floats in "soft" are written in the shortest decimal form that reads back as the same float32.
 *
 * @module
 */
import { writeFileAtomic } from "../io/atomic.ts";

/** One condensed example. */
export interface CondensedExample {
  text: string;
  /** (T) token ids. */
  ids: ArrayLike<number>;
  /** The real block it is, or "synthetic". */
  source: number | "synthetic";
  /** How many real blocks it stands for. */
  weight: number;
  promptBlock?: number;
  initBlock?: number;
  meanLogProb?: number;
  /** (T, k) top-k teacher logits per position. */
  soft?: { k: number; indices: ArrayLike<number>; logits: ArrayLike<number> };
  /** Position of its (T, C) embeddings in the embeddings file. */
  embeds?: { file: string; offset: number; shape: [number, number] };
}

/** The sidecar: everything needed to reproduce and judge the set. */
export interface CondenseMeta {
  format: "gpt2-condensed";
  version: 1;
  [key: string]: unknown;
}

/** The shortest decimal that reads back (through Math.fround) as the float32 value `x`. */
export function float32String(x: number): string {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) return "null";
  for (let p = 1; p <= 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return String(Number(s));
  }
  return String(f);
}

function floatRows(values: ArrayLike<number>, rows: number, k: number): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const row: string[] = [];
    for (let j = 0; j < k; j++) row.push(float32String(values[r * k + j]));
    out.push(`[${row.join(",")}]`);
  }
  return `[${out.join(",")}]`;
}

function intRows(values: ArrayLike<number>, rows: number, k: number): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    out.push(`[${Array.from({ length: k }, (_, j) => values[r * k + j]).join(",")}]`);
  }
  return `[${out.join(",")}]`;
}

/** The JSON line (without newline) of one example, keys in the order of the module doc. */
export function exampleLine(ex: CondensedExample): string {
  const parts = [
    `"text":${JSON.stringify(ex.text)}`,
    `"ids":[${Array.from(ex.ids).join(",")}]`,
    `"source":${JSON.stringify(ex.source)}`,
    `"weight":${JSON.stringify(ex.weight)}`,
  ];
  if (ex.promptBlock !== undefined) parts.push(`"prompt_block":${ex.promptBlock}`);
  if (ex.initBlock !== undefined) parts.push(`"init_block":${ex.initBlock}`);
  if (ex.meanLogProb !== undefined) parts.push(`"mean_logprob":${float32String(ex.meanLogProb)}`);
  if (ex.soft) {
    const T = ex.ids.length;
    const { k, indices, logits } = ex.soft;
    if (indices.length !== T * k || logits.length !== T * k) {
      throw new Error(`soft targets hold ${indices.length} entries, T·k = ${T}×${k} expected`);
    }
    parts.push(`"soft":{"indices":${intRows(indices, T, k)},"logits":${floatRows(logits, T, k)}}`);
  }
  if (ex.embeds) {
    const { file, offset, shape } = ex.embeds;
    parts.push(
      `"embeds":{"file":${JSON.stringify(file)},"offset":${offset},"shape":[${shape[0]},${
        shape[1]
      }],"dtype":"float32"}`,
    );
  }
  return `{${parts.join(",")}}`;
}

/** The sidecar path of a condensed file. */
export function metaPath(out: string): string {
  return `${out}.meta.json`;
}

/** The embeddings path of a condensed file. */
export function embedsPath(out: string): string {
  return `${out}.embeds.f32`;
}

/** The last path component. */
export function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
}

/**
 * Writes OUT, OUT.embeds.f32 (when `embeds` is given) and OUT.meta.json, each atomically; creates OUT's
 * folder when missing.
 *
 * @param embeds (k, T, C) dm embeddings, or null
 */
export async function writeCondensed(
  out: string,
  examples: CondensedExample[],
  meta: CondenseMeta,
  embeds: Float32Array | null,
): Promise<void> {
  const slash = Math.max(out.lastIndexOf("/"), out.lastIndexOf("\\"));
  if (slash > 0) await Deno.mkdir(out.slice(0, slash), { recursive: true });
  if (embeds) {
    const bytes = new Uint8Array(embeds.byteLength);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < embeds.length; i++) view.setFloat32(4 * i, embeds[i], true);
    await writeFileAtomic(embedsPath(out), bytes);
  }
  await writeFileAtomic(out, examples.map((e) => exampleLine(e) + "\n").join(""));
  await writeFileAtomic(metaPath(out), JSON.stringify(meta, null, 2) + "\n");
}
