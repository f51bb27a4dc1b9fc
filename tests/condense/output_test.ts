/**
 * The condensed-set file format: shortest exact float32 text, the key order and shapes of a line, and
 * atomic writing of the three files.
 */
import assert from "node:assert/strict";
import {
  embedsPath,
  exampleLine,
  float32String,
  metaPath,
  writeCondensed,
} from "../../lib/condense/output.ts";
import { Rng } from "../../lib/rng.ts";

Deno.test("float32String() is the shortest text that reads back as the same float32", () => {
  assert.equal(float32String(0.1), "0.1");
  assert.equal(float32String(Math.fround(0.1)), "0.1");
  assert.equal(float32String(-2), "-2");
  assert.equal(float32String(1e-8), "1e-8");
  assert.equal(float32String(NaN), "null");
  const rng = new Rng(1);
  for (let i = 0; i < 2000; i++) {
    const x = Math.fround((rng.next() - 0.5) * 10 ** (rng.int(12) - 6));
    const s = float32String(x);
    assert.equal(Math.fround(Number(s)), x, `${x} → ${s}`);
    assert.ok(s.replace(/^-|\.|e.*$/g, "").replace(/^0+/, "").length <= 9, s);
  }
});

Deno.test("exampleLine() writes the keys in order, soft targets per position and the embeddings reference", () => {
  const line = exampleLine({
    text: 'a "quoted"\ntext',
    ids: Uint32Array.from([5, 6, 7]),
    source: "synthetic",
    weight: 2.5,
    initBlock: 4,
    soft: { k: 2, indices: [1, 2, 3, 4, 5, 6], logits: Float32Array.from([0.5, 0.25, 1, 0, -1, -2]) },
    embeds: { file: "x.embeds.f32", offset: 384, shape: [3, 32] },
  });
  const parsed = JSON.parse(line);
  assert.deepEqual(Object.keys(parsed), ["text", "ids", "source", "weight", "init_block", "soft", "embeds"]);
  assert.equal(parsed.text, 'a "quoted"\ntext');
  assert.deepEqual(parsed.ids, [5, 6, 7]);
  assert.deepEqual(parsed.soft, {
    indices: [[1, 2], [3, 4], [5, 6]],
    logits: [[0.5, 0.25], [1, 0], [-1, -2]],
  });
  assert.deepEqual(parsed.embeds, { file: "x.embeds.f32", offset: 384, shape: [3, 32], dtype: "float32" });
  assert.ok(!line.includes("\n"));
  assert.throws(
    () =>
      exampleLine({ text: "", ids: [1, 2], source: 0, weight: 1, soft: { k: 2, indices: [1], logits: [1] } }),
    /soft targets hold 1 entries, T·k = 2×2/,
  );
});

Deno.test("writeCondensed() writes the lines, the little-endian embeddings and the sidecar", async () => {
  const dir = await Deno.makeTempDir({ prefix: "condense-output-" });
  try {
    const out = `${dir}/sub/set.jsonl`;
    const embeds = Float32Array.from([1.5, -2, 3.25, 0]);
    await writeCondensed(
      out,
      [{ text: "x", ids: [1], source: 3, weight: 1 }, { text: "y", ids: [2], source: 0, weight: 2 }],
      { format: "gpt2-condensed", version: 1, k: 2 },
      embeds,
    );
    assert.equal(
      await Deno.readTextFile(out),
      '{"text":"x","ids":[1],"source":3,"weight":1}\n{"text":"y","ids":[2],"source":0,"weight":2}\n',
    );
    const bytes = await Deno.readFile(embedsPath(out));
    assert.deepEqual(
      Array.from({ length: 4 }, (_, i) => new DataView(bytes.buffer).getFloat32(4 * i, true)),
      [1.5, -2, 3.25, 0],
    );
    assert.equal(JSON.parse(await Deno.readTextFile(metaPath(out))).k, 2);
    const leftovers = [...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name).filter((n) =>
      n.endsWith(".tmp")
    );
    assert.deepEqual(leftovers, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
