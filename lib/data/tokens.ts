/**
 * Token cache: tokenizing a corpus takes seconds to minutes, so the ids are stored on disk, keyed by
 * SHA-256 of the tokenizer name and the text.
 *
 * File layout (little-endian), `<key hex>.tokens`:
 *   0  magic "GPT2TOKS" (8 bytes)
 *   8  u32 format version (1)
 *  12  u32 header size in bytes (64)
 *  16  u32 token count, low 32 bits; 20 u32 high bits
 *  24  u32 checksum of the ids (FNV-1a over 32-bit words)
 *  28  u32 vocabulary size of the tokenizer
 *  32  32-byte key (the SHA-256 the file is named after)
 *  64  ids, u32 each
 * A file that does not match (wrong magic, version, size, key, checksum or an id ≥ V) counts as a
 * miss and is rewritten. Files are written atomically (temporary file + rename).
 *
 * @module
 */
import { writeFileAtomic } from "../io/atomic.ts";
import { encodeToArray, type Tokenizer } from "./tokenizer.ts";

/** The default cache folder, relative to the working directory. */
export const DEFAULT_TOKEN_CACHE_DIR = ".cache/tokens";

const MAGIC = "GPT2TOKS";
const VERSION = 1;
const HEADER_BYTES = 64;

/** Options for `tokenizeCached`. */
export interface TokenizeCachedOptions {
  /** Progress while tokenizing on a miss (characters done, total). */
  onProgress?: (doneChars: number, totalChars: number) => void;
  /** Told whether the cache was hit, and the file. */
  onCache?: (hit: boolean, file: string) => void;
}

/**
 * The ids of `text` (V < 2³²) from the cache in `cacheDir` (null: DEFAULT_TOKEN_CACHE_DIR), tokenizing
 * and storing them on a miss. Needs read and write permission on the cache folder.
 */
export async function tokenizeCached(
  text: string,
  tokenizer: Tokenizer,
  cacheDir: string | null,
  options: TokenizeCachedOptions = {},
): Promise<Uint32Array> {
  const dir = cacheDir ?? DEFAULT_TOKEN_CACHE_DIR;
  const key = await cacheKey(tokenizer.name, text);
  const file = `${dir}/${hex(key)}.tokens`;
  const cached = await readCache(file, key, tokenizer.vocabSize);
  options.onCache?.(cached !== null, file);
  if (cached !== null) return cached;
  const ids = encodeToArray(tokenizer, text, { onProgress: options.onProgress });
  await writeFileAtomic(file, encodeCacheFile(ids, key, tokenizer.vocabSize));
  return ids;
}

/** SHA-256 of the tokenizer name, a NUL separator (so name/text boundaries are unambiguous) and the text. */
export async function cacheKey(tokenizerName: string, text: string): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(`${tokenizerName}\0${text}`);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** The bytes of a cache file for `ids`. */
export function encodeCacheFile(ids: Uint32Array, key: Uint8Array, vocabSize: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + ids.length * 4);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, HEADER_BYTES, true);
  view.setUint32(16, ids.length >>> 0, true);
  view.setUint32(20, Math.floor(ids.length / 2 ** 32), true);
  view.setUint32(24, checksum(ids), true);
  view.setUint32(28, vocabSize, true);
  out.set(key, 32);
  for (let i = 0; i < ids.length; i++) view.setUint32(HEADER_BYTES + 4 * i, ids[i], true);
  return out;
}

/** The ids in a cache file, or null when it is missing or does not match `key` and `vocabSize` in every check. */
async function readCache(file: string, key: Uint8Array, vocabSize: number): Promise<Uint32Array | null> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  if (bytes.length < HEADER_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) return null;
  if (view.getUint32(8, true) !== VERSION || view.getUint32(12, true) !== HEADER_BYTES) return null;
  const count = view.getUint32(16, true) + view.getUint32(20, true) * 2 ** 32;
  if (bytes.length !== HEADER_BYTES + 4 * count) return null;
  if (view.getUint32(28, true) !== vocabSize) return null;
  for (let i = 0; i < 32; i++) if (bytes[32 + i] !== key[i]) return null;
  const ids = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const id = view.getUint32(HEADER_BYTES + 4 * i, true);
    if (id >= vocabSize) return null;
    ids[i] = id;
  }
  return checksum(ids) === view.getUint32(24, true) ? ids : null;
}

/** FNV-1a over 32-bit words: cheap, and catches truncation-free corruption such as flipped bytes. */
function checksum(ids: Uint32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ids.length; i++) h = Math.imul(h ^ ids[i], 0x01000193) >>> 0;
  return h;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
