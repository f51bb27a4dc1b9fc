/**
 * The TF-IDF block embedding: unit rows, determinism, rare tokens outweigh common ones, and the random
 * projection preserves the exact sparse TF-IDF cosine similarities.
 */
import assert from "node:assert/strict";
import { inverseDocumentFrequency, tfidfEmbeddings } from "../../lib/condense/tfidf.ts";
import { Rng } from "../../lib/rng.ts";

/** Cosine similarity of rows i and j of an (n, D) matrix. */
function cosine(x: Float32Array, D: number, i: number, j: number): number {
  let dot = 0, a = 0, b = 0;
  for (let d = 0; d < D; d++) {
    dot += x[i * D + d] * x[j * D + d];
    a += x[i * D + d] ** 2;
    b += x[j * D + d] ** 2;
  }
  return dot / Math.sqrt(a * b);
}

/** The exact sparse TF-IDF vectors (sublinear tf, smooth idf), written independently of the projection. */
function exactTfidf(blocks: Uint32Array, T: number): Map<number, number>[] {
  const n = blocks.length / T;
  const df = new Map<number, number>();
  const counts: Map<number, number>[] = [];
  for (let b = 0; b < n; b++) {
    const c = new Map<number, number>();
    for (let t = 0; t < T; t++) c.set(blocks[b * T + t], (c.get(blocks[b * T + t]) ?? 0) + 1);
    for (const id of c.keys()) df.set(id, (df.get(id) ?? 0) + 1);
    counts.push(c);
  }
  return counts.map((c) => {
    const v = new Map<number, number>();
    for (const [id, k] of c) v.set(id, (1 + Math.log(k)) * (Math.log((1 + n) / (1 + df.get(id)!)) + 1));
    return v;
  });
}

function sparseCosine(a: Map<number, number>, b: Map<number, number>): number {
  let dot = 0, na = 0, nb = 0;
  for (const [id, w] of a) {
    na += w * w;
    dot += w * (b.get(id) ?? 0);
  }
  for (const w of b.values()) nb += w * w;
  return dot / Math.sqrt(na * nb);
}

Deno.test("tfidfEmbeddings() gives unit rows, equal rows for equal blocks, and is deterministic", () => {
  const T = 7;
  const rng = new Rng(5);
  const blocks = Uint32Array.from({ length: 9 * T }, () => rng.int(50));
  blocks.set(blocks.subarray(0, T), 4 * T); // block 4 = block 0
  const D = 24;
  const a = tfidfEmbeddings(blocks, T, { dims: D });
  const b = tfidfEmbeddings(blocks, T, { dims: D });
  assert.deepEqual(a, b);
  assert.equal(a.length, 9 * D);
  for (let i = 0; i < 9; i++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += a[i * D + d] ** 2;
    assert.ok(Math.abs(s - 1) < 1e-5, `row ${i} has squared norm ${s}`);
  }
  assert.deepEqual(a.subarray(4 * D, 5 * D), a.subarray(0, D));
  // A different projection seed gives a different embedding.
  assert.notDeepEqual(tfidfEmbeddings(blocks, T, { dims: D, projectionSeed: 1 }), a);
  // The order of tokens inside a block does not matter (a bag of tokens).
  const shuffled = blocks.slice();
  shuffled.subarray(2 * T, 3 * T).reverse();
  assert.deepEqual(
    tfidfEmbeddings(shuffled, T, { dims: D }).subarray(2 * D, 3 * D),
    a.subarray(2 * D, 3 * D),
  );
});

Deno.test("tfidfEmbeddings() weighs a shared rare token above a shared common token", () => {
  // Token 0 is in five of six blocks (idf ≈ 1.15); token 5 only in blocks 0 and 2 (idf ≈ 1.85). Block 0
  // shares exactly one token with block 1 (0) and one with block 2 (5).
  const T = 4;
  const blocks = Uint32Array.from([
    [0, 5, 20, 21],
    [0, 6, 22, 23],
    [1, 5, 24, 25],
    [0, 2, 3, 4],
    [0, 7, 8, 9],
    [0, 10, 11, 12],
  ].flat());
  const idf = inverseDocumentFrequency(blocks, T);
  assert.ok(idf.get(5)! > idf.get(0)!, "a rare token has the larger idf");
  const D = 4096; // a wide projection: sign noise ~1/√D
  const e = tfidfEmbeddings(blocks, T, { dims: D });
  const withRare = cosine(e, D, 0, 2);
  const withCommon = cosine(e, D, 0, 1);
  assert.ok(withRare > withCommon + 0.1, `rare ${withRare} vs common ${withCommon}`);
});

Deno.test("tfidfEmbeddings() preserves the exact TF-IDF cosine similarities", () => {
  const T = 31;
  const n = 13;
  const rng = new Rng(11);
  // Zipf-like ids, so blocks overlap by different amounts.
  const blocks = Uint32Array.from({ length: n * T }, () => Math.floor(60 * rng.next() ** 3));
  const D = 2048;
  const e = tfidfEmbeddings(blocks, T, { dims: D });
  const exact = exactTfidf(blocks, T);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      worst = Math.max(worst, Math.abs(cosine(e, D, i, j) - sparseCosine(exact[i], exact[j])));
    }
  }
  // JL: the error of a projected cosine is O(1/√D) ≈ 0.02 per pair; 78 pairs stay within 0.1.
  assert.ok(worst < 0.1, `largest cosine error ${worst}`);
});

Deno.test("tfidfEmbeddings() rejects bad shapes", () => {
  assert.throws(() => tfidfEmbeddings(new Uint32Array(10), 3), /not a multiple of T = 3/);
  assert.throws(() => tfidfEmbeddings(new Uint32Array(9), 3, { dims: 0 }), /dims must be a positive integer/);
});
