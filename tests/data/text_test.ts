import { deepStrictEqual, equal, rejects } from "node:assert/strict";
import { defaultCorpus } from "../../lib/data/default_corpus.ts";
import { JSONL_SEPARATOR, listSplits, loadText } from "../../lib/data/text.ts";

const WIKITEXT = "/work/shared/data/wikitext-2";

/** Runs `body` with a fresh temporary folder, removed afterwards. */
async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "text_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadText() reads a WikiText folder's split files as they are", async () => {
  const valid = await loadText(WIKITEXT, "valid");
  equal(valid, await Deno.readTextFile(`${WIKITEXT}/valid.txt`));
  equal(await loadText(WIKITEXT, "test"), await Deno.readTextFile(`${WIKITEXT}/test.txt`));
  deepStrictEqual(await listSplits(WIKITEXT), ["valid", "test"]);
  await rejects(
    loadText(WIKITEXT, "train"),
    /wikitext-2 has no train split \(looked for wiki.train.tokens, /,
  );
});

Deno.test("loadText() finds wiki.<split>.tokens, wiki.<split>.raw, <split>.txt and <split>.jsonl", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/wiki.train.tokens`, " = A = \n train text \n");
    await Deno.writeTextFile(`${dir}/wiki.valid.raw`, "valid raw\n");
    await Deno.writeTextFile(`${dir}/test.jsonl`, '{"text": "doc one"}\n{"text": "doc two"}\n');
    equal(await loadText(dir, "train"), " = A = \n train text \n");
    equal(await loadText(dir, "valid"), "valid raw\n");
    equal(await loadText(dir, "test"), `doc one${JSONL_SEPARATOR}doc two`);
    deepStrictEqual(await listSplits(dir), ["train", "valid", "test"]);
    // Two candidate files for one split is ambiguous.
    await Deno.writeTextFile(`${dir}/train.txt`, "other");
    await rejects(loadText(dir, "train"), /several train files \(wiki.train.tokens, train.txt\)/);
  });
});

Deno.test("loadText() returns a whole plain file for any split and drops a BOM", async () => {
  await withTempDir(async (dir) => {
    const text = "\uFEFFFirst line.\r\nSecond line, ünïcode.\n";
    await Deno.writeTextFile(`${dir}/corpus.txt`, text);
    for (const split of ["train", "valid", "test"] as const) {
      equal(await loadText(`${dir}/corpus.txt`, split), text.slice(1));
    }
    deepStrictEqual(await listSplits(`${dir}/corpus.txt`), ["train"]);
  });
});

Deno.test("loadText() joins JSONL documents, skipping blank lines and empty texts", async () => {
  await withTempDir(async (dir) => {
    const lines = [
      JSON.stringify({ text: "First document.\nWith two lines.", id: 1 }),
      "",
      "   ",
      JSON.stringify({ text: "" }),
      JSON.stringify({ text: 'Second "quoted" document.' }),
    ];
    await Deno.writeTextFile(`${dir}/docs.jsonl`, lines.join("\n") + "\n");
    equal(
      await loadText(`${dir}/docs.jsonl`, "valid"),
      "First document.\nWith two lines." + JSONL_SEPARATOR + 'Second "quoted" document.',
    );
  });
});

Deno.test("loadText() names the file and line of a bad JSONL line", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.jsonl`, '{"text": "ok"}\n\n{"text": broken}\n');
    await rejects(loadText(`${dir}/a.jsonl`, "train"), /a\.jsonl:3: not valid JSON/);
    await Deno.writeTextFile(`${dir}/b.jsonl`, '{"text": "ok"}\n{"body": "no text field"}\n');
    await rejects(
      loadText(`${dir}/b.jsonl`, "train"),
      /b\.jsonl:2: expected an object with a string "text" field/,
    );
    await Deno.writeTextFile(`${dir}/c.jsonl`, '["text"]\n');
    await rejects(loadText(`${dir}/c.jsonl`, "train"), /c\.jsonl:1: expected an object/);
  });
});

Deno.test("loadText() rejects a missing path, an empty text and an unknown split in one line", async () => {
  await withTempDir(async (dir) => {
    await rejects(loadText(`${dir}/missing`, "train"), /^Error: dataset not found: .*missing$/);
    await rejects(listSplits(`${dir}/missing`), /dataset not found/);
    await Deno.writeTextFile(`${dir}/empty.txt`, "");
    await rejects(loadText(`${dir}/empty.txt`, "train"), /empty\.txt has no text/);
    await Deno.writeTextFile(`${dir}/empty.jsonl`, '{"text": ""}\n');
    await rejects(loadText(`${dir}/empty.jsonl`, "train"), /empty\.jsonl has no text/);
    await rejects(loadText(dir, "train"), /has no train split/);
    deepStrictEqual(await listSplits(dir), []);
    // deno-lint-ignore no-explicit-any
    await rejects(loadText(dir, "validation" as any), /unknown split "validation"/);
  });
});

Deno.test('loadText("embedded") serves the default corpus splits', async () => {
  const corpus = defaultCorpus();
  for (const split of ["train", "valid", "test"] as const) {
    equal(await loadText("embedded", split), corpus[split]);
  }
  deepStrictEqual(await listSplits("embedded"), ["train", "valid", "test"]);
});
