/**
 * The model-free block embedding: TF-IDF over token ids, reduced to a few hundred dense dimensions by a
 * seeded random projection.
 *
 * For n blocks of T tokens over a vocabulary of V ids:
 * - df[id] = number of blocks that contain id; idf[id] = ln((1 + n) / (1 + df[id])) + 1 (scikit-learn's
 *   smooth idf, so an id in every block still counts a little).
 * - tf = 1 + ln(count) (sublinear: a token repeated 20 times is not 20 times as telling), x = tf·idf,
 *   L2-normalised: a sparse V-dimensional bag-of-tokens vector.
 * - y = R·x with R (D, V) a random sign matrix, entries ±1/√D (Achlioptas' projection: dot products, and
 *   so cosine similarities, are preserved in expectation; D = 256 keeps them within a few percent). Each
 *   column of R is drawn from its own `Rng` seeded by (projectionSeed, id), so only the ids that occur are
 *   ever generated and the result does not depend on V or on block order.
 * - y is L2-normalised again, so Euclidean k-means on y clusters by cosine similarity.
 *
 * @module
 */
import { Rng } from "../rng.ts";

/** Options of {@link tfidfEmbeddings}. */
export interface TfidfOptions {
  /** D: output dimensions (default 256). */
  dims?: number;
  /** Seed of the projection matrix (default 0; independent of the condensation seed on purpose). */
  projectionSeed?: number;
}

/** Default D of the projection. */
export const TFIDF_DIMS = 256;

/**
 * Inverse document frequencies of every id that occurs, over the blocks.
 *
 * @param blocks (n, T) token ids
 * @returns id → idf, for the ids that occur
 */
export function inverseDocumentFrequency(blocks: Uint32Array, T: number): Map<number, number> {
  const n = blocks.length / T;
  const df = new Map<number, number>();
  const seen = new Set<number>();
  for (let b = 0; b < n; b++) {
    seen.clear();
    for (let t = 0; t < T; t++) {
      const id = blocks[b * T + t];
      if (seen.has(id)) continue;
      seen.add(id);
      df.set(id, (df.get(id) ?? 0) + 1);
    }
  }
  const idf = new Map<number, number>();
  for (const [id, d] of df) idf.set(id, Math.log((1 + n) / (1 + d)) + 1);
  return idf;
}

/**
 * One column of the projection: D signs ±1/√D for token `id`.
 *
 * @returns (D)
 */
export function projectionColumn(id: number, dims: number, projectionSeed: number): Float32Array {
  // Mix the id and the seed so that neighbouring ids get unrelated streams.
  const rng = new Rng((Math.imul(id + 1, 0x9e3779b1) ^ Math.imul(projectionSeed + 1, 0x85ebca6b)) >>> 0);
  const scale = 1 / Math.sqrt(dims);
  const col = new Float32Array(dims);
  for (let d = 0; d < dims; d += 32) {
    const bits = rng.nextU32();
    for (let j = 0; j < 32 && d + j < dims; j++) col[d + j] = (bits >>> j) & 1 ? scale : -scale;
  }
  return col;
}

/**
 * TF-IDF embeddings of token blocks, projected to D dimensions and L2-normalised (see the module doc).
 * Deterministic for a projection seed.
 *
 * @param blocks (n, T) token ids
 * @returns (n, D) row-major
 *
 * @example
 * ```ts
 * const emb = tfidfEmbeddings(blocks, 128); // (n, 256)
 * ```
 */
export function tfidfEmbeddings(blocks: Uint32Array, T: number, options: TfidfOptions = {}): Float32Array {
  const D = options.dims ?? TFIDF_DIMS;
  const seed = options.projectionSeed ?? 0;
  if (!Number.isInteger(T) || T < 1) throw new Error(`block size T must be a positive integer, got ${T}`);
  if (blocks.length % T !== 0) {
    throw new Error(`blocks hold ${blocks.length} ids, not a multiple of T = ${T}`);
  }
  if (!Number.isInteger(D) || D < 1) throw new Error(`TF-IDF dims must be a positive integer, got ${D}`);
  const n = blocks.length / T;
  const idf = inverseDocumentFrequency(blocks, T);
  const columns = new Map<number, Float32Array>();
  for (const id of idf.keys()) columns.set(id, projectionColumn(id, D, seed));
  const out = new Float32Array(n * D);
  const counts = new Map<number, number>();
  const y = new Float64Array(D);
  for (let b = 0; b < n; b++) {
    counts.clear();
    for (let t = 0; t < T; t++) {
      const id = blocks[b * T + t];
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    // Ids in ascending order: the float sums below then do not depend on the order tokens appear in.
    const ids = [...counts.keys()].sort((a, c) => a - c);
    let norm2 = 0;
    const weights = ids.map((id) => {
      const w = (1 + Math.log(counts.get(id)!)) * idf.get(id)!;
      norm2 += w * w;
      return w;
    });
    y.fill(0);
    for (let i = 0; i < ids.length; i++) {
      const col = columns.get(ids[i])!;
      const w = weights[i];
      for (let d = 0; d < D; d++) y[d] += w * col[d];
    }
    let ynorm2 = 0;
    for (let d = 0; d < D; d++) ynorm2 += y[d] * y[d];
    // x is normalised (÷ √norm2) and then y is too, so only y's own norm matters for the result.
    const inv = ynorm2 > 0 && norm2 > 0 ? 1 / Math.sqrt(ynorm2) : 0;
    for (let d = 0; d < D; d++) out[b * D + d] = y[d] * inv;
  }
  return out;
}
