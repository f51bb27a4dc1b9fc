/**
 * Training checkpoints: the model as a Hugging Face directory, the AdamW moments, and the loop's state
 * (step, data position), written so that a crash at any moment leaves the previous checkpoint intact.
 *
 * Layout of `OUT/checkpoint/`:
 * - `model/`: config.json + model.safetensors (loadable on its own)
 * - `optimizer.safetensors`: AdamW `m` and `v`, flat in parameter-layout order
 * - `state.json`: step, sampler state, and the resolved run configuration
 * - `objective.safetensors` (only for runs with an objective such as distillation): the objective's own
 *   tensors (projection and critic parameters and their moments); its JSON state is `objective` in
 *   state.json
 *
 * @module
 */
import type { GPT2Config } from "../model/config.ts";
import type { ParamLayout } from "../model/params.ts";
import { encodeSafetensors, parseSafetensors } from "../model/safetensors.ts";
import { loadModelDir, saveModelDir } from "../model/model_dir.ts";
import { writeFileAtomic } from "../io/atomic.ts";

/** Everything besides tensors that a resumed run needs. */
export interface LoopState {
  /** Optimizer steps completed. */
  step: number;
  /** Batch sampler position. */
  sampler: { epoch: number; cursor: number };
  /** Tokens processed so far. */
  tokens: number;
  /** The run's resolved configuration, to check that a resume uses the same settings. */
  run: Record<string, unknown>;
}

/** A training objective's own state in a checkpoint (see `Objective` in trainer.ts). */
export interface ExtraState {
  /** Named float32 tensors (stored in objective.safetensors). */
  tensors: { name: string; data: Float32Array }[];
  /** JSON-serialisable values (stored as `objective` in state.json). */
  state: Record<string, unknown>;
}

/** A loaded checkpoint. */
export interface Checkpoint {
  config: GPT2Config;
  params: Float32Array;
  m: Float32Array;
  v: Float32Array;
  state: LoopState;
  /** The objective's state, or null for a plain training run. */
  extra: ExtraState | null;
}

const STATE_VERSION = 1;

/** Path of the checkpoint directory inside a run's output folder. */
export function checkpointDir(out: string): string {
  return `${out}/checkpoint`;
}

/**
 * Writes a checkpoint into `OUT/checkpoint/`: everything is written to a fresh temporary directory first,
 * which then replaces the previous checkpoint by renames.
 */
export async function saveCheckpoint(
  out: string,
  config: GPT2Config,
  layout: ParamLayout,
  params: Float32Array,
  moments: { m: Float32Array; v: Float32Array },
  state: LoopState,
  extra?: ExtraState,
): Promise<void> {
  const final = checkpointDir(out);
  const tmp = `${final}.tmp`;
  const old = `${final}.old`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true });
  await saveModelDir(`${tmp}/model`, config, layout, params);
  await writeFileAtomic(
    `${tmp}/optimizer.safetensors`,
    encodeSafetensors([
      { name: "m", shape: [moments.m.length], data: moments.m },
      { name: "v", shape: [moments.v.length], data: moments.v },
    ], { format: "adamw-moments" }),
  );
  if (extra) {
    await writeFileAtomic(
      `${tmp}/objective.safetensors`,
      encodeSafetensors(
        extra.tensors.map((t) => ({ name: t.name, shape: [t.data.length], data: t.data })),
        { format: "objective-state" },
      ),
    );
  }
  const json = extra ? { version: STATE_VERSION, ...state, objective: extra.state } : {
    version: STATE_VERSION,
    ...state,
  };
  await writeFileAtomic(`${tmp}/state.json`, JSON.stringify(json, null, 2) + "\n");
  await Deno.remove(old, { recursive: true }).catch(() => {});
  const hadPrevious = await exists(final);
  if (hadPrevious) await Deno.rename(final, old);
  await Deno.rename(tmp, final);
  if (hadPrevious) await Deno.remove(old, { recursive: true });
}

/** Whether `OUT/checkpoint/` (or the `.old` copy a crash mid-swap leaves) exists. */
export async function hasCheckpoint(out: string): Promise<boolean> {
  return (await exists(checkpointDir(out))) || (await exists(`${checkpointDir(out)}.old`));
}

/** Reads `OUT/checkpoint/`, recovering from a crash between the two renames of `saveCheckpoint`. */
export async function loadCheckpoint(out: string): Promise<Checkpoint> {
  let dir = checkpointDir(out);
  if (!(await exists(dir))) {
    if (await exists(`${dir}.old`)) dir = `${dir}.old`;
    else throw new Error(`no checkpoint to resume from in ${out} (expected ${checkpointDir(out)}/)`);
  }
  const { config, params } = await loadModelDir(`${dir}/model`);
  const opt = parseSafetensors(
    await Deno.readFile(`${dir}/optimizer.safetensors`),
    `${dir}/optimizer.safetensors`,
  );
  const m = opt.get("m")?.data;
  const v = opt.get("v")?.data;
  if (!m || !v || m.length !== params.length || v.length !== params.length) {
    throw new Error(`${dir}/optimizer.safetensors does not hold moments matching the model`);
  }
  let state: LoopState & { version?: number; objective?: Record<string, unknown> };
  try {
    state = JSON.parse(await Deno.readTextFile(`${dir}/state.json`));
  } catch (e) {
    throw new Error(`${dir}/state.json is unreadable: ${(e as Error).message}`);
  }
  if (state.version !== STATE_VERSION) {
    throw new Error(`${dir}/state.json has unsupported version ${state.version}`);
  }
  let extra: ExtraState | null = null;
  if (state.objective !== undefined) {
    const path = `${dir}/objective.safetensors`;
    const file = parseSafetensors(await Deno.readFile(path), path);
    extra = {
      tensors: [...file.entries()].map(([name, t]) => ({ name, data: t.data })),
      state: state.objective,
    };
    delete state.objective;
  }
  return { config, params, m, v, state, extra };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
