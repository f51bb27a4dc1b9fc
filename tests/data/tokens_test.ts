import assert, { deepStrictEqual, equal, notEqual } from "node:assert/strict";
import { gpt2Tokenizer, type Tokenizer } from "../../lib/data/tokenizer.ts";
import { DEFAULT_TOKEN_CACHE_DIR, tokenizeCached } from "../../lib/data/tokens.ts";

const WIKITEXT_VALID = "/work/shared/data/wikitext-2/valid.txt";

/** GPT-2 with a counter of encode calls (tokenizeCached encodes only on a miss). */
async function countingTokenizer(name = "gpt2"): Promise<Tokenizer & { calls: number }> {
  const base = await gpt2Tokenizer();
  const tok = {
    calls: 0,
    name,
    vocabSize: base.vocabSize,
    eosId: base.eosId,
    chunkable: true,
    encode(text: string) {
      tok.calls++;
      return base.encode(text);
    },
    decode: base.decode,
  };
  return tok;
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tokens_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function onlyFile(dir: string): string {
  const files = [...Deno.readDirSync(dir)].map((e) => e.name);
  equal(files.length, 1, `cache files: ${files.join(", ")}`);
  assert(/^[0-9a-f]{64}\.tokens$/.test(files[0]), files[0]);
  return `${dir}/${files[0]}`;
}

Deno.test("tokenizeCached() tokenizes on a miss, then reads the same ids from the cache", async () => {
  await withTempDir(async (dir) => {
    const text = (await Deno.readTextFile(WIKITEXT_VALID)).slice(0, 100_000);
    const tok = await countingTokenizer();
    const hits: boolean[] = [];
    const first = await tokenizeCached(text, tok, `${dir}/cache`, { onCache: (hit) => hits.push(hit) });
    const calls = tok.calls;
    assert(calls > 0);
    deepStrictEqual(Array.from(first), tok.encode(text));
    const second = await tokenizeCached(text, tok, `${dir}/cache`, { onCache: (hit) => hits.push(hit) });
    equal(tok.calls, calls + 1, "a hit must not tokenize"); // +1: the encode in the check above
    deepStrictEqual(second, first);
    deepStrictEqual(hits, [false, true]);
    const file = onlyFile(`${dir}/cache`);
    equal((await Deno.stat(file)).size, 64 + 4 * first.length);
  });
});

Deno.test("tokenizeCached() keys the cache by tokenizer name and text", async () => {
  await withTempDir(async (dir) => {
    const a = await countingTokenizer("gpt2");
    const b = await countingTokenizer("other");
    await tokenizeCached("Some text.", a, dir);
    await tokenizeCached("Some text.", b, dir);
    await tokenizeCached("Some text!", a, dir);
    equal(a.calls + b.calls, 3, "every different (name, text) is a miss");
    equal([...Deno.readDirSync(dir)].length, 3);
  });
});

Deno.test("tokenizeCached() ignores and rewrites a corrupt or truncated cache file", async () => {
  await withTempDir(async (dir) => {
    const text = "The cache must survive damage. ".repeat(200);
    const tok = await countingTokenizer();
    const ids = await tokenizeCached(text, tok, dir);
    const file = onlyFile(dir);
    const good = await Deno.readFile(file);
    const damages: [string, (b: Uint8Array) => Uint8Array][] = [
      ["flipped id byte", (b) => b.map((x, i) => i === 64 + 4 * 17 ? x ^ 1 : x)],
      ["id beyond the vocabulary", (b) => b.map((x, i) => i === 64 + 4 * 3 + 3 ? 0xff : x)],
      ["truncated", (b) => b.slice(0, b.length - 6)],
      ["bad magic", (b) => b.map((x, i) => i === 0 ? 0 : x)],
      ["empty", () => new Uint8Array(0)],
    ];
    for (const [label, damage] of damages) {
      await Deno.writeFile(file, damage(good));
      const calls = tok.calls;
      const again = await tokenizeCached(text, tok, dir);
      equal(tok.calls, calls + 1, `${label}: must tokenize again`);
      deepStrictEqual(again, ids, label);
      deepStrictEqual(await Deno.readFile(file), good, `${label}: file rewritten`);
    }
    // Atomic writes leave no temporary files behind.
    onlyFile(dir);
  });
});

Deno.test("tokenizeCached(…, null) uses .cache/tokens of the working directory", async () => {
  const text = `default cache folder test ${crypto.randomUUID()}`;
  const tok = await countingTokenizer();
  let where = "";
  const ids = await tokenizeCached(text, tok, null, { onCache: (_hit, file) => where = file });
  try {
    assert(where.startsWith(`${DEFAULT_TOKEN_CACHE_DIR}/`), where);
    deepStrictEqual(Array.from(ids), tok.encode(text));
    notEqual((await Deno.stat(where)).size, 0);
  } finally {
    await Deno.remove(where);
  }
});
