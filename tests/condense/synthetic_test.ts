/**
 * Synthetic sequences: the steered sampler, the WebGPU language model (top-k logits and cached decoding
 * against the float64 reference), generation (count, prompts, determinism, steering lowers the teacher's
 * log-probability) and the end-to-end `synthetic` method with soft targets.
 */
import assert from "node:assert/strict";
import { condense } from "../../lib/condense/condense.ts";
import { GpuLanguageModel } from "../../lib/condense/lm.ts";
import { generateSynthetic, logProbOf, steeredSample } from "../../lib/condense/synthetic.ts";
import { loadBlocks } from "../../lib/data/dataset.ts";
import { gpt2Tokenizer } from "../../lib/data/tokenizer.ts";
import { IGNORE_INDEX } from "../../lib/data/blocks.ts";
import { GPT2 } from "../../lib/model/gpt2.ts";
import { gpt2ForwardBackwardRef } from "../../lib/ref/gpt2.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, testGpu } from "../_check.ts";
import { options, readJsonl, tinyGpt2, tinyModelDir, topicCorpus, workspace } from "./_helpers.ts";

Deno.test("steeredSample() is greedy at τ = 0, never picks the top token with skip 1, and follows top-k", () => {
  const V = 9;
  const logits = Float32Array.from([0.1, 3, 0.2, 2.5, -1, 0, 2.9, 0.3, 0.4]);
  const rng = new Rng(1);
  assert.equal(steeredSample(logits, V, { temperature: 0, skipTop1: 0, topK: 0 }, rng), 1);
  assert.equal(steeredSample(logits, V, { temperature: 0, skipTop1: 1, topK: 0 }, rng), 6);
  for (let i = 0; i < 200; i++) {
    assert.notEqual(steeredSample(logits, V, { temperature: 1.5, skipTop1: 1, topK: 0 }, rng), 1);
    const id = steeredSample(logits, V, { temperature: 3, skipTop1: 0, topK: 3 }, rng);
    assert.ok([1, 6, 3].includes(id), `top-3 sample ${id}`);
    assert.equal(steeredSample(logits, V, { temperature: 2, skipTop1: 0, topK: 1 }, rng), 1);
  }
  // Empirical frequencies follow softmax(z / τ).
  const tau = 2;
  const counts = new Array(V).fill(0);
  const n = 20000;
  for (let i = 0; i < n; i++) {
    counts[steeredSample(logits, V, { temperature: tau, skipTop1: 0, topK: 0 }, rng)]++;
  }
  const scaled = Float32Array.from(logits, (z) => z / tau);
  for (let v = 0; v < V; v++) {
    const p = Math.exp(logProbOf(scaled, V, v));
    assert.ok(Math.abs(counts[v] / n - p) < 0.015, `token ${v}: ${counts[v] / n} vs ${p}`);
  }
});

Deno.test("GpuLanguageModel top-k and cached decoding match the reference logits (V=97, T=7)", async () => {
  const gpu = await testGpu();
  const m = tinyGpt2({ vocab_size: 97, n_embd: 32, n_layer: 2, n_head: 2 }, 3);
  const model = new GPT2(gpu, m.config, m.params, { training: false });
  const lm = new GpuLanguageModel(model, "test", 2);
  const B = 3, T = 7, V = 97, k = 5;
  const rng = new Rng(4);
  const ids = Uint32Array.from({ length: B * T }, () => rng.int(V));
  const ref =
    gpt2ForwardBackwardRef(m.config, m.layout, m.params, ids, new Array(B * T).fill(IGNORE_INDEX), B, T, {
      backward: false,
    }).logits;
  const top = await lm.topK(ids, B, T, k);
  for (let r = 0; r < B * T; r++) {
    const row = Array.from(ref.subarray(r * V, (r + 1) * V));
    const order = row.map((_, v) => v).sort((a, b) => row[b] - row[a]).slice(0, k);
    assert.deepEqual(Array.from(top.indices.subarray(r * k, (r + 1) * k)), order, `row ${r}`);
    assertClose(
      top.logits.subarray(r * k, (r + 1) * k),
      order.map((v) => row[v]),
      { atol: 1e-4, rtol: 1e-4 },
      `row ${r}`,
    );
  }
  // Decoding: a 2-token prompt, then one token at a time; each step's logits are the reference's at that position.
  const P = 2;
  const prompts = new Uint32Array(B * P);
  for (let b = 0; b < B; b++) prompts.set(ids.subarray(b * T, b * T + P), b * P);
  let logits = await lm.begin(prompts, B, P, T);
  for (let t = P - 1; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const r = b * T + t;
      assertClose(logits.subarray(b * V, (b + 1) * V), ref.subarray(r * V, (r + 1) * V), {
        atol: 1e-4,
        rtol: 1e-4,
      }, `decode t=${t}`);
    }
    if (t + 1 < T) logits = await lm.next(Uint32Array.from({ length: B }, (_, b) => ids[b * T + t + 1]));
  }
});

Deno.test("generateSynthetic() makes k sequences from real prompts, deterministically, and steering lowers log-prob", async () => {
  const gpu = await testGpu();
  // A peaked teacher: plain sampling mostly follows its confident choice.
  const m = tinyGpt2({ vocab_size: 97, n_embd: 32, n_layer: 1, n_head: 2 }, 5, { peaked: true });
  const lm = new GpuLanguageModel(new GPT2(gpu, m.config, m.params, { training: false }), "test");
  const blockT = 12, nBlocks = 10, T = 12, k = 6;
  const rng = new Rng(7);
  const blocks = Uint32Array.from({ length: nBlocks * blockT }, () => rng.int(97));
  const base = { k, T, promptTokens: 2, seed: 3, batch: 4, topK: 0 };
  const plain = await generateSynthetic(lm, blocks, blockT, { ...base, temperature: 1, skipTop1: 0 });
  assert.equal(plain.ids.length, k * T);
  assert.equal(new Set(plain.promptBlocks).size, k, "distinct prompt blocks");
  for (let j = 0; j < k; j++) {
    const b = plain.promptBlocks[j];
    assert.deepEqual(plain.ids.subarray(j * T, j * T + 2), blocks.subarray(b * blockT, b * blockT + 2));
    assert.ok(plain.ids.subarray(j * T, (j + 1) * T).every((id) => id < 97));
  }
  // Same seed, same ids, whatever the batch size.
  const again = await generateSynthetic(lm, blocks, blockT, {
    ...base,
    batch: 6,
    temperature: 1,
    skipTop1: 0,
  });
  assert.deepEqual(again.ids, plain.ids);
  const steered = await generateSynthetic(lm, blocks, blockT, { ...base, temperature: 2, skipTop1: 0.5 });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(
    mean(steered.meanLogProbs) < mean(plain.meanLogProbs) - 0.5,
    `steered ${mean(steered.meanLogProbs)} vs plain ${mean(plain.meanLogProbs)}`,
  );
  // The reported log-probabilities are the teacher's: recompute them from the reference.
  const ids = plain.ids;
  const ref =
    gpt2ForwardBackwardRef(m.config, m.layout, m.params, ids, new Array(k * T).fill(IGNORE_INDEX), k, T, {
      backward: false,
    }).logits;
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let t = 2; t < T; t++) {
      s += logProbOf(ref.subarray((j * T + t - 1) * 97, (j * T + t) * 97), 97, ids[j * T + t]);
    }
    assert.ok(Math.abs(s / (T - 2) - plain.meanLogProbs[j]) < 1e-3, `sequence ${j}`);
  }
});

Deno.test("condense() synthetic writes k steered sequences with soft targets, byte-identical for a seed", async () => {
  const gpu = await testGpu();
  const ws = await workspace(topicCorpus(30));
  // The GPT-2 vocabulary, so that the model folder's (built-in) tokenizer matches it.
  const model = await tinyModelDir({ vocab_size: 50257, n_embd: 16, n_head: 2, n_positions: 16 }, 2);
  try {
    const T = 8, k = 3, N = 4;
    const o = options(ws.data, ws.out, ws.cache, {
      seq: T,
      k,
      method: "synthetic",
      model: model.dir,
      softTargets: N,
      seed: 9,
      gpu,
    });
    const { nBlocks } = await condense(o);
    const first = await Deno.readFile(ws.out);
    const lines = await readJsonl(ws.out);
    assert.equal(lines.length, k);
    const tokenizer = await gpt2Tokenizer();
    const blocks = await loadBlocks(ws.data, "train", tokenizer, T, ws.cache);
    for (const line of lines) {
      assert.equal(line.source, "synthetic");
      assert.equal(line.weight, nBlocks / k);
      const ids = line.ids as number[];
      assert.equal(ids.length, T);
      assert.equal(line.text, tokenizer.decode(ids));
      const b = line.prompt_block as number;
      assert.equal(ids[0], blocks[b * T], "the prompt is the block's first token");
      const soft = line.soft as { indices: number[][]; logits: number[][] };
      assert.equal(soft.indices.length, T);
      assert.ok(soft.indices.every((row) => row.length === N && row.every((v) => v < 50257)));
      assert.ok(
        soft.logits.every((row) => row.length === N && row.every((x, i) => i === 0 || x <= row[i - 1])),
      );
    }
    await condense(o);
    assert.deepEqual(await Deno.readFile(ws.out), first);
  } finally {
    await Deno.remove(ws.dir, { recursive: true });
    await Deno.remove(model.dir, { recursive: true });
  }
});
