/**
 * Where the demo's train, validation and test text come from.
 *
 * - `embedded`: the project's corpus with its three splits.
 * - A folder with a train split (WikiText-2 as released: wiki.{train,valid,test}.{raw,tokens}): the three
 *   splits as they are.
 * - A folder without a train split (this environment's ../shared/data/wikitext-2 holds only valid.txt and
 *   test.txt): train on the validation file, validate on the test file's first part and score the test
 *   split, and say so in the report.
 * - A single file: train on it; no validation and no test split (refused: the demo needs a test text).
 *
 * @module
 */
import { listSplits, type Split } from "../data/text.ts";

/** The resolved data of a demo run. */
export interface DemoData {
  /** Path whose "train" split is the training text (a folder, "embedded", or one file). */
  train: string;
  /** Validation text for runTraining's `valData` (null: the train path's own valid split). */
  valData: string | undefined;
  /** Path and split of the test text. */
  test: { path: string; split: Split };
  /** One sentence for the report: what was trained and scored on. */
  description: string;
}

/** File names of a split inside a dataset folder, in the order lib/data/text.ts looks for them. */
const SPLIT_FILES = (
  split: Split,
) => [`wiki.${split}.tokens`, `wiki.${split}.raw`, `${split}.txt`, `${split}.jsonl`];

async function splitFile(dir: string, split: Split): Promise<string> {
  for (const name of SPLIT_FILES(split)) {
    const info = await Deno.stat(`${dir}/${name}`).catch(() => null);
    if (info?.isFile) return `${dir}/${name}`;
  }
  throw new Error(`${dir} has no ${split} split (looked for ${SPLIT_FILES(split).join(", ")})`);
}

/** Resolves `--data` for the demo; throws a one-line Error when there is no test text. */
export async function resolveDemoData(data: string): Promise<DemoData> {
  const splits = await listSplits(data);
  if (data === "embedded") {
    return {
      train: data,
      valData: undefined,
      test: { path: data, split: "test" },
      description: "the embedded corpus (train / valid / test splits)",
    };
  }
  if (!splits.includes("test")) {
    throw new Error(
      `${data} has no test split: give 'embedded' or a folder with a test file (e.g. WikiText-2's wiki.test.raw)`,
    );
  }
  if (splits.includes("train")) {
    return {
      train: data,
      valData: splits.includes("valid") ? undefined : await splitFile(data, "test"),
      test: { path: data, split: "test" },
      description: `${data} (train split for training, ${
        splits.includes("valid") ? "valid" : "test"
      } split for validation, test split for perplexity)`,
    };
  }
  if (!splits.includes("valid")) {
    throw new Error(`${data} has neither a train nor a valid split to train on`);
  }
  return {
    train: await splitFile(data, "valid"),
    valData: await splitFile(data, "test"),
    test: { path: data, split: "test" },
    description: `${data}: no train split here, so trained on the valid split and scored on the test ` +
      `split (validation curves also use the test split)`,
  };
}
