import assert from "node:assert/strict";
import { sampleToken } from "../../lib/generate/sample.ts";
import { Rng } from "../../lib/rng.ts";

const logits = Float32Array.from([1, 3, 2, 0, 2.5, -1]);

function histogram(opts: { temperature: number; topK: number; topP: number }, draws = 20000): number[] {
  const rng = new Rng(11);
  const counts = new Array(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampleToken(logits, logits.length, opts, rng)]++;
  return counts.map((c) => c / draws);
}

function softmax(xs: number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

Deno.test("sampleToken() with temperature 0 is greedy", () => {
  assert.equal(sampleToken(logits, logits.length, { temperature: 0, topK: 0, topP: 1 }, new Rng(1)), 1);
});

Deno.test("sampleToken() follows softmax(logits / temperature)", () => {
  const p = softmax([...logits].map((x) => x / 0.7));
  const h = histogram({ temperature: 0.7, topK: 0, topP: 1 });
  h.forEach((f, i) => assert.ok(Math.abs(f - p[i]) < 0.015, `token ${i}: ${f} vs ${p[i]}`));
});

Deno.test("sampleToken() top-k keeps only the k most likely tokens, renormalised", () => {
  const h = histogram({ temperature: 1, topK: 2, topP: 1 });
  const p = softmax([3, 2.5]);
  assert.ok(Math.abs(h[1] - p[0]) < 0.015 && Math.abs(h[4] - p[1]) < 0.015);
  assert.equal(h[0] + h[2] + h[3] + h[5], 0);
});

Deno.test("sampleToken() top-p keeps the smallest set reaching probability p", () => {
  const p = softmax([...logits]);
  // Sorted: token 1 (p≈0.43), token 4 (≈0.26), token 2 (≈0.16) … p=0.6 keeps tokens 1 and 4.
  assert.ok(p[1] < 0.6 && p[1] + p[4] >= 0.6);
  const h = histogram({ temperature: 1, topK: 0, topP: 0.6 });
  assert.equal(h[0] + h[2] + h[3] + h[5], 0);
  assert.ok(Math.abs(h[1] - p[1] / (p[1] + p[4])) < 0.015);
});

Deno.test("sampleToken() is reproducible for a seed", () => {
  const a = Array.from({ length: 50 }, (_, i) => i).map(() => 0);
  const r1 = new Rng(5);
  const r2 = new Rng(5);
  for (let i = 0; i < a.length; i++) {
    const o = { temperature: 1, topK: 4, topP: 0.9 };
    assert.equal(sampleToken(logits, logits.length, o, r1), sampleToken(logits, logits.length, o, r2));
  }
});
