/**
 * Resolving a training run's model: a preset name, a GPT2 config.json file, or a model directory to
 * fine-tune. Kept apart from the task so other commands (distillation, condensation) resolve models the
 * same way.
 *
 * @module
 */
import { type GPT2Config, PRESETS, validateConfig } from "../model/config.ts";
import { loadModelDir } from "../model/model_dir.ts";
import { initParams, paramLayout } from "../model/params.ts";

/** The model a run starts from. */
export interface ModelSource {
  config: GPT2Config;
  params: Float32Array;
  /** "preset:small", "config:path.json" or "init:DIR", recorded with the run. */
  origin: string;
}

/** Names accepted by `--config` besides a file path. */
export const PRESET_NAMES = Object.keys(PRESETS) as (keyof typeof PRESETS)[];

/**
 * The architecture named by `--config`: a preset name or a JSON file with GPT2Config keys (a Hugging
 * Face config.json works).
 */
export async function resolveArchitecture(config: string): Promise<{ config: GPT2Config; origin: string }> {
  if (config in PRESETS) {
    return { config: PRESETS[config as keyof typeof PRESETS], origin: `preset:${config}` };
  }
  let text: string;
  try {
    text = await Deno.readTextFile(config);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(
        `--config ${config} is neither a preset (${PRESET_NAMES.join(", ")}) nor an existing file`,
      );
    }
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${config} is not valid JSON: ${(e as Error).message}`);
  }
  return { config: validateConfig(json), origin: `config:${config}` };
}

/**
 * The starting model of a run: fresh weights (seeded) for `--config`, or the weights of `--init DIR`
 * (fine-tuning). `maxSeq` is checked against the model's context.
 */
export async function resolveModel(
  opts: { config?: string; init?: string; seed: number; maxSeq: number },
): Promise<ModelSource> {
  if (opts.config && opts.init) {
    throw new Error("give either --config (train from scratch) or --init (fine-tune), not both");
  }
  let source: ModelSource;
  if (opts.init) {
    const loaded = await loadModelDir(opts.init);
    source = { config: loaded.config, params: loaded.params, origin: `init:${opts.init}` };
  } else {
    const arch = await resolveArchitecture(opts.config ?? "tiny");
    source = {
      config: arch.config,
      params: initParams(arch.config, paramLayout(arch.config), opts.seed),
      origin: arch.origin,
    };
  }
  if (opts.maxSeq > source.config.n_positions) {
    throw new Error(
      `--seq ${opts.maxSeq} is longer than the model's n_positions ${source.config.n_positions}`,
    );
  }
  return source;
}
