/**
 * Teacher outputs for distillation: top-k reduction of logits, the renormalised top-k distribution, and
 * a disk cache of teacher batches keyed by (teacher file hash, batch ids).
 *
 * Top-k renormalisation: a top-k entry keeps the k largest raw logits z of a position and their token
 * ids (ties: the lower id first; the order is by decreasing logit). At temperature τ the kept
 * probabilities are renormalised to sum to 1 over the top-k:
 *   p_i = exp((z_i − z_max)/τ) / Σ_{j ∈ top-k} exp((z_j − z_max)/τ),
 * which equals the full softmax(z/τ) restricted to the kept ids and divided by its mass there. The
 * choice of the k ids does not depend on τ > 0, so one cached entry serves every temperature.
 *
 * Cache file (little-endian), one per batch, at DIR/<teacher hash>/<key>.bin:
 *   magic "GPT2TCH1" | u32 B | u32 T | u32 V | u32 k (0 = full logits) | u32 nHidden | u32 C
 *   | u32 ids (B·T) | full: f32 logits (B·T·V) · top-k: u32 indices (B·T·k), f32 logits (B·T·k)
 *   | f32 hidden (nHidden × B·T·C).
 * The key hashes B, T, k, whether hidden states are kept and the ids; the stored ids are compared on
 * read, and a file of the wrong size or contents counts as a miss (it is rewritten), so a stale or
 * truncated file is never used.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { writeFileAtomic } from "../io/atomic.ts";

/** The k largest logits of each position. */
export interface TopKLogits {
  k: number;
  /** (B, T, k) token ids, by decreasing logit. */
  indices: Uint32Array;
  /** (B, T, k) the raw logits of those ids. */
  logits: Float32Array;
}

/** One batch of teacher outputs: full logits or top-k, and optionally the hidden states. */
export interface TeacherBatch {
  B: number;
  T: number;
  V: number;
  /** (B, T, V) full logits; absent in top-k mode. */
  logits?: Float32Array;
  /** Top-k logits; present in top-k mode. */
  topK?: TopKLogits;
  /** L+1 × (B, T, C) hidden states (HF's output_hidden_states), when asked for. */
  hidden?: Float32Array[];
  /** Whether the batch came from the disk cache. */
  fromCache?: boolean;
}

const MAGIC = "GPT2TCH1";
const HEADER_BYTES = 8 + 6 * 4;

/**
 * The k largest logits of each of `rows` rows of width V, by decreasing value (ties: lower id first).
 *
 * @param logits (rows, V)
 */
export function topKReduce(logits: Float32Array, rows: number, V: number, k: number): TopKLogits {
  if (!Number.isInteger(k) || k < 1 || k > V) throw new Error(`top-k must be in 1 … ${V}, got ${k}`);
  if (logits.length !== rows * V) throw new Error(`logits hold ${logits.length} floats, not ${rows}×${V}`);
  const indices = new Uint32Array(rows * k);
  const values = new Float32Array(rows * k);
  // Per row: a sorted buffer of the best k so far (insertion; k is small next to V).
  const bestV = new Float32Array(k);
  const bestI = new Uint32Array(k);
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * V, (r + 1) * V);
    let n = 0;
    for (let v = 0; v < V; v++) {
      const x = row[v];
      // Strictly greater than the current k-th: an equal later id never displaces an earlier one.
      if (n === k && !(x > bestV[k - 1])) continue;
      let j = n < k ? n++ : k - 1;
      while (j > 0 && x > bestV[j - 1]) {
        bestV[j] = bestV[j - 1];
        bestI[j] = bestI[j - 1];
        j--;
      }
      bestV[j] = x;
      bestI[j] = v;
    }
    values.set(bestV, r * k);
    indices.set(bestI, r * k);
  }
  return { k, indices, logits: values };
}

/**
 * The renormalised top-k distribution at temperature τ > 0 (see the module doc): (B, T, k)
 * probabilities aligned with `topK.indices`, each position summing to 1.
 */
export function topKProbabilities(topK: TopKLogits, temperature: number): Float32Array {
  if (!(temperature > 0)) throw new Error(`temperature must be > 0, got ${temperature}`);
  const { k, logits } = topK;
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / k; r++) {
    const base = r * k;
    const max = logits[base]; // the first entry is the largest
    let sum = 0;
    for (let i = 0; i < k; i++) sum += Math.exp((logits[base + i] - max) / temperature);
    for (let i = 0; i < k; i++) out[base + i] = Math.exp((logits[base + i] - max) / temperature) / sum;
  }
  return out;
}

/** SHA-256 (hex) of files streamed in order: the cache's teacher identity (model + external data). */
export async function hashFiles(paths: string[]): Promise<string> {
  const hash = createHash("sha256");
  for (const path of paths) {
    using file = await Deno.open(path, { read: true });
    const buf = new Uint8Array(1 << 22);
    while (true) {
      const n = await file.read(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
    }
  }
  return hash.digest("hex");
}

/** A disk cache of teacher batches for one teacher (identified by its file hash). */
export class TeacherCache {
  readonly dir: string;
  /** 0: full logits; k > 0: top-k. */
  readonly topK: number;
  readonly hidden: boolean;

  /** @param root cache folder; entries go to root/<first 16 hex digits of teacherHash>/ */
  constructor(root: string, teacherHash: string, topK: number, hidden: boolean) {
    if (!Number.isInteger(topK) || topK < 0) {
      throw new Error(`cache top-k must be an integer ≥ 0, got ${topK}`);
    }
    this.dir = `${root}/${teacherHash.slice(0, 16)}`;
    this.topK = topK;
    this.hidden = hidden;
  }

  /** The entry's file path for ids (B, T). */
  pathFor(ids: Uint32Array, B: number, T: number): string {
    const h = createHash("sha256");
    h.update(`B=${B};T=${T};k=${this.topK};hidden=${this.hidden};`);
    h.update(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength));
    return `${this.dir}/${h.digest("hex").slice(0, 32)}.bin`;
  }

  /** The cached batch for ids (B, T), or null (absent, or not a valid entry for them). */
  async get(ids: Uint32Array, B: number, T: number): Promise<TeacherBatch | null> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(this.pathFor(ids, B, T));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
    return decodeEntry(bytes, ids, B, T, this.topK, this.hidden);
  }

  /** Stores a batch (full logits, or top-k in top-k mode, as `reduceForCache` makes it). */
  async put(ids: Uint32Array, batch: TeacherBatch): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true });
    await writeFileAtomic(
      this.pathFor(ids, batch.B, batch.T),
      encodeEntry(ids, batch, this.topK, this.hidden),
    );
  }
}

/** Turns a fresh result into what the cache stores: top-k in top-k mode, hidden states only when kept. */
export function reduceForCache(batch: TeacherBatch, topK: number, hidden: boolean): TeacherBatch {
  const out: TeacherBatch = { B: batch.B, T: batch.T, V: batch.V };
  if (topK > 0) {
    out.topK = batch.topK ?? topKReduce(batch.logits!, batch.B * batch.T, batch.V, topK);
  } else out.logits = batch.logits;
  if (hidden) out.hidden = batch.hidden;
  return out;
}

function encodeEntry(ids: Uint32Array, b: TeacherBatch, topK: number, hidden: boolean): Uint8Array {
  const N = b.B * b.T;
  const hiddenStates = hidden ? (b.hidden ?? []) : [];
  const C = hiddenStates.length > 0 ? hiddenStates[0].length / N : 0;
  const payload = topK > 0 ? N * topK * 8 : N * b.V * 4;
  const out = new Uint8Array(HEADER_BYTES + N * 4 + payload + hiddenStates.length * N * C * 4);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const dv = new DataView(out.buffer);
  [b.B, b.T, b.V, topK, hiddenStates.length, C].forEach((x, i) => dv.setUint32(8 + 4 * i, x, true));
  let at = HEADER_BYTES;
  const put = (a: Uint32Array | Float32Array) => {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  };
  put(ids);
  if (topK > 0) {
    if (!b.topK || b.topK.k !== topK) throw new Error(`cache entry needs top-${topK} logits`);
    put(b.topK.indices);
    put(b.topK.logits);
  } else {
    if (!b.logits) throw new Error("cache entry needs full logits");
    put(b.logits);
  }
  for (const h of hiddenStates) put(h);
  return out;
}

function decodeEntry(
  bytes: Uint8Array,
  ids: Uint32Array,
  B: number,
  T: number,
  topK: number,
  hidden: boolean,
): TeacherBatch | null {
  if (bytes.length < HEADER_BYTES || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [b, t, V, k, nHidden, C] = Array.from({ length: 6 }, (_, i) => dv.getUint32(8 + 4 * i, true));
  const N = B * T;
  if (b !== B || t !== T || k !== topK || (nHidden > 0) !== hidden) return null;
  const payload = k > 0 ? N * k * 8 : N * V * 4;
  if (bytes.length !== HEADER_BYTES + N * 4 + payload + nHidden * N * C * 4) return null;
  // Copy to an aligned buffer so typed-array views are possible.
  const body = bytes.slice(HEADER_BYTES).buffer;
  const stored = new Uint32Array(body, 0, N);
  for (let i = 0; i < N; i++) if (stored[i] !== ids[i]) return null;
  let at = N * 4;
  const take = <A extends Uint32Array | Float32Array>(
    make: (buf: ArrayBuffer, off: number, n: number) => A,
    n: number,
  ) => {
    const a = make(body, at, n);
    at += n * 4;
    return a;
  };
  const f32 = (buf: ArrayBuffer, off: number, n: number) => new Float32Array(buf, off, n);
  const u32 = (buf: ArrayBuffer, off: number, n: number) => new Uint32Array(buf, off, n);
  const out: TeacherBatch = { B, T, V, fromCache: true };
  if (k > 0) {
    const indices = take(u32, N * k);
    out.topK = { k, indices, logits: take(f32, N * k) };
  } else out.logits = take(f32, N * V);
  if (nHidden > 0) out.hidden = Array.from({ length: nHidden }, () => take(f32, N * C));
  return out;
}
