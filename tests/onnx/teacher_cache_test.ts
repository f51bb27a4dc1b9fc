/**
 * Teacher outputs without ORT: top-k reduction (order, ties), the renormalised top-k distribution, and
 * the disk cache's round trip and its rejection of entries that do not belong to the batch.
 */
import assert from "node:assert/strict";
import { Rng } from "../../lib/rng.ts";
import {
  reduceForCache,
  type TeacherBatch,
  TeacherCache,
  topKProbabilities,
  topKReduce,
} from "../../lib/onnx/teacher_cache.ts";
import { assertClose } from "../_check.ts";

function randomLogits(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => 8 * rng.next() - 4);
}

Deno.test("topKReduce() keeps the k largest logits by decreasing value, lower id first on ties", () => {
  const rows = new Float32Array([
    0.5,
    2,
    -1,
    2,
    7,
    0, //
    -3,
    -2,
    -1,
    -4,
    -5,
    -6, //
  ]);
  const r = topKReduce(rows, 2, 6, 3);
  assert.deepEqual(Array.from(r.indices), [4, 1, 3, 2, 1, 0]);
  assert.deepEqual(Array.from(r.logits), [7, 2, 2, -1, -2, -3]);
  // Against a full sort on random rows of GPT-2-like width.
  const V = 1000, N = 5, k = 17;
  const logits = randomLogits(N * V, 3);
  const got = topKReduce(logits, N, V, k);
  for (let n = 0; n < N; n++) {
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) =>
      logits[n * V + b] - logits[n * V + a] || a - b
    );
    assert.deepEqual(Array.from(got.indices.subarray(n * k, (n + 1) * k)), order.slice(0, k), `row ${n}`);
  }
  assert.throws(() => topKReduce(rows, 2, 6, 0), /top-k must be in 1 … 6, got 0/);
  assert.throws(() => topKReduce(rows, 3, 6, 2), /not 3×6/);
});

Deno.test("topKProbabilities() renormalises softmax(z/τ) over the kept ids to sum to 1", () => {
  const V = 300, N = 4, k = 10, tau = 0.7;
  const logits = randomLogits(N * V, 9);
  const top = topKReduce(logits, N, V, k);
  const p = topKProbabilities(top, tau);
  for (let n = 0; n < N; n++) {
    // Full softmax at τ in float64, restricted to the kept ids, divided by its mass there.
    const row = Array.from(logits.subarray(n * V, (n + 1) * V));
    const max = Math.max(...row);
    const full = row.map((z) => Math.exp((z - max) / tau));
    const kept = Array.from(top.indices.subarray(n * k, (n + 1) * k), (i) => full[i]);
    const mass = kept.reduce((a, b) => a + b, 0);
    const got = p.subarray(n * k, (n + 1) * k);
    assertClose(got, kept.map((x) => x / mass), { atol: 1e-7, rtol: 1e-6 }, `row ${n}`);
    assertClose([got.reduce((a, b) => a + b, 0)], [1], { atol: 1e-6, rtol: 0 }, `row ${n} sum`);
  }
  // A higher temperature flattens the kept distribution.
  const hot = topKProbabilities(top, 5);
  assert.ok(hot[0] < p[0], "τ = 5 gives the top id less mass than τ = 0.7");
  assert.throws(() => topKProbabilities(top, 0), /temperature must be > 0/);
});

Deno.test("TeacherCache round-trips full logits, top-k and hidden states, and rejects other batches' entries", async () => {
  const root = await Deno.makeTempDir({ prefix: "teacher-cache-test-" });
  try {
    const B = 2, T = 3, V = 50, C = 8;
    const ids = Uint32Array.from([5, 6, 7, 8, 9, 10]);
    const fresh: TeacherBatch = {
      B,
      T,
      V,
      logits: randomLogits(B * T * V, 1),
      hidden: [randomLogits(B * T * C, 2), randomLogits(B * T * C, 3)],
    };
    // Full logits with hidden states.
    const full = new TeacherCache(root, "ab".repeat(32), 0, true);
    assert.equal(await full.get(ids, B, T), null);
    await full.put(ids, reduceForCache(fresh, 0, true));
    const back = (await full.get(ids, B, T))!;
    assert.equal(back.fromCache, true);
    assert.deepEqual(back.logits, fresh.logits);
    assert.deepEqual(back.hidden, fresh.hidden);
    // Other ids or shapes are other entries; the same ids in another order too.
    assert.equal(await full.get(Uint32Array.from([5, 6, 7, 8, 9, 11]), B, T), null);
    assert.equal(await full.get(ids, 3, 2), null);
    // Top-k, no hidden states: a separate key space of the same teacher.
    const top = new TeacherCache(root, "ab".repeat(32), 4, false);
    assert.equal(await top.get(ids, B, T), null);
    await top.put(ids, reduceForCache(fresh, 4, false));
    const t = (await top.get(ids, B, T))!;
    const want = topKReduce(fresh.logits!, B * T, V, 4);
    assert.deepEqual(t.topK, want);
    assert.equal(t.logits, undefined);
    assert.equal(t.hidden, undefined);
    // A truncated file or one whose stored ids differ is a miss, not garbage.
    const path = top.pathFor(ids, B, T);
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 4));
    assert.equal(await top.get(ids, B, T), null);
    bytes[32] ^= 1; // first stored id
    await Deno.writeFile(path, bytes);
    assert.equal(await top.get(ids, B, T), null);
    // Another teacher hash: another folder.
    assert.notEqual(new TeacherCache(root, "cd".repeat(32), 4, false).dir, top.dir);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
