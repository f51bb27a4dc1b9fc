/**
 * The condensation pipeline on a small corpus (CPU methods): exactly k examples, provenance back to the
 * blocks, weights summing to the number of blocks, byte-identical output for a seed, the sidecar, and
 * one-line errors for bad input before any work (and before any file is written).
 */
import assert from "node:assert/strict";
import { condense, type CondenseOptions } from "../../lib/condense/condense.ts";
import { metaPath } from "../../lib/condense/output.ts";
import { loadBlocks } from "../../lib/data/dataset.ts";
import { gpt2Tokenizer } from "../../lib/data/tokenizer.ts";
import { exportOnnx } from "../../lib/onnx/export.ts";
import { options, readJsonl, tinyModelDir, topicCorpus, workspace } from "./_helpers.ts";

const T = 16;

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Checks k lines that each are a real block of the corpus with its decoded text; returns the lines. */
async function checkRealExamples(o: CondenseOptions): Promise<Record<string, unknown>[]> {
  const tokenizer = await gpt2Tokenizer();
  const blocks = await loadBlocks(o.data, o.split, tokenizer, o.seq, o.cacheDir);
  const nBlocks = blocks.length / o.seq;
  const lines = await readJsonl(o.out);
  assert.equal(lines.length, o.k);
  const sources = new Set<number>();
  let weights = 0;
  for (const line of lines) {
    assert.deepEqual(Object.keys(line).slice(0, 4), ["text", "ids", "source", "weight"]);
    const b = line.source as number;
    assert.ok(Number.isInteger(b) && b >= 0 && b < nBlocks, `source ${b}`);
    assert.deepEqual(line.ids, Array.from(blocks.subarray(b * o.seq, (b + 1) * o.seq)), `ids of block ${b}`);
    assert.equal(line.text, tokenizer.decode(line.ids as number[]));
    sources.add(b);
    weights += line.weight as number;
  }
  assert.equal(sources.size, o.k, "distinct blocks");
  assert.ok(Math.abs(weights - nBlocks) < 1e-9, `weights sum to ${weights}, blocks ${nBlocks}`);
  return lines;
}

Deno.test("condense() kmeans/tfidf writes exactly k real blocks whose weights sum to the block count", async () => {
  const ws = await workspace(topicCorpus(160));
  try {
    const o = options(ws.data, ws.out, ws.cache, { seq: T, k: 9, method: "kmeans", embed: "tfidf", seed: 2 });
    const summary = await condense(o);
    assert.equal(summary.examples, 9);
    const lines = await checkRealExamples(o);
    assert.ok(lines.every((l) => Number.isInteger(l.weight) && (l.weight as number) >= 1), "cluster sizes");
    const meta = JSON.parse(await Deno.readTextFile(metaPath(ws.out)));
    assert.equal(meta.method, "kmeans");
    assert.equal(meta.k, 9);
    assert.equal(meta.n_blocks, summary.nBlocks);
    assert.equal(meta.weights_sum, summary.nBlocks);
    assert.equal(meta.kmeans.embed, "tfidf");
    for (const key of ["load_ms", "embed_ms", "cluster_ms", "total_ms"]) {
      assert.ok(typeof meta.timings[key] === "number", `timings.${key}`);
    }
  } finally {
    await Deno.remove(ws.dir, { recursive: true });
  }
});

Deno.test("condense() gives byte-identical files for the same seed and different ones for another seed", async () => {
  const ws = await workspace(topicCorpus(160));
  try {
    for (const method of ["kmeans", "random"] as const) {
      const o = options(ws.data, ws.out, ws.cache, { seq: T, k: 7, method, seed: 5 });
      await condense(o);
      const first = await Deno.readFile(ws.out);
      await condense(o);
      assert.deepEqual(await Deno.readFile(ws.out), first, `${method}: same seed, same bytes`);
      await condense({ ...o, seed: 6 });
      assert.notDeepEqual(await Deno.readFile(ws.out), first, `${method}: another seed`);
    }
  } finally {
    await Deno.remove(ws.dir, { recursive: true });
  }
});

Deno.test("condense() random keeps k distinct blocks in block order, each of weight nBlocks / k", async () => {
  const ws = await workspace(topicCorpus(120));
  try {
    const o = options(ws.data, ws.out, ws.cache, { seq: T, k: 11, method: "random", seed: 1 });
    const { nBlocks } = await condense(o);
    const lines = await checkRealExamples(o);
    const sources = lines.map((l) => l.source as number);
    assert.deepEqual(sources, [...sources].sort((a, b) => a - b));
    assert.ok(lines.every((l) => l.weight === nBlocks / 11));
  } finally {
    await Deno.remove(ws.dir, { recursive: true });
  }
});

Deno.test("condense() kmeans picks blocks from every topic of a four-topic corpus", async () => {
  // One topic per paragraph and 16-token blocks: most blocks hold one topic's words, so four clusters
  // should take one block from each topic.
  const ws = await workspace(topicCorpus(200));
  try {
    const o = options(ws.data, ws.out, ws.cache, { seq: T, k: 4, method: "kmeans", seed: 0 });
    await condense(o);
    const lines = await readJsonl(ws.out);
    const keywords = ["river", "violin", "rocket", "soup"];
    const dominant = lines.map((l) => {
      const text = l.text as string;
      const counts = [
        ["river", "mill", "water", "fish", "wheel"],
        ["orchestra", "symphony", "violin", "movement"],
        ["rocket", "engine", "fuel", "orbit", "launch"],
        ["chef", "soup", "pepper", "basil", "bread"],
      ].map((words) => words.filter((w) => text.includes(w)).length);
      return keywords[counts.indexOf(Math.max(...counts))];
    });
    assert.deepEqual([...dominant].sort(), [...keywords].sort(), `dominant topics ${dominant}`);
  } finally {
    await Deno.remove(ws.dir, { recursive: true });
  }
});

/** Asserts a one-line rejection matching `re` and that no output file was written. */
async function rejects(o: CondenseOptions, re: RegExp): Promise<void> {
  await assert.rejects(condense(o), (e: Error) => {
    assert.match(e.message, re);
    assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
    return true;
  });
  assert.ok(!(await exists(o.out)), "no output written");
}

Deno.test("condense() rejects bad input with one-line errors before any work", async () => {
  const ws = await workspace(topicCorpus(20));
  const model = await tinyModelDir({ vocab_size: 211 });
  try {
    const base = options(ws.data, ws.out, ws.cache, { seq: T, k: 3 });
    const tokenizer = await gpt2Tokenizer();
    const nBlocks = (await loadBlocks(ws.data, "train", tokenizer, T, ws.cache)).length / T;
    await rejects(
      { ...base, k: nBlocks + 1 },
      new RegExp(`k = ${nBlocks + 1} is larger than the number of 16-token blocks .* \\(${nBlocks}\\)`),
    );
    await Deno.writeTextFile(`${ws.dir}/empty.txt`, "");
    await rejects({ ...base, data: `${ws.dir}/empty.txt` }, /has no text/);
    await Deno.writeTextFile(`${ws.dir}/short.txt`, "only a few words");
    await rejects({ ...base, data: `${ws.dir}/short.txt` }, /fewer than one block of 16/);
    await rejects({ ...base, data: `${ws.dir}/missing.txt` }, /dataset not found/);
    await rejects({ ...base, k: 0 }, /k must be an integer ≥ 1/);
    await rejects({ ...base, embed: "model" }, /--embed model needs --model DIR/);
    await rejects({ ...base, embed: "teacher" }, /--embed teacher needs --teacher PATH/);
    await rejects({ ...base, method: "synthetic" }, /--method synthetic needs a teacher/);
    await rejects({ ...base, softTargets: 4 }, /--soft-targets needs a teacher/);
    await rejects({ ...base, model: `${ws.dir}/nope` }, /not found/);
    // The model's vocabulary (211) is not its tokenizer's (GPT-2: 50257).
    await rejects(
      { ...base, model: model.dir, embed: "model" },
      /vocabulary mismatch: the model .* has V = 211, its tokenizer 50257/,
    );
    // A teacher folder whose config.json says V = 211 for a GPT-2 tokenizer (checked before ORT loads).
    await exportOnnx(model.dir, { hidden: true });
    await rejects(
      { ...base, teacher: model.dir, embed: "teacher" },
      /vocabulary mismatch: the teacher has V = 211, the student 50257/,
    );
  } finally {
    await Deno.remove(ws.dir, { recursive: true });
    await Deno.remove(model.dir, { recursive: true });
  }
});
