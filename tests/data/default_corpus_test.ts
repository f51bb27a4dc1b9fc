import assert, { equal, notEqual, strictEqual } from "node:assert/strict";
import { DEFAULT_CORPUS_NAME, defaultCorpus, generateDefaultCorpus } from "../../lib/data/default_corpus.ts";
import { gpt2Tokenizer } from "../../lib/data/tokenizer.ts";

const SPLITS = ["train", "valid", "test"] as const;

/** Articles: a title paragraph followed by a body paragraph, or a single-paragraph story. */
function paragraphs(text: string): string[] {
  return text.trim().split("\n\n");
}

Deno.test("defaultCorpus() is deterministic and memoised", () => {
  const a = defaultCorpus();
  strictEqual(defaultCorpus(), a, "memoised");
  const fresh = generateDefaultCorpus();
  for (const split of SPLITS) equal(fresh[split], a[split], `${split} regenerates identically`);
  equal(DEFAULT_CORPUS_NAME, "embedded");
});

Deno.test("defaultCorpus() splits have the intended sizes and do not repeat each other", () => {
  const c = defaultCorpus();
  assert(c.train.length >= 300_000 && c.train.length <= 600_000, `train ${c.train.length} chars`);
  for (const split of ["valid", "test"] as const) {
    assert(c[split].length >= 35_000 && c[split].length <= 50_000, `${split} ${c[split].length} chars`);
    assert(!c.train.includes(c[split].slice(0, 400)), `${split} starts like train`);
    // Short paragraphs may coincide by chance; most of a held-out split must be new text.
    const train = new Set(paragraphs(c.train));
    const long = paragraphs(c[split]).filter((p) => p.length > 60);
    const seen = long.filter((p) => train.has(p)).length;
    assert(seen < 0.25 * long.length, `${split}: ${seen}/${long.length} paragraphs also in train`);
  }
  notEqual(c.valid.slice(0, 1000), c.test.slice(0, 1000));
});

Deno.test("defaultCorpus() states consistent facts (ages, rivers, pronouns)", () => {
  const text = Object.values(defaultCorpus()).join("\n\n");
  let ages = 0;
  for (const p of paragraphs(text)) {
    const life = p.match(/\((\d{4}) – (\d{4})\) was an? /);
    const age = p.match(/at the age of (\d+)\./);
    if (life && age) {
      equal(Number(age[1]), Number(life[2]) - Number(life[1]), p);
      ages++;
    }
    if (life) {
      // A person article uses one gender throughout.
      const she = /\b(She|she|her|Her)\b/.test(p);
      const he = /\b(He|he|his|His|him)\b/.test(p);
      assert(!(she && he), p);
    }
  }
  assert(ages > 50, `only ${ages} person articles with both dates and age`);
  // A town always lies on the same river.
  const riverOf = new Map<string, string>();
  const parts = paragraphs(text);
  for (let i = 0; i + 1 < parts.length; i++) {
    const title = parts[i];
    const m = parts[i + 1].match(
      /^(\w+) is an? .*?(?:It lies on the River (\w+)\.|The River (\w+) flows through the town\.)/,
    );
    if (m && m[1] === title) {
      const river = m[2] ?? m[3];
      assert((riverOf.get(title) ?? river) === river, `${title} on ${riverOf.get(title)} and ${river}`);
      riverOf.set(title, river);
    }
  }
  assert(riverOf.size >= 20, `only ${riverOf.size} towns with a river`);
});

Deno.test("defaultCorpus() is English-like text with a small vocabulary", async () => {
  const c = defaultCorpus();
  assert(/^[\x20-\x7e\n–]+$/.test(c.train), "printable ASCII, newlines and the en dash only");
  const words = new Set(c.train.match(/[A-Za-z]+/g));
  assert(words.size >= 200 && words.size <= 1000, `${words.size} distinct words`);
  const ids = (await gpt2Tokenizer()).encode(c.train);
  const distinct = new Set(ids).size;
  assert(distinct < 3000, `${distinct} distinct GPT-2 tokens`);
  assert(ids.length > 80_000, `${ids.length} GPT-2 tokens in train`);
  assert(c.train.includes("The River") && c.train.includes(" was born in ") && /\d,\d{3}/.test(c.train));
});
