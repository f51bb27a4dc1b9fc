/**
 * `condense-compare` on the embedded corpus with tiny settings (a one-layer GPT-2-vocabulary student and
 * teacher, k = 3, one step per arm): every arm runs, the JSON, Markdown table and SVG plot say what was
 * trained and evaluated, a rerun skips finished arms (and redoes a missing one), and a rerun with other
 * settings into the same folder is refused.
 */
import assert from "node:assert/strict";
import {
  COMPARE_DEFAULTS,
  type CompareOptions,
  condenseCompare,
  planArms,
} from "../../lib/condense/compare.ts";
import { readCondensedSet } from "../../lib/condense/condensed_set.ts";
import { testGpu } from "../_check.ts";
import { tinyModelDir } from "./_helpers.ts";

const CONFIG = { vocab_size: 50257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 };

Deno.test("planArms() runs full first and adds a -soft twin of every condensed arm only with a teacher", () => {
  const o = { ...COMPARE_DEFAULTS, warmup: 0, out: "x", data: "d", test: "t" } as CompareOptions;
  assert.deepEqual(planArms(o).map((a) => a.name), [
    "full",
    "kmeans-tfidf",
    "random-s0",
    "random-s1",
    "random-s2",
    "synthetic",
    "dm",
  ]);
  const withTeacher = planArms({ ...o, teacher: "t", seed: 4, seeds: 2, methods: ["random", "kmeans"] });
  assert.deepEqual(withTeacher.map((a) => `${a.name}:${a.seed}:${a.condensed}`), [
    "kmeans-tfidf:4:kmeans-tfidf",
    "kmeans-tfidf-soft:4:kmeans-tfidf",
    "kmeans-model:4:kmeans-model",
    "kmeans-model-soft:4:kmeans-model",
    "random-s4:4:random-s4",
    "random-s4-soft:4:random-s4",
    "random-s5:5:random-s5",
    "random-s5-soft:5:random-s5",
  ]);
});

Deno.test("condense-compare on the embedded corpus writes every arm to results.json/.md and perplexity.svg, and resumes", async () => {
  const gpu = await testGpu();
  const dir = await Deno.makeTempDir({ prefix: "condense-compare-" });
  const teacher = await tinyModelDir(CONFIG, 9, { peaked: true });
  try {
    const config = `${dir}/student.json`;
    await Deno.writeTextFile(config, JSON.stringify(CONFIG));
    const o: CompareOptions = {
      ...COMPARE_DEFAULTS,
      data: "embedded",
      test: "embedded",
      k: 3,
      config,
      steps: 1,
      seq: 16,
      batch: 2,
      warmup: 0,
      teacher: teacher.dir,
      softK: 4,
      dmIterations: 1,
      evalBatch: 4,
      maxEvalTokens: 64,
      out: `${dir}/out`,
      cacheDir: `${dir}/cache`,
      gpu,
    };
    const first = await condenseCompare(o);
    const names = first.arms.map((a) => a.name);
    const condensedArms = [
      "kmeans-tfidf",
      "kmeans-model",
      "random-s0",
      "random-s1",
      "random-s2",
      "synthetic",
      "dm",
    ];
    assert.deepEqual(names, ["full", ...condensedArms.flatMap((a) => [a, `${a}-soft`])]);
    assert.deepEqual(first.skipped, []);
    for (const a of first.arms) {
      assert.ok(Number.isFinite(a.test_ppl) && a.test_ppl > 1, `${a.name}: ppl ${a.test_ppl}`);
      assert.equal(a.steps, 1);
      assert.equal(a.examples, a.name === "full" ? 7628 : 3);
    }
    const random = first.groups.find((g) => g.group === "random")!;
    assert.equal(random.runs, 3);
    assert.ok(random.ppl_sd !== null && random.ppl_sd > 0, "seeded arms spread");
    assert.equal(first.groups.length, 11);

    const results = JSON.parse(await Deno.readTextFile(`${o.out}/results.json`));
    assert.equal(results.arms.length, 15);
    assert.equal(results.eval.tokens_used, 64);
    assert.equal(results.train_data.blocks, 7628);
    const md = await Deno.readTextFile(`${o.out}/results.md`);
    assert.match(md, /Training data: `embedded`/);
    assert.match(md, /Evaluation: `embedded` \(test split.*first 64 of \d+ tokens only/);
    assert.match(md, /Budget: 1 steps × batch 2 × 16 tokens/);
    for (const g of first.groups) assert.ok(md.includes(`| ${g.label} |`), `table row for ${g.label}`);
    assert.match(md, /\| random \| 3 \| 3 \| [\d.]+ ± [\d.]+ \|/);
    const svg = await Deno.readTextFile(`${o.out}/perplexity.svg`);
    assert.ok(svg.startsWith("<svg"), "an SVG document");
    for (const g of first.groups) assert.ok(svg.includes(g.label), `plot label ${g.label}`);
    // Condensed files carry the teacher's soft targets; dm's its embeddings.
    const dm = await readCondensedSet(`${o.out}/condensed/dm.jsonl`);
    assert.ok(dm.soft?.k === 4 && dm.embeds?.C === 16 && dm.count === 3);

    // A rerun skips every finished arm; a missing result is redone.
    await Deno.remove(`${o.out}/arms/random-s1/result.json`);
    const again = await condenseCompare(o);
    assert.deepEqual(again.skipped, names.filter((n) => n !== "random-s1"));
    const redone = again.arms.find((a) => a.name === "random-s1")!;
    assert.equal(redone.test_ppl, first.arms.find((a) => a.name === "random-s1")!.test_ppl);

    await assert.rejects(condenseCompare({ ...o, steps: 2 }), /other settings \("steps"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(teacher.dir, { recursive: true });
  }
});
