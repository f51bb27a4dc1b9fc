/**
 * `deno task compare` on tiny models: one JSON object (or Markdown table) with the right parameter counts,
 * file sizes, positive speeds and the perplexity the library computes, exporting to ONNX into the cache
 * folder only.
 */
import assert from "node:assert/strict";
import { loadTokens } from "../../lib/data/dataset.ts";
import { loadTokenizerFor } from "../../lib/data/tokenizer.ts";
import { markdownTable } from "../../lib/distill/compare.ts";
import { perplexity } from "../../lib/eval/perplexity.ts";
import { validateConfig } from "../../lib/model/config.ts";
import { Activations, GPT2 } from "../../lib/model/gpt2.ts";
import { loadModelDir, saveModelDir } from "../../lib/model/model_dir.ts";
import { countParameters, initParams, paramLayout } from "../../lib/model/params.ts";
import { testGpu } from "../_check.ts";
import { type DenoRun, denoRun } from "../_deno_run.ts";

const COMPARE = new URL("../../tasks/compare.ts", import.meta.url).pathname;

async function run(args: string[]): Promise<DenoRun> {
  return await denoRun(["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", COMPARE, ...args]);
}

const TEXT = "The quick brown fox jumps over the lazy dog. A teacher and a student compare their notes.\n";

Deno.test("compare: a teacher and a student in one table, with the library's perplexity and no writes into model folders", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const models: string[] = [];
    for (const [layers, seed] of [[2, 1], [1, 2]]) {
      const config = validateConfig({
        vocab_size: 50257,
        n_positions: 32,
        n_embd: 32,
        n_layer: layers,
        n_head: 2,
      });
      const layout = paramLayout(config);
      const path = `${dir}/m${layers}`;
      await saveModelDir(path, config, layout, initParams(config, layout, seed));
      models.push(path);
    }
    await Deno.writeTextFile(`${dir}/text.txt`, TEXT.repeat(8));
    const common = [
      "--models",
      ...models,
      "--data",
      `${dir}/text.txt`,
      "--seq",
      "16",
      "--stride",
      "8",
      "--bench-runs",
      "1",
      "--cache-dir",
      `${dir}/tokens`,
      "--onnx-cache",
      `${dir}/onnx`,
      "--threads",
      "1",
    ];
    const r = await run([...common, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 1, "one JSON object");
    const json = JSON.parse(lines[0]);
    assert.equal(json.seq, 16);
    assert.equal(json.stride, 8);
    assert.equal(json.rows.length, 2);

    const gpu = await testGpu();
    for (const [i, row] of json.rows.entries()) {
      const path = models[i];
      const m = await loadModelDir(path);
      assert.equal(row.model, path);
      assert.equal(row.params, countParameters(m.config));
      assert.equal(row.file_bytes, (await Deno.stat(`${path}/model.safetensors`)).size);
      assert.ok(row.webgpu_tokens_per_s > 0 && row.onnx_tokens_per_s > 0);
      assert.ok(row.onnx_path.startsWith(`${dir}/onnx/`), row.onnx_path);
      assert.ok(!(await Deno.stat(`${path}/onnx`).then(() => true, () => false)), "model folder untouched");
      const ids = await loadTokens(`${dir}/text.txt`, "test", await loadTokenizerFor(path), `${dir}/tokens`);
      const model = new GPT2(gpu, m.config, m.params, { training: false });
      const want = await perplexity(model, new Activations(gpu, m.config, 4, 16, false), ids, 16, 8);
      assert.equal(row.test_tokens, want.tokens);
      assert.ok(Math.abs(row.test_nll - want.nll) <= 1e-9 * want.nll, `${row.test_nll} vs ${want.nll}`);
    }
    // A random model is near-uniform over GPT-2's vocabulary.
    assert.ok(json.rows[0].test_ppl > 1e4);

    // Markdown: a header, an alignment row and one row per model (the exports are reused from the cache).
    const md = await run(common);
    assert.equal(md.code, 0, md.stderr);
    const table = md.stdout.split("\n").filter((l) => l.startsWith("|"));
    assert.equal(table.length, 4, md.stdout);
    assert.match(table[0], /\| model \| params .* \| test ppl \|/);
    assert.ok(table[2].startsWith(`| ${models[0]} | `) && table[3].startsWith(`| ${models[1]} | `));
    assert.equal(markdownTable(json.rows).split("\n")[2].split("|").length, table[2].split("|").length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compare: a missing model folder or no --models fails with one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = await run([
      "--models",
      `${dir}/nope`,
      "--cache-dir",
      `${dir}/t`,
      "--onnx-cache",
      `${dir}/o`,
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr.trim(), /^error: model directory .*nope does not exist$/);
    const usage = await run(["--data", "embedded"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--models DIR/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
