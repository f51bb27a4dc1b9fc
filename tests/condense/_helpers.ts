/**
 * Helpers for the condensation tests: tiny random GPT-2s, small corpora on disk and options.
 *
 * @module
 */
import { CONDENSE_DEFAULTS, type CondenseOptions } from "../../lib/condense/condense.ts";
import { type GPT2Config, validateConfig } from "../../lib/model/config.ts";
import { saveModelDir } from "../../lib/model/model_dir.ts";
import { initParams, type ParamLayout, paramLayout } from "../../lib/model/params.ts";
import { Rng } from "../../lib/rng.ts";

/** A random model in memory. */
export interface TinyGpt2 {
  config: GPT2Config;
  layout: ParamLayout;
  params: Float32Array;
}

/**
 * A randomly initialised GPT-2 (HF init). With `peaked`, the token embedding is scaled up so that the
 * tied head strongly predicts the input token again: a teacher with a confident, non-uniform distribution.
 */
export function tinyGpt2(
  overrides: Partial<GPT2Config> = {},
  seed = 1,
  opts: { peaked?: boolean } = {},
): TinyGpt2 {
  const config = validateConfig({
    vocab_size: 97,
    n_positions: 32,
    n_embd: 32,
    n_layer: 1,
    n_head: 2,
    ...overrides,
  });
  const layout = paramLayout(config);
  const params = initParams(config, layout, seed);
  if (opts.peaked) {
    const wte = layout.byName.get("wte.weight")!;
    for (let i = 0; i < wte.size; i++) params[wte.offset + i] *= 10;
  }
  return { config, layout, params };
}

/** Saves a tiny model into a fresh temporary directory. */
export async function tinyModelDir(
  overrides: Partial<GPT2Config> = {},
  seed = 1,
  opts: { peaked?: boolean } = {},
): Promise<TinyGpt2 & { dir: string }> {
  const m = tinyGpt2(overrides, seed, opts);
  const dir = await Deno.makeTempDir({ prefix: "condense-model-" });
  await saveModelDir(dir, m.config, m.layout, m.params);
  return { ...m, dir };
}

const TOPICS = [
  "the river flows past the old mill and the water turns the wheel while fish swim upstream",
  "the orchestra played a symphony and the violin section carried the slow second movement",
  "the rocket engine burned liquid fuel and the launch vehicle climbed into a low orbit",
  "the chef seasoned the soup with pepper and basil before serving bread with butter",
];

/** A corpus of `paragraphs` paragraphs, each from one of four topics with seeded word shuffles. */
export function topicCorpus(paragraphs: number, seed = 3): string {
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let p = 0; p < paragraphs; p++) {
    const words = TOPICS[p % TOPICS.length].split(" ");
    rng.shuffle(words);
    out.push(words.join(" ") + " .\n");
  }
  return out.join("");
}

/** A fresh temporary folder with `corpus.txt` holding `text`, a token cache folder and an output path. */
export async function workspace(
  text: string,
): Promise<{ dir: string; data: string; cache: string; out: string }> {
  const dir = await Deno.makeTempDir({ prefix: "condense-test-" });
  await Deno.writeTextFile(`${dir}/corpus.txt`, text);
  return { dir, data: `${dir}/corpus.txt`, cache: `${dir}/cache`, out: `${dir}/out/condensed.jsonl` };
}

/** Options with the defaults, for a corpus file and output path. */
export function options(
  data: string,
  out: string,
  cacheDir: string,
  extra: Partial<CondenseOptions> = {},
): CondenseOptions {
  return { ...CONDENSE_DEFAULTS, data, out, cacheDir, ...extra };
}

/** The lines of a JSON Lines file, parsed. */
export async function readJsonl(path: string): Promise<Record<string, unknown>[]> {
  return (await Deno.readTextFile(path)).split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
}
