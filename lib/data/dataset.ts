/**
 * From a data path to token ids and T-token blocks, through the on-disk token cache.
 *
 * @module
 */
import { condensedBlocks, isCondensedFile } from "../condense/condensed_set.ts";
import { makeBlocks } from "./blocks.ts";
import { listSplits, loadText, type Split } from "./text.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { tokenizeCached, type TokenizeCachedOptions } from "./tokens.ts";

/** Token ids of one split of a data source (see `loadText` for the accepted paths). */
export async function loadTokens(
  path: string,
  split: Split,
  tokenizer: Tokenizer,
  cacheDir: string | null,
  options: TokenizeCachedOptions = {},
): Promise<Uint32Array> {
  const text = await loadText(path, split);
  return tokenizeCached(text, tokenizer, cacheDir, options);
}

/** Whether the data source has a given split (a plain file has only its whole text, served as "train"). */
export async function hasSplit(path: string, split: Split): Promise<boolean> {
  return (await listSplits(path)).includes(split);
}

/**
 * The split's ids cut into (nBlocks, T) blocks, HF group_texts style (the remainder is dropped). A
 * condensed set (lib/condense/condensed_set.ts: a .jsonl whose lines have "ids") is not re-tokenized:
 * its examples' ids are the blocks, and T must equal their length.
 */
export async function loadBlocks(
  path: string,
  split: Split,
  tokenizer: Tokenizer,
  T: number,
  cacheDir: string | null,
  options: TokenizeCachedOptions = {},
): Promise<Uint32Array> {
  if (await isCondensedFile(path)) return await condensedBlocks(path, T, tokenizer.vocabSize);
  return makeBlocks(await loadTokens(path, split, tokenizer, cacheDir, options), T);
}
