import assert from "node:assert/strict";
import { slidingWindows, unigramPerplexity } from "../../lib/eval/perplexity.ts";

/** HF's loop, transcribed: which absolute token positions are scored as targets. */
function hfScored(n: number, maxLength: number, stride: number): number[] {
  const scored: number[] = [];
  let prevEnd = 0;
  for (let begin = 0; begin < n; begin += stride) {
    const end = Math.min(begin + maxLength, n);
    const trgLen = end - prevEnd;
    // labels = input_ids.clone(); labels[:, :-trg_len] = -100; then shifted inside the model.
    const labels: (number | null)[] = [];
    for (let j = begin; j < end; j++) labels.push(j - begin < end - begin - trgLen ? null : j);
    for (let t = 1; t < labels.length; t++) if (labels[t] !== null) scored.push(labels[t]!);
    prevEnd = end;
    if (end === n) break;
  }
  return scored;
}

Deno.test("slidingWindows() scores exactly the tokens HF's perplexity loop scores", () => {
  for (
    const [n, seq, stride] of [[10, 4, 4], [10, 4, 2], [37, 8, 3], [100, 16, 16], [5, 8, 8], [1000, 64, 32]]
  ) {
    const ours: number[] = [];
    for (const w of slidingWindows(n, seq, stride)) {
      assert.ok(w.end - w.begin <= seq);
      for (let j = w.scoreFrom; j < w.end; j++) ours.push(j);
    }
    assert.deepEqual(ours, hfScored(n, seq, stride), `n=${n} seq=${seq} stride=${stride}`);
    // No token is scored twice; with overlapping windows (stride < seq) every token but the first is scored,
    // while non-overlapping windows leave each window's first token unscored, as HF's loop does.
    assert.equal(new Set(ours).size, ours.length);
    if (stride < seq) assert.deepEqual(ours, Array.from({ length: n - 1 }, (_, i) => i + 1));
  }
});

Deno.test("slidingWindows() rejects a stride longer than the window and too-short windows", () => {
  assert.throws(() => slidingWindows(10, 4, 5), /stride/);
  assert.throws(() => slidingWindows(10, 1, 1), /seq/);
});

Deno.test("unigramPerplexity() is exp of the empirical entropy", () => {
  assert.equal(unigramPerplexity([1, 1, 1, 1]), 1);
  assert.ok(Math.abs(unigramPerplexity([1, 2, 3, 4]) - 4) < 1e-12);
  assert.ok(Math.abs(unigramPerplexity([1, 1, 2, 2]) - 2) < 1e-12);
});
