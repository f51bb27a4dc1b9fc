import { gpt2Tokenizer } from "../lib/data/tokenizer.ts";
import { loadTokens } from "../lib/data/dataset.ts";
import { unigramPerplexity } from "../lib/eval/perplexity.ts";
const tok = await gpt2Tokenizer();
const v = await loadTokens("../shared/data/wikitext-2/valid.txt", "train", tok, ".cache/tokens");
const t = await loadTokens("../shared/data/wikitext-2/test.txt", "train", tok, ".cache/tokens");
// Unigram model fitted on the training text, scored on the test text (add-one smoothing over the vocabulary).
const counts = new Float64Array(50257);
for (const id of v) counts[id]++;
let nll = 0;
for (const id of t) nll -= Math.log((counts[id] + 1) / (v.length + 50257));
console.log(
  JSON.stringify({
    train_tokens: v.length,
    test_tokens: t.length,
    unigram_ppl_train_text: unigramPerplexity(v),
    unigram_add1_ppl_on_test: Math.exp(nll / t.length),
  }),
);
