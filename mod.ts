/**
 * GPT-2 training, evaluation and sampling on WebGPU: the public API. Re-exports only. Everything that runs
 * onnxruntime-node (the ONNX teacher, distillation, condensation) is in `onnx.ts`, so importing this module
 * needs no FFI permission.
 *
 * @example
 * ```ts
 * import { Gpu, GPT2, loadModelDir } from "./mod.ts";
 * const gpu = await Gpu.create();
 * const { config, params } = await loadModelDir("runs/train/model");
 * const model = new GPT2(gpu, config, params, { training: false });
 * ```
 *
 * @module
 */
export { Gpu, NoAdapterError, rowParts, type View } from "./lib/gpu/runtime.ts";
export { type GPT2Config, PRESETS } from "./lib/model/config.ts";
export { paramLayout } from "./lib/model/params.ts";
export { loadModelDir, saveModelDir } from "./lib/model/model_dir.ts";
export { Activations, GPT2, KVCache } from "./lib/model/gpt2.ts";
export { gpt2Tokenizer, loadTokenizer, type Tokenizer } from "./lib/data/tokenizer.ts";
export { loadText } from "./lib/data/text.ts";
export { loadBlocks, loadTokens } from "./lib/data/dataset.ts";
export { train, type TrainSettings } from "./lib/train/trainer.ts";
export { perplexity, slidingWindows, unigramPerplexity } from "./lib/eval/perplexity.ts";
export { generate } from "./lib/generate/generate.ts";
export { benchConfig } from "./lib/bench/training.ts";
export { exportOnnx } from "./lib/onnx/export.ts";
export { initFromTeacher } from "./lib/distill/init.ts";
