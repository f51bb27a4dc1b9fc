/**
 * k-means over block embeddings, keeping real blocks: our own seeded k-means++ seeding on Float32Arrays
 * (ml-kmeans' built-in one is far too slow at this size), Lloyd iterations by ml-kmeans from those
 * centroids, then for every cluster the member block nearest its centroid as the representative, weighted
 * by the cluster's size. Centroids themselves are never returned as examples.
 *
 * Empty clusters (rare with k-means++ seeds) are refilled after ml-kmeans: the block farthest from its own
 * centroid, among clusters with more than one member, moves into the empty cluster and becomes its
 * representative. So there are always exactly k distinct representatives and the weights (cluster sizes)
 * sum to n.
 *
 * @module
 */
import { kmeans } from "ml-kmeans";
import { Rng } from "../rng.ts";

/** Options of {@link clusterBlocks}. */
export interface ClusterOptions {
  /** Seed of the k-means++ draws. */
  seed: number;
  /** Most Lloyd iterations (default 100; ml-kmeans stops earlier once the centroids stop moving). */
  maxIterations?: number;
  /** Convergence: every centroid moved less than this squared distance (default 1e-6, ml-kmeans'). */
  tolerance?: number;
}

/** The result of {@link clusterBlocks}. */
export interface ClusterResult {
  /** (k) block index of each cluster's representative (the member nearest the centroid), by cluster. */
  representatives: number[];
  /** (k) cluster sizes, summing to n. */
  weights: number[];
  /** (n) the cluster of every block. */
  assignments: Int32Array;
  /** (k, D) final centroids. */
  centroids: Float32Array;
  /** (k) block indices chosen by the k-means++ seeding. */
  seeds: number[];
  /** Lloyd iterations ml-kmeans ran. */
  iterations: number;
  converged: boolean;
  /** Σ over blocks of the squared distance to their centroid. */
  inertia: number;
}

/** Squared Euclidean distance between row i of `a` and row j of `b`, both (·, D). */
function dist2(a: Float32Array, i: number, b: Float32Array, j: number, D: number): number {
  let s = 0;
  const ai = i * D;
  const bj = j * D;
  for (let d = 0; d < D; d++) {
    const x = a[ai + d] - b[bj + d];
    s += x * x;
  }
  return s;
}

/**
 * k-means++ seeding (Arthur & Vassilvitskii 2007): the first seed uniform, each next one drawn with
 * probability proportional to its squared distance to the nearest seed so far. O(k·n·D) with one pass per
 * seed over a running minimum. Blocks identical to a seed have weight 0 and are never drawn twice, unless
 * fewer than k distinct blocks exist (then the lowest unused index is taken).
 *
 * @param data (n, D)
 * @returns (k) distinct block indices
 */
export function kmeansPlusPlus(data: Float32Array, n: number, D: number, k: number, rng: Rng): number[] {
  if (data.length !== n * D) throw new Error(`data holds ${data.length} floats, not n·D = ${n}×${D}`);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`k must be in 1 … ${n}, got ${k}`);
  const seeds = [rng.int(n)];
  const chosen = new Uint8Array(n);
  chosen[seeds[0]] = 1;
  const best = new Float64Array(n).fill(Infinity);
  while (seeds.length < k) {
    const last = seeds[seeds.length - 1];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = chosen[i] ? 0 : dist2(data, i, data, last, D);
      if (d < best[i]) best[i] = d;
      total += best[i];
    }
    let pick = -1;
    if (total > 0) {
      let u = rng.next() * total;
      for (let i = 0; i < n; i++) {
        if (best[i] === 0) continue;
        pick = i;
        u -= best[i];
        if (u < 0) break;
      }
    }
    if (pick < 0) pick = chosen.indexOf(0); // every block coincides with a seed
    chosen[pick] = 1;
    seeds.push(pick);
  }
  return seeds;
}

/**
 * Clusters n embeddings into k clusters and returns one real block per cluster (see the module doc).
 * Deterministic for a seed.
 *
 * @param data (n, D) embeddings, row-major
 *
 * @example
 * ```ts
 * const { representatives, weights } = clusterBlocks(emb, n, 256, 120, { seed: 0 });
 * ```
 */
export function clusterBlocks(
  data: Float32Array,
  n: number,
  D: number,
  k: number,
  options: ClusterOptions,
): ClusterResult {
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
  if (k > n) throw new Error(`k = ${k} is larger than the number of blocks (${n})`);
  const seeds = kmeansPlusPlus(data, n, D, k, new Rng(options.seed));
  const rows: number[][] = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = Array.from(data.subarray(i * D, (i + 1) * D));
  const result = kmeans(rows, k, {
    initialization: seeds.map((i) => rows[i].slice()),
    maxIterations: options.maxIterations ?? 100,
    tolerance: options.tolerance ?? 1e-6,
  });
  const centroids = new Float32Array(k * D);
  result.centroids.forEach((c, j) => centroids.set(c, j * D));
  const assignments = Int32Array.from(result.clusters);
  fillEmptyClusters(data, D, k, assignments, centroids);
  const representatives = new Array<number>(k).fill(-1);
  const bestDist = new Float64Array(k).fill(Infinity);
  const weights = new Array<number>(k).fill(0);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const j = assignments[i];
    const d = dist2(data, i, centroids, j, D);
    inertia += d;
    weights[j]++;
    // Strictly nearer: ties keep the lower block index.
    if (d < bestDist[j]) {
      bestDist[j] = d;
      representatives[j] = i;
    }
  }
  return {
    representatives,
    weights,
    assignments,
    centroids,
    seeds,
    iterations: result.iterations,
    converged: result.converged,
    inertia,
  };
}

/**
 * Moves blocks into empty clusters: each empty cluster takes the block farthest from its centroid among
 * clusters of more than one member, and is centred on it.
 */
function fillEmptyClusters(
  data: Float32Array,
  D: number,
  k: number,
  assignments: Int32Array,
  centroids: Float32Array,
): void {
  const n = assignments.length;
  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) sizes[assignments[i]]++;
  for (let j = 0; j < k; j++) {
    if (sizes[j] > 0) continue;
    let far = -1;
    let farDist = -1;
    for (let i = 0; i < n; i++) {
      if (sizes[assignments[i]] < 2) continue;
      const d = dist2(data, i, centroids, assignments[i], D);
      if (d > farDist) {
        farDist = d;
        far = i;
      }
    }
    sizes[assignments[far]]--;
    assignments[far] = j;
    sizes[j] = 1;
    centroids.set(data.subarray(far * D, (far + 1) * D), j * D);
  }
}
