/**
 * Tokenizers: the built-in GPT-2 byte-level BPE and Hugging Face `tokenizer.json` folders.
 *
 * Two engines produce GPT-2 ids:
 * - `gpt-tokenizer` (r50k_base, a tiktoken port): the fast path, used for the built-in GPT-2 by default.
 * - `@huggingface/tokenizers` (pure JS HF tokenizers): runs any `tokenizer.json`; used for user folders
 *   and for the built-in GPT-2 with `{ engine: "hf" }`.
 * The tests check that both give identical ids on WikiText. One difference is handled here: a literal
 * "<|endoftext|>" in the text becomes the special token 50256, as HF tokenizers do (gpt-tokenizer on its
 * own would either throw or spell it out).
 *
 * Encoding never adds special tokens (no BOS/EOS templates): `encode` maps raw text to ids, and
 * `decode(encode(x)) === x` for GPT-2. Decoding never applies HF's `clean_up_tokenization_spaces`.
 *
 * @module
 */
import { writeFileAtomic } from "../io/atomic.ts";
import {
  GPT2_EOS,
  GPT2_EOS_ID,
  GPT2_VOCAB_SIZE,
  gpt2MergesTxt,
  gpt2SpecialTokensMap,
  gpt2TokenizerConfig,
  gpt2TokenizerJson,
  gpt2Vocab,
} from "./gpt2_vocab.ts";

/** Text ↔ token ids. */
export interface Tokenizer {
  /** The ids of `text`, without any added BOS/EOS. */
  encode(text: string): number[];
  /** The text of `ids` (invalid UTF-8 byte sequences become U+FFFD). Throws on ids outside [0, vocabSize). */
  decode(ids: ArrayLike<number>): string;
  /** One more than the largest id (V; GPT-2: 50257). */
  readonly vocabSize: number;
  /** The end-of-text id (GPT-2: 50256), or −1 when the tokenizer defines none. */
  readonly eosId: number;
  /** Identifies the vocabulary and rules: "gpt2" for the built-in, "hf-<hash of tokenizer.json>" for folders. Cache keys use it. */
  readonly name: string;
  /**
   * True when encoding a text cut into pieces just before the last whitespace character of a
   * whitespace run followed by a letter or digit gives the same ids as encoding it whole (byte-level
   * BPE with GPT-2's split regex), so `encodeToArray` may encode large texts piece by piece.
   */
  readonly chunkable?: boolean;
}

/** Options for `gpt2Tokenizer`. */
export interface Gpt2TokenizerOptions {
  /** "fast" (default): gpt-tokenizer's r50k_base; "hf": @huggingface/tokenizers on GPT-2's tokenizer.json. */
  engine?: "fast" | "hf";
}

/** Where a tokenizer loaded from a folder came from, so `writeTokenizerFiles` can copy its files. */
const sourceDirs = new WeakMap<Tokenizer, string>();

/** HF tokenizer files copied by `writeTokenizerFiles` when present (tokenizer.json always). */
const HF_FILES = ["tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt"];

/**
 * The built-in GPT-2 tokenizer (V = 50257, `<|endoftext|>` = 50256). Needs no files at run time: the
 * vocabulary and merges are bundled through static imports of npm packages.
 */
export function gpt2Tokenizer(options: Gpt2TokenizerOptions = {}): Promise<Tokenizer> {
  const engine = options.engine ?? "fast";
  if (engine !== "fast" && engine !== "hf") {
    return Promise.reject(new Error(`unknown tokenizer engine "${engine}" (expected "fast" or "hf")`));
  }
  // Tokenizers are stateless, so one instance per engine serves the whole process.
  gpt2Instances[engine] ??= engine === "hf"
    ? hfTokenizer(gpt2TokenizerJson(), gpt2TokenizerConfig(), "gpt2")
    : fastGpt2Tokenizer();
  return gpt2Instances[engine];
}

const gpt2Instances: { fast?: Promise<Tokenizer>; hf?: Promise<Tokenizer> } = {};

/** GPT-2 on gpt-tokenizer's r50k_base for encoding and GPT-2's byte table for decoding. */
async function fastGpt2Tokenizer(): Promise<Tokenizer> {
  const { encode } = await import("gpt-tokenizer/encoding/r50k_base");
  // Special-token handling is ours (split on "<|endoftext|>" below); everything else is plain text.
  const plain = { allowedSpecial: new Set<string>(), disallowedSpecial: new Set<string>() };
  const decoder = gpt2ByteDecoder();
  return {
    name: "gpt2",
    vocabSize: GPT2_VOCAB_SIZE,
    eosId: GPT2_EOS_ID,
    chunkable: true,
    encode(text: string): number[] {
      const parts = text.split(GPT2_EOS);
      const ids: number[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) ids.push(GPT2_EOS_ID);
        if (parts[i].length > 0) { for (const id of encode(parts[i], plain)) ids.push(id); }
      }
      return ids;
    },
    decode: decoder,
  };
}

/**
 * A Hugging Face tokenizer folder: `tokenizer.json` (required) and `tokenizer_config.json` (optional,
 * supplies eos_token). Runs on @huggingface/tokenizers.
 */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const info = await Deno.stat(dir).catch(() => null);
  if (info === null) throw new Error(`tokenizer folder not found: ${dir}`);
  if (!info.isDirectory) throw new Error(`not a folder: ${dir} (pass the folder that holds tokenizer.json)`);
  const jsonPath = `${dir}/tokenizer.json`;
  const bytes = await Deno.readFile(jsonPath).catch(() => null);
  if (bytes === null) {
    throw new Error(`no tokenizer.json in ${dir} (a Hugging Face tokenizer folder needs one)`);
  }
  const json = parseJson(new TextDecoder().decode(bytes), jsonPath);
  const configPath = `${dir}/tokenizer_config.json`;
  const configText = await Deno.readTextFile(configPath).catch(() => null);
  const config = configText === null ? {} : parseJson(configText, configPath);
  const mapText = await Deno.readTextFile(`${dir}/special_tokens_map.json`).catch(() => null);
  const specialMap = mapText === null ? {} : parseJson(mapText, `${dir}/special_tokens_map.json`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hash = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const tokenizer = await hfTokenizer(json, config, `hf-${hash}`, specialMap, jsonPath);
  sourceDirs.set(tokenizer, dir);
  return tokenizer;
}

/**
 * The tokenizer for a model folder: its tokenizer.json when there is one, else the built-in GPT-2.
 * `null` (no model folder, e.g. training from scratch) gives GPT-2.
 */
export async function loadTokenizerFor(modelDir: string | null): Promise<Tokenizer> {
  if (modelDir === null) return await gpt2Tokenizer();
  const info = await Deno.stat(modelDir).catch(() => null);
  if (info === null) throw new Error(`model folder not found: ${modelDir}`);
  if (!info.isDirectory) throw new Error(`not a folder: ${modelDir}`);
  const hasJson = await Deno.stat(`${modelDir}/tokenizer.json`).then(() => true, () => false);
  return hasJson ? await loadTokenizer(modelDir) : await gpt2Tokenizer();
}

/**
 * Writes tokenizer files in the HF layout into `dir` (created when missing), each atomically:
 * tokenizer.json, vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json.
 * Without `tokenizer` (or with a built-in GPT-2 one) these are GPT-2's files; with a tokenizer from
 * `loadTokenizer`, its folder's files are copied instead (those that exist). tokenizer.json is written
 * last, so a folder that has it is complete.
 */
export async function writeTokenizerFiles(dir: string, tokenizer?: Tokenizer): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  if (tokenizer !== undefined && tokenizer.name !== "gpt2") {
    const src = sourceDirs.get(tokenizer);
    if (src === undefined) {
      throw new Error(`cannot write files for tokenizer "${tokenizer.name}" (not loaded from a folder)`);
    }
    for (const file of [...HF_FILES, "tokenizer.json"]) {
      const data = await Deno.readFile(`${src}/${file}`).catch(() => null);
      if (data !== null) await writeFileAtomic(`${dir}/${file}`, data);
    }
    return;
  }
  const pretty = (x: unknown) => JSON.stringify(x, null, 2) + "\n";
  await writeFileAtomic(`${dir}/vocab.json`, JSON.stringify(gpt2Vocab()));
  await writeFileAtomic(`${dir}/merges.txt`, gpt2MergesTxt());
  await writeFileAtomic(`${dir}/tokenizer_config.json`, pretty(gpt2TokenizerConfig()));
  await writeFileAtomic(`${dir}/special_tokens_map.json`, pretty(gpt2SpecialTokensMap()));
  await writeFileAtomic(`${dir}/tokenizer.json`, JSON.stringify(gpt2TokenizerJson()));
}

/** Options for `encodeToArray`. */
export interface EncodeToArrayOptions {
  /** Target piece length in characters for chunkable tokenizers (default 1 Mi). */
  chunkChars?: number;
  /** Called after each piece with characters done and total. */
  onProgress?: (doneChars: number, totalChars: number) => void;
}

/**
 * Encodes a possibly very large text into a Uint32Array. Chunkable tokenizers encode it in pieces
 * (identical ids, bounded temporary memory, progress reports); others encode it whole.
 */
export function encodeToArray(
  tokenizer: Tokenizer,
  text: string,
  options: EncodeToArrayOptions = {},
): Uint32Array {
  const chunk = options.chunkChars ?? 1 << 20;
  if (!(chunk >= 1)) throw new Error(`chunkChars must be positive, got ${chunk}`);
  if (!tokenizer.chunkable || text.length <= chunk) {
    const ids = Uint32Array.from(tokenizer.encode(text));
    options.onProgress?.(text.length, text.length);
    return ids;
  }
  let out = new Uint32Array(Math.max(1024, Math.ceil(text.length / 3)));
  let n = 0;
  let start = 0;
  while (start < text.length) {
    const end = start + chunk >= text.length ? text.length : safeCut(text, start + chunk);
    const ids = tokenizer.encode(text.slice(start, end));
    if (n + ids.length > out.length) {
      const grown = new Uint32Array(Math.max(out.length * 2, n + ids.length));
      grown.set(out.subarray(0, n));
      out = grown;
    }
    out.set(ids, n);
    n += ids.length;
    start = end;
    options.onProgress?.(start, text.length);
  }
  return out.slice(0, n);
}

/**
 * The first position ≥ `from` where a chunkable tokenizer may cut: just before a space or newline
 * that is followed by a letter or digit. GPT-2's split regex (`\s+(?!\S)|\s+`) gives a whitespace run
 * followed by a word the tokens "run minus its last char" and "last char + word"; cutting before the
 * last char keeps both (the prefix's trailing run becomes one token through `\s+(?!\S)` at the end of
 * the string). Returns text.length when there is no such place.
 */
function safeCut(text: string, from: number): number {
  const re = /[ \n](?=[\p{L}\p{N}])/gu;
  re.lastIndex = from;
  const m = re.exec(text);
  return m === null ? text.length : m.index;
}

/** GPT-2 decoding: token strings → bytes through GPT-2's byte↔unicode table → UTF-8 with replacement. */
function gpt2ByteDecoder(): (ids: ArrayLike<number>) => string {
  const byteOf = new Map<string, number>();
  for (const [byte, char] of bytesToUnicode()) byteOf.set(char, byte);
  const tokenBytes: Uint8Array[] = new Array(GPT2_VOCAB_SIZE);
  for (const [token, id] of Object.entries(gpt2Vocab())) {
    tokenBytes[id] = Uint8Array.from(token, (c) => byteOf.get(c) ?? 0);
  }
  const utf8 = new TextDecoder("utf-8");
  return (ids: ArrayLike<number>): string => {
    let total = 0;
    for (let i = 0; i < ids.length; i++) total += checkedId(ids[i], tokenBytes).length;
    const bytes = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = tokenBytes[ids[i]];
      bytes.set(b, at);
      at += b.length;
    }
    return utf8.decode(bytes);
  };
}

function checkedId(id: number, tokenBytes: Uint8Array[]): Uint8Array {
  const b = Number.isInteger(id) && id >= 0 ? tokenBytes[id] : undefined;
  if (b === undefined) throw new Error(`token id ${id} is outside the vocabulary (V = ${tokenBytes.length})`);
  return b;
}

/**
 * GPT-2's reversible byte → printable character table (bytes_to_unicode in OpenAI's encoder.py):
 * printable Latin-1 bytes map to themselves, the other 68 to U+0100 onwards.
 */
function bytesToUnicode(): Map<number, string> {
  const table = new Map<number, string>();
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table.set(b, String.fromCodePoint(printable(b) ? b : 256 + extra++));
  }
  return table;
}

/** The HF tokenizers engine on a parsed tokenizer.json. */
async function hfTokenizer(
  json: Record<string, unknown>,
  config: Record<string, unknown>,
  name: string,
  specialMap: Record<string, unknown> = {},
  label = "tokenizer.json",
): Promise<Tokenizer> {
  const { Tokenizer: HfTokenizer } = await import("@huggingface/tokenizers");
  let tok: InstanceType<typeof HfTokenizer>;
  try {
    tok = new HfTokenizer(json, config);
  } catch (err) {
    throw new Error(`${label}: unsupported tokenizer (${err instanceof Error ? err.message : err})`);
  }
  const vocab = tok.get_vocab(true);
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
  const eosName = tokenName(config.eos_token) ?? tokenName(specialMap.eos_token) ?? GPT2_EOS;
  const eosId = tok.token_to_id(eosName) ?? -1;
  const encodeOpts = { add_special_tokens: false };
  const decodeOpts = { skip_special_tokens: false, clean_up_tokenization_spaces: false };
  return {
    name,
    vocabSize,
    eosId,
    chunkable: isChunkable(json, config),
    encode(text: string): number[] {
      if (text.length === 0) return [];
      const ids = tok.encode(text, encodeOpts).ids;
      for (let i = 0; i < ids.length; i++) {
        // An unknown piece with no unk token comes back as undefined; never hand that to a model.
        if (ids[i] === undefined) throw new Error(`${label}: text has a piece with no id and no unk token`);
      }
      return ids;
    },
    decode(ids: ArrayLike<number>): string {
      if (ids.length === 0) return "";
      const list = Array.from(ids);
      for (const id of list) {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
          throw new Error(`token id ${id} is outside the vocabulary (V = ${vocabSize})`);
        }
      }
      return tok.decode(list, decodeOpts);
    },
  };
}

/** An HF special-token entry: a string or `{ content }`. */
function tokenName(entry: unknown): string | null {
  if (typeof entry === "string") return entry;
  if (
    entry !== null && typeof entry === "object" &&
    typeof (entry as { content?: unknown }).content === "string"
  ) {
    return (entry as { content: string }).content;
  }
  return null;
}

/**
 * Whether `encodeToArray` may cut the text (see `safeCut`): only for GPT-2-style byte-level BPE with no
 * normalizer, and added tokens that cannot straddle or strip a cut.
 */
function isChunkable(json: Record<string, unknown>, config: Record<string, unknown>): boolean {
  const pre = json.pre_tokenizer as Record<string, unknown> | null | undefined;
  if (json.normalizer != null || pre == null || pre.type !== "ByteLevel") return false;
  if (pre.add_prefix_space === true || pre.use_regex === false || config.remove_space === true) return false;
  const added = (json.added_tokens ?? []) as Array<Record<string, unknown>>;
  return added.every((t) => t.lstrip !== true && t.rstrip !== true && !/\s/.test(String(t.content)));
}

function parseJson(text: string, path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: invalid JSON (${err instanceof Error ? err.message : err})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${path}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}
