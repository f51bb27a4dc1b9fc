/**
 * k-means condensation on data with obvious clusters: the right clusters, real representatives nearest
 * their centroids, weights that sum to n, distinct seeds, and k = n / duplicate edge cases.
 */
import assert from "node:assert/strict";
import { clusterBlocks, kmeansPlusPlus } from "../../lib/condense/kmeans.ts";
import { Rng } from "../../lib/rng.ts";

/** n points in D dims around `centers` (one blob per center, point i in blob i mod #centers). */
function blobs(n: number, D: number, centers: number, rng: Rng): { data: Float32Array; blob: number[] } {
  const means = Array.from({ length: centers }, () => Array.from({ length: D }, () => 20 * rng.normal()));
  const data = new Float32Array(n * D);
  const blob: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % centers;
    blob.push(c);
    for (let d = 0; d < D; d++) data[i * D + d] = means[c][d] + 0.5 * rng.normal();
  }
  return { data, blob };
}

function dist2(data: Float32Array, i: number, c: Float64Array, D: number): number {
  let s = 0;
  for (let d = 0; d < D; d++) s += (data[i * D + d] - c[d]) ** 2;
  return s;
}

Deno.test("clusterBlocks() finds obvious clusters and keeps the real point nearest each centroid", () => {
  const n = 53, D = 7, k = 5;
  const { data, blob } = blobs(n, D, k, new Rng(2));
  const r = clusterBlocks(data, n, D, k, { seed: 4 });
  assert.equal(r.representatives.length, k);
  assert.equal(new Set(r.representatives).size, k, "distinct representatives");
  assert.equal(r.weights.reduce((a, b) => a + b, 0), n, "weights sum to n");
  // Each cluster is exactly one blob.
  for (let j = 0; j < k; j++) {
    const members = [...r.assignments.keys()].filter((i) => r.assignments[i] === j);
    assert.equal(new Set(members.map((i) => blob[i])).size, 1, `cluster ${j} mixes blobs`);
    assert.equal(members.length, r.weights[j]);
    // The centroid, recomputed from the members, and the member nearest it (over ALL points, too).
    const mean = new Float64Array(D);
    for (const i of members) for (let d = 0; d < D; d++) mean[d] += data[i * D + d] / members.length;
    let nearest = 0;
    for (let i = 1; i < n; i++) if (dist2(data, i, mean, D) < dist2(data, nearest, mean, D)) nearest = i;
    assert.equal(r.representatives[j], nearest, `cluster ${j}`);
  }
  assert.ok(r.converged);
  // Same seed, same result; the representatives are real rows of the data.
  assert.deepEqual(clusterBlocks(data, n, D, k, { seed: 4 }).representatives, r.representatives);
});

Deno.test("kmeansPlusPlus() draws k distinct seeds, one per blob when the blobs are far apart", () => {
  const n = 40, D = 3, k = 4;
  const { data, blob } = blobs(n, D, k, new Rng(8));
  for (let seed = 0; seed < 5; seed++) {
    const seeds = kmeansPlusPlus(data, n, D, k, new Rng(seed));
    assert.equal(new Set(seeds).size, k);
    assert.equal(new Set(seeds.map((i) => blob[i])).size, k, `seed ${seed}: ${seeds}`);
  }
  assert.deepEqual(kmeansPlusPlus(data, n, D, k, new Rng(1)), kmeansPlusPlus(data, n, D, k, new Rng(1)));
});

Deno.test("clusterBlocks() gives k distinct representatives with duplicate points and k = n", () => {
  const D = 2;
  // 6 points, 3 distinct values: k = 4 forces a cluster around a duplicate.
  const data = Float32Array.from([0, 0, 0, 0, 5, 5, 5, 5, 9, 0, 9, 0]);
  const r = clusterBlocks(data, 6, D, 4, { seed: 0 });
  assert.equal(new Set(r.representatives).size, 4);
  assert.equal(r.weights.reduce((a, b) => a + b, 0), 6);
  assert.ok(r.weights.every((w) => w >= 1));
  const all = clusterBlocks(data, 6, D, 6, { seed: 1 });
  assert.deepEqual([...all.representatives].sort(), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(all.weights, [1, 1, 1, 1, 1, 1]);
});

Deno.test("clusterBlocks() rejects k larger than the number of blocks", () => {
  assert.throws(
    () => clusterBlocks(new Float32Array(6), 3, 2, 4, { seed: 0 }),
    /k = 4 is larger than the number of blocks \(3\)/,
  );
});
