/**
 * A whole training run as the `train` task performs it: resolve the model, tokenize the data, train,
 * and write OUT/run.json, OUT/metrics.jsonl, OUT/checkpoint/ and the final model folder OUT/model/.
 * Printing goes to stderr (progress, messages) and, with `json`, one JSON object per line to stdout.
 *
 * @module
 */
import { emitJson } from "../cli/json.ts";
import { type CondensedTrainOptions, planCondensedRun } from "../condense/train_condensed.ts";
import { Progress } from "../cli/progress.ts";
import { hasSplit, loadBlocks } from "../data/dataset.ts";
import { gpt2Tokenizer, loadTokenizerFor, type Tokenizer, writeTokenizerFiles } from "../data/tokenizer.ts";
import { Gpu } from "../gpu/runtime.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { countParameters } from "../model/params.ts";
import { saveModelDir } from "../model/model_dir.ts";
import { checkpointDir, hasCheckpoint } from "./checkpoint.ts";
import { type ModelSource, resolveModel } from "./run_config.ts";
import {
  type EvalMetrics,
  type Objective,
  type StepMetrics,
  train,
  type TrainResult,
  type TrainSettings,
} from "./trainer.ts";

/** Everything a training run needs, resolved from flags or by another command. */
export interface RunOptions {
  /** Preset name or config file (train from scratch); ignored when `init` is set. */
  config?: string;
  /** Model folder to fine-tune. */
  init?: string;
  data: string;
  /** Validation text; default: the valid split of `data` when it has one; null: no validation. */
  valData?: string | null;
  out: string;
  cacheDir: string;
  resume: boolean;
  json: boolean;
  settings: TrainSettings;
  /** Device to use (created when absent). */
  gpu?: Gpu;
  /** Suppress the progress bar and messages (e.g. inside the demo, which prints its own). */
  quiet?: boolean;
  /** The starting model, already resolved (distillation's student); replaces `config`/`init`. */
  source?: ModelSource;
  /** The tokenizer, already loaded; default: `init`'s or GPT-2's. */
  tokenizer?: Tokenizer;
  /** Replaces the causal-LM micro-step (distillation); its settings belong in `runInfo`. */
  objective?: Objective;
  /** More settings that must match on resume, recorded in run.json (e.g. the distillation settings). */
  runInfo?: Record<string, unknown>;
  /** Name in messages and on the progress line (default "train"). */
  label?: string;
  /** Extra fields for the progress line from a step's objective terms. */
  progressFields?: (terms: Record<string, number>) => Record<string, string | number>;
  /** Extra fields for the final summary (JSON "done" line and the last message). */
  summary?: (result: TrainResult) => { json: Record<string, unknown>; text: string };
  /** How to train when `data` is a condensed set (lib/condense/train_condensed.ts); default: plain. */
  condensed?: CondensedTrainOptions;
  /** Whether `settings.seq` was given (default true); when not, a condensed set's example length is used. */
  seqExplicit?: boolean;
}

/** What a finished run produced. */
export interface RunOutcome extends TrainResult {
  modelDir: string;
  metricsPath: string;
}

/** Runs training end to end; see the module doc for the files written. */
export async function runTraining(o: RunOptions): Promise<RunOutcome> {
  // A condensed set brings its own T, and weights, soft targets or input embeddings need its objective.
  const condensed = await planCondensedRun({
    data: o.data,
    settings: o.settings,
    seqExplicit: o.seqExplicit ?? true,
    options: o.condensed,
    external: o.objective !== undefined,
  });
  const s = condensed?.settings ?? o.settings;
  const log = (msg: string) => {
    if (!o.quiet) console.error(msg);
  };
  // Everything that can fail on bad input happens before the GPU is touched or a file is written.
  if (o.resume && !(await hasCheckpoint(o.out))) {
    throw new Error(`no checkpoint to resume from in ${o.out} (expected ${checkpointDir(o.out)}/)`);
  }
  const label = o.label ?? "train";
  const source = o.source ??
    await resolveModel({ config: o.config, init: o.init, seed: s.seed, maxSeq: s.seq });
  const tokenizer = o.tokenizer ?? (o.init ? await loadTokenizerFor(o.init) : await gpt2Tokenizer());
  if (tokenizer.vocabSize > source.config.vocab_size) {
    throw new Error(
      `the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${source.config.vocab_size}`,
    );
  }
  condensed?.check(source.config, tokenizer.vocabSize);
  const trainBlocks = await loadBlocks(o.data, "train", tokenizer, s.seq, o.cacheDir);
  const valPath = o.valData !== undefined ? o.valData : ((await hasSplit(o.data, "valid")) ? o.data : null);
  const validBlocks = valPath
    ? await loadBlocks(valPath, valPath === o.data ? "valid" : "train", tokenizer, s.seq, o.cacheDir)
    : null;

  await Deno.mkdir(o.out, { recursive: true });
  const runInfo = {
    model: source.origin,
    data: o.data,
    valData: valPath,
    config: source.config,
    ...condensed?.runInfo,
    ...o.runInfo,
  };
  const gpu = o.gpu ?? await Gpu.create();
  log(
    `${label}: ${source.origin}, ${(countParameters(source.config) / 1e6).toFixed(2)}M parameters, ` +
      `${trainBlocks.length / s.seq} blocks of ${s.seq} tokens from ${o.data}` +
      (validBlocks ? `, ${validBlocks.length / s.seq} validation blocks` : "") + ` on ${gpu.adapterName}`,
  );
  if (condensed) log(`${label}: ${condensed.description}`);
  await writeFileAtomic(`${o.out}/run.json`, JSON.stringify({ ...runInfo, settings: s }, null, 2) + "\n");

  const metricsPath = `${o.out}/metrics.jsonl`;
  const metricLines: string[] = [];
  const saveMetrics = () => writeFileAtomic(metricsPath, metricLines.join("\n") + "\n");
  const progress = new Progress({
    total: s.steps,
    label,
    unit: "step",
    enabled: !o.json && !o.quiet,
  });
  const result = await train(
    {
      gpu,
      config: source.config,
      params: source.params,
      train: trainBlocks,
      valid: validBlocks,
      settings: s,
      out: o.out,
      resume: o.resume,
      runInfo,
      objective: o.objective ?? condensed?.objective ?? undefined,
    },
    {
      onStart: async ({ startStep }) => {
        if (startStep > 0) log(`resuming at step ${startStep}`);
        // Keep the metrics of the steps the checkpoint covers; later ones are recomputed.
        const old = o.resume ? await Deno.readTextFile(metricsPath).catch(() => "") : "";
        for (const line of old.split("\n").filter(Boolean)) {
          if ((JSON.parse(line).step ?? 0) <= startStep) metricLines.push(line);
        }
        progress.update(startStep);
      },
      onStep: (m: StepMetrics) => {
        const { terms, ...fields } = m;
        metricLines.push(JSON.stringify({ event: "step", ...fields, ...terms }));
        if (o.json) {
          emitJson({
            step: m.step,
            loss: m.loss,
            lr: m.lr,
            tokens_per_s: m.tokens_per_s,
            grad_norm: m.grad_norm,
            ...m.terms,
          });
        }
        progress.update(m.step, {
          loss: m.loss.toFixed(4),
          lr: m.lr.toExponential(2),
          "tok/s": Math.round(m.tokens_per_s),
          ...(m.terms && o.progressFields ? o.progressFields(m.terms) : {}),
        });
      },
      onEval: (m: EvalMetrics) => {
        metricLines.push(JSON.stringify({ event: "eval", ...m }));
        if (o.json) emitJson({ event: "eval", ...m });
        else if (!o.quiet) {
          progress.log(
            `step ${m.step}: validation loss ${m.val_loss.toFixed(4)}, perplexity ${m.val_ppl.toFixed(2)}`,
          );
        }
      },
      onCheckpoint: saveMetrics,
    },
  );
  progress.done();
  const modelDir = `${o.out}/model`;
  await saveModelDir(modelDir, source.config, result.model.layout, await result.model.readParams());
  await writeTokenizerFiles(modelDir, tokenizer);
  await saveMetrics();
  const summary = {
    event: "done",
    steps: result.steps,
    tokens: result.tokens,
    seconds: result.seconds,
    stopped_early: result.stoppedEarly,
    val_loss: result.lastVal?.val_loss ?? null,
    val_ppl: result.lastVal?.val_ppl ?? null,
    model: modelDir,
  };
  const extra = o.summary?.(result);
  if (o.json) emitJson({ ...summary, ...extra?.json });
  log(
    `done: ${result.steps} steps in ${result.seconds.toFixed(1)} s` +
      (result.lastVal ? `, validation perplexity ${result.lastVal.val_ppl.toFixed(2)}` : "") +
      (extra?.text ?? "") + `; model in ${modelDir}`,
  );
  return { ...result, modelDir, metricsPath };
}
