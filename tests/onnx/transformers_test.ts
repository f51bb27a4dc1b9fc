/**
 * The exported folder as a transformers.js model: loads offline from a local path and `generate()`
 * (greedy, KV cache) continues a prompt exactly as our own greedy decode on the WebGPU model does.
 */
import assert from "node:assert/strict";
import { AutoModelForCausalLM, AutoTokenizer, env } from "@huggingface/transformers";
import { loadTokenizerFor } from "../../lib/data/tokenizer.ts";
import { generate } from "../../lib/generate/generate.ts";
import { GPT2 } from "../../lib/model/gpt2.ts";
import { exportOnnx } from "../../lib/onnx/export.ts";
import { testGpu } from "../_check.ts";
import { tinyModelDir } from "./_helpers.ts";

Deno.test("an exported folder loads in transformers.js offline and greedy generate() equals our greedy decode", async () => {
  // GPT-2's vocabulary, so that the folder gets GPT-2's tokenizer files; a narrow model keeps it quick.
  const m = await tinyModelDir({ vocab_size: 50257, n_embd: 64, n_head: 4, n_layer: 2, n_positions: 64 }, 5, {
    mixing: true,
  });
  const parent = m.dir.slice(0, m.dir.lastIndexOf("/"));
  const name = m.dir.slice(m.dir.lastIndexOf("/") + 1);
  try {
    const r = await exportOnnx(m.dir);
    assert.equal(r.tokenizer, "written");
    for (
      const f of [
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "onnx/model.onnx",
      ]
    ) {
      await Deno.stat(`${m.dir}/${f}`);
    }
    const prompt = "Hello world, this is";
    const maxNew = 8;

    // Ours: the WebGPU model, greedy (temperature 0), no stop token.
    const ours = await loadTokenizerFor(m.dir);
    const promptIds = ours.encode(prompt);
    const gpu = await testGpu();
    const model = new GPT2(gpu, m.config, m.params, { training: false });
    const ourIds = await generate(model, promptIds, {
      maxNewTokens: maxNew,
      temperature: 0,
      topK: 0,
      topP: 1,
      seed: 0,
      stopToken: null,
    });

    // transformers.js from the local folder only.
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = parent;
    const tokenizer = await AutoTokenizer.from_pretrained(name, { local_files_only: true });
    const inputs = tokenizer(prompt);
    assert.deepEqual(Array.from(inputs.input_ids.data as BigInt64Array, Number), promptIds);
    const theirGreedy = async () => {
      const lm = await AutoModelForCausalLM.from_pretrained(name, { local_files_only: true, dtype: "fp32" });
      try {
        const output = await lm.generate({
          ...inputs,
          max_new_tokens: maxNew,
          do_sample: false,
          // Our decode has no stop token; the random model may well emit <|endoftext|>.
          eos_token_id: [],
        }) as { data: BigInt64Array; dims: number[] };
        return Array.from(output.data, Number).slice(promptIds.length);
      } finally {
        await lm.dispose();
      }
    };
    const theirIds = await theirGreedy();
    assert.deepEqual(theirIds, ourIds, "greedy continuation ids");
    assert.ok(new Set(ourIds).size >= 3, `a continuation that depends on context, got ${ourIds}`);
    const text = tokenizer.decode(theirIds);
    assert.ok(text.length > 0);
    assert.equal(text, ours.decode(ourIds));

    // The same folder with its weights in onnx/model.onnx_data (the > 2 GiB layout): config.json tells
    // transformers.js to load the data file.
    const ext = await exportOnnx(m.dir, { externalData: true });
    assert.ok(ext.dataPath);
    assert.deepEqual(await theirGreedy(), ourIds, "greedy ids with external data");
  } finally {
    await Deno.remove(m.dir, { recursive: true });
  }
});
