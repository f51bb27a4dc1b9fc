import assert, { deepStrictEqual, equal, rejects, throws } from "node:assert/strict";
import {
  encodeToArray,
  gpt2Tokenizer,
  loadTokenizer,
  loadTokenizerFor,
  type Tokenizer,
  writeTokenizerFiles,
} from "../../lib/data/tokenizer.ts";

const WIKITEXT_VALID = "/work/shared/data/wikitext-2/valid.txt";

// Ids from GPT-2's vocabulary (OpenAI's encoder.json / tiktoken r50k_base).
const KNOWN: [string, number[]][] = [
  ["Hello world, this is GPT-2.", [15496, 995, 11, 428, 318, 402, 11571, 12, 17, 13]],
  ["hello world", [31373, 995]],
  [" Hello", [18435]],
  ["  leading spaces", [220, 3756, 9029]],
  // GPT-2's split regex keeps the last whitespace before a word apart: "\n\n" (628) only at the end.
  ["line\n\nnext\n\n", [1370, 198, 198, 19545, 628]],
  ["héllo 世界 🙂", [71, 2634, 18798, 220, 10310, 244, 45911, 234, 32485]],
  ["<|endoftext|>", [50256]],
  ["a<|endoftext|>b", [64, 50256, 65]],
  ["end.<|endoftext|> Next", [437, 13, 50256, 7406]],
  ["<|endoftext", [27, 91, 437, 1659, 5239]],
  ["", []],
];

let fast: Promise<Tokenizer> | null = null;
let hf: Promise<Tokenizer> | null = null;
const fastTok = () => fast ??= gpt2Tokenizer();
const hfTok = () => hf ??= gpt2Tokenizer({ engine: "hf" });

let wikiValid: Promise<string> | null = null;
const wiki = () => wikiValid ??= Deno.readTextFile(WIKITEXT_VALID);

function sameIds(a: ArrayLike<number>, b: ArrayLike<number>, label: string): void {
  equal(a.length, b.length, `${label}: ${a.length} ids vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) throw new Error(`${label}: first difference at ${i}: ${a[i]} vs ${b[i]}`);
  }
}

for (const engine of ["fast", "hf"] as const) {
  Deno.test(`gpt2Tokenizer({engine: "${engine}"}) gives GPT-2's known ids and decodes them back`, async () => {
    const tok = await (engine === "fast" ? fastTok() : hfTok());
    equal(tok.vocabSize, 50257);
    equal(tok.eosId, 50256);
    equal(tok.name, "gpt2");
    for (const [text, ids] of KNOWN) {
      deepStrictEqual(tok.encode(text), ids, JSON.stringify(text));
      equal(tok.decode(ids), text, `decode ${JSON.stringify(text)}`);
    }
    equal(tok.decode(new Uint32Array([15496, 995])), "Hello world");
  });

  Deno.test(`gpt2Tokenizer({engine: "${engine}"}) round-trips decode(encode(x)) on WikiText valid`, async () => {
    const tok = await (engine === "fast" ? fastTok() : hfTok());
    const text = (await wiki()).slice(0, 300_000);
    equal(tok.decode(tok.encode(text)), text);
  });

  Deno.test(`gpt2Tokenizer({engine: "${engine}"}) decode rejects ids outside the vocabulary`, async () => {
    const tok = await (engine === "fast" ? fastTok() : hfTok());
    throws(() => tok.decode([50257]), /outside the vocabulary/);
    throws(() => tok.decode([-1]), /outside the vocabulary/);
    throws(() => tok.decode([1.5]), /outside the vocabulary/);
  });
}

Deno.test("the fast GPT-2 path gives the same ids as the HF tokenizers path on 200 kB of WikiText valid", async () => {
  const text = (await wiki()).slice(0, 200_000);
  const [a, b] = [(await fastTok()).encode(text), (await hfTok()).encode(text)];
  assert(a.length > 40_000, `only ${a.length} tokens`);
  sameIds(a, b, "fast vs hf");
  // The two decoders also agree, including on a lone half of a multi-byte character (U+FFFD).
  const ids = [...a.slice(0, 2000), 10310];
  equal((await fastTok()).decode(ids), (await hfTok()).decode(ids));
});

Deno.test("encodeToArray() cut into small pieces gives the same ids as encoding whole", async () => {
  const tok = await fastTok();
  // Whitespace runs, newlines before words, digits, specials: the cases the cut rule must survive.
  const tricky = "a  \n  b\n\nc 12 34\n 's x<|endoftext|> y   \tz\n\n\nw ".repeat(50);
  const text = (await wiki()).slice(0, 100_000) + tricky;
  const whole = tok.encode(text);
  let progressCalls = 0;
  const pieces = encodeToArray(tok, text, { chunkChars: 97, onProgress: () => progressCalls++ });
  assert(progressCalls > 100, `only ${progressCalls} pieces`);
  sameIds(pieces, whole, "pieces vs whole");
  // Many piece sizes, so cuts land at every kind of place in the tricky text.
  const hfTokenizer = await hfTok();
  const trickyIds = tok.encode(tricky);
  for (let chunkChars = 1; chunkChars < 50; chunkChars++) {
    sameIds(encodeToArray(tok, tricky, { chunkChars }), trickyIds, `fast, pieces of ${chunkChars}`);
    sameIds(encodeToArray(hfTokenizer, tricky, { chunkChars }), trickyIds, `hf, pieces of ${chunkChars}`);
  }
});

Deno.test("writeTokenizerFiles() writes GPT-2's HF files and loadTokenizer() reads them back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tok_" });
  try {
    await writeTokenizerFiles(`${dir}/model`);
    const names = [...Deno.readDirSync(`${dir}/model`)].map((e) => e.name).sort();
    deepStrictEqual(names, [
      "merges.txt",
      "special_tokens_map.json",
      "tokenizer.json",
      "tokenizer_config.json",
      "vocab.json",
    ]);
    const merges = Deno.readTextFileSync(`${dir}/model/merges.txt`).split("\n");
    equal(merges[0], "#version: 0.2");
    equal(merges[1], "Ġ t");
    equal(merges.length, 50002); // header + 50,000 merges + final newline
    const vocab = JSON.parse(Deno.readTextFileSync(`${dir}/model/vocab.json`));
    equal(Object.keys(vocab).length, 50257);
    equal(vocab["Hello"], 15496);
    const config = JSON.parse(Deno.readTextFileSync(`${dir}/model/tokenizer_config.json`));
    equal(config.eos_token, "<|endoftext|>");

    const loaded = await loadTokenizer(`${dir}/model`);
    assert(/^hf-[0-9a-f]{16}$/.test(loaded.name), loaded.name);
    equal(loaded.vocabSize, 50257);
    equal(loaded.eosId, 50256);
    equal(loaded.chunkable, true);
    for (const [text, ids] of KNOWN) deepStrictEqual(loaded.encode(text), ids, JSON.stringify(text));
    const sample = (await wiki()).slice(0, 20_000);
    sameIds(loaded.encode(sample), (await fastTok()).encode(sample), "loaded vs built-in");
    equal(loaded.decode(loaded.encode(sample)), sample);

    // A loaded tokenizer's own files are what a checkpoint copies.
    await writeTokenizerFiles(`${dir}/copy`, loaded);
    equal((await loadTokenizer(`${dir}/copy`)).name, loaded.name);
    // No temporary files are left behind.
    assert(![...Deno.readDirSync(`${dir}/model`)].some((e) => e.name.endsWith(".tmp")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadTokenizer() reads the other tokenizer.json layouts (merges as pairs, no model type)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tok_" });
  try {
    await writeTokenizerFiles(dir);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/tokenizer.json`));
    json.model.merges = json.model.merges.map((m: string) => m.split(" "));
    delete json.model.type;
    await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify(json));
    await Deno.remove(`${dir}/tokenizer_config.json`);
    const tok = await loadTokenizer(dir);
    equal(tok.eosId, 50256, "eos from special_tokens_map.json");
    for (const [text, ids] of KNOWN) deepStrictEqual(tok.encode(text), ids, JSON.stringify(text));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadTokenizer() explains a missing folder, a missing tokenizer.json and bad JSON", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tok_" });
  try {
    await rejects(loadTokenizer(`${dir}/nope`), /tokenizer folder not found: .*nope/);
    await rejects(loadTokenizer(dir), /no tokenizer.json in /);
    await Deno.writeTextFile(`${dir}/tokenizer.json`, "{not json");
    await rejects(loadTokenizer(dir), /tokenizer.json: invalid JSON/);
    await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify({ model: { type: "Nonsense" } }));
    await rejects(loadTokenizer(dir), /tokenizer.json: unsupported tokenizer/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadTokenizerFor() uses the model folder's tokenizer.json when present, else GPT-2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tok_" });
  try {
    equal((await loadTokenizerFor(null)).name, "gpt2");
    equal((await loadTokenizerFor(dir)).name, "gpt2");
    await writeTokenizerFiles(dir);
    assert((await loadTokenizerFor(dir)).name.startsWith("hf-"));
    await rejects(loadTokenizerFor(`${dir}/missing`), /model folder not found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
