/**
 * A whole distillation run as `deno task distill` performs it: resolve the teacher (a model directory on
 * WebGPU, or an .onnx file / exported folder in onnxruntime-node) and the student (a preset or config file,
 * a model directory, or blocks copied from the teacher), check everything against everything before any
 * training, then run the training loop of lib/train with the distillation objective. Writes what
 * `deno task train` writes (OUT/run.json, metrics.jsonl, checkpoint/, model/).
 *
 * @module
 */
import { UsageError } from "../cli/args.ts";
import { gpt2Tokenizer, loadTokenizerFor, type Tokenizer } from "../data/tokenizer.ts";
import { Gpu } from "../gpu/runtime.ts";
import type { GPT2Config } from "../model/config.ts";
import { loadModelDir, type ModelDir } from "../model/model_dir.ts";
import { OnnxTeacher, type Teacher } from "../onnx/teacher.ts";
import { DISTILL_MAX_TOPK } from "../ops/distill_logits.ts";
import { checkpointDir, hasCheckpoint } from "../train/checkpoint.ts";
import { type RunOutcome, runTraining } from "../train/run.ts";
import { type ModelSource, resolveModel } from "../train/run_config.ts";
import type { TrainSettings } from "../train/trainer.ts";
import { checkCopyable, initFromTeacher, studentConfigFor } from "./init.ts";
import {
  defaultBlockMap,
  formatLayerMap,
  type HiddenPair,
  pairsFromBlockMap,
  parseBlockMap,
  parseLayerMap,
} from "./layer_map.ts";
import { checkDistillSetup, DistillObjective, type DistillSettings, needsHidden } from "./objective.ts";
import { WebGpuTeacher } from "./webgpu_teacher.ts";

/** Where the teacher runs. */
export type TeacherBackend = "auto" | "webgpu" | "onnx";

/** Everything a distillation run needs, resolved from flags. */
export interface DistillRunOptions {
  /** An .onnx file, or a model directory (WebGPU; or its onnx/ export with backend "onnx"). */
  teacher: string;
  /** "auto": a model directory with weights runs on WebGPU, an .onnx file (or a folder without weights) in ORT. */
  teacherBackend: TeacherBackend;
  /** ONNX teachers: keep only the top-k logits per position (0 = full logits). */
  teacherTopK: number;
  /** ONNX teachers: disk cache of teacher batches (off when absent). */
  teacherCache?: string;
  /** ONNX teachers: ORT threads per operator (default: all cores). */
  teacherThreads?: number;
  /** ONNX teachers: micro-batches computed ahead. */
  prefetch: number;
  /** Student: a preset name or config file (fresh weights), or a model directory. */
  student?: string;
  /** Copy the student from the teacher: "default" (evenly spaced; DistilGPT2's for 12 → 6) or "0,2,4". */
  initFromTeacher?: string;
  /** `--layer-map` text (student:teacher hidden-state pairs); default from the block map. */
  layerMap?: string;
  /** Loss weights and auxiliaries (pairs come from `layerMap`). */
  distill: Omit<DistillSettings, "pairs" | "cosPairs">;
  data: string;
  valData?: string;
  out: string;
  cacheDir: string;
  resume: boolean;
  json: boolean;
  settings: TrainSettings;
  gpu?: Gpu;
  quiet?: boolean;
}

/** A distillation run's outcome: the training outcome plus the teacher's wait. */
export interface DistillOutcome extends RunOutcome {
  /** Fraction of the steps' time spent waiting for the teacher. */
  teacherWaitFraction: number;
}

/** The teacher's files: how to run it and where its weights are (for copying blocks). */
interface TeacherFiles {
  backend: "webgpu" | "onnx";
  /** Model directory with config.json + model.safetensors, when there is one. */
  weightsDir: string | null;
}

async function stat(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

async function hasWeights(dir: string): Promise<boolean> {
  return (await stat(`${dir}/model.safetensors`))?.isFile === true &&
    (await stat(`${dir}/config.json`))?.isFile === true;
}

/** Decides the backend and finds the teacher's weights; one-line errors for paths that are neither. */
async function teacherFiles(path: string, backend: TeacherBackend): Promise<TeacherFiles> {
  const info = await stat(path);
  if (!info) throw new Error(`teacher ${path}: not found`);
  if (info.isFile) {
    if (!path.endsWith(".onnx")) {
      throw new Error(`teacher ${path}: neither an .onnx file nor a model directory`);
    }
    if (backend === "webgpu") {
      throw new Error(`teacher ${path}: --teacher-backend webgpu needs a model directory, not an .onnx file`);
    }
    // DIR/onnx/x.onnx belongs to the model folder DIR.
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
    const folder = dir.endsWith("/onnx") || dir === "onnx"
      ? (dir.includes("/") ? dir.slice(0, dir.lastIndexOf("/")) : ".")
      : dir;
    return { backend: "onnx", weightsDir: await hasWeights(folder) ? folder : null };
  }
  const weights = await hasWeights(path);
  const chosen = backend === "auto" ? (weights ? "webgpu" : "onnx") : backend;
  if (chosen === "webgpu" && !weights) {
    throw new Error(`teacher ${path}: no config.json + model.safetensors to run on WebGPU`);
  }
  return { backend: chosen, weightsDir: weights ? path : null };
}

/** The student, its tokenizer source and the block map when it was copied from the teacher. */
interface StudentPlan {
  source: ModelSource;
  tokenizerDir: string | null;
  blocks: number[] | null;
}

async function loadTeacherWeights(dir: string): Promise<ModelDir> {
  try {
    return await loadModelDir(dir);
  } catch (e) {
    throw new Error(`teacher ${dir}: ${(e as Error).message}`);
  }
}

/** Resolves `--student` / `--init-from-teacher` into the starting weights. */
async function planStudent(
  o: DistillRunOptions,
  files: TeacherFiles,
  teacher: ModelDir | null,
): Promise<StudentPlan> {
  const s = o.settings;
  if (o.initFromTeacher !== undefined) {
    if (!files.weightsDir || !teacher) {
      throw new Error(
        `--init-from-teacher needs the teacher's weights: ${o.teacher} has no config.json + model.safetensors next to it`,
      );
    }
    const tc = teacher.config;
    let arch: GPT2Config | null = null;
    let archOrigin = "";
    if (o.student !== undefined) {
      if ((await stat(o.student))?.isDirectory) {
        throw new UsageError("give --student DIR (a trained student) or --init-from-teacher, not both");
      }
      const r = await resolveModel({ config: o.student, seed: s.seed, maxSeq: s.seq });
      arch = r.config;
      archOrigin = `,${r.origin}`;
    }
    const blocks = o.initFromTeacher === "default"
      ? defaultBlockMap(tc.n_layer, arch?.n_layer ?? Math.ceil(tc.n_layer / 2))
      : parseBlockMap(o.initFromTeacher, tc.n_layer);
    const config = arch ?? studentConfigFor(tc, blocks);
    checkCopyable(tc, config, blocks);
    if (s.seq > config.n_positions) {
      throw new Error(`--seq ${s.seq} is longer than the student's n_positions ${config.n_positions}`);
    }
    const { params } = initFromTeacher(tc, teacher.layout, teacher.params, config, blocks);
    return {
      source: { config, params, origin: `teacher:${files.weightsDir}[${blocks.join(",")}]${archOrigin}` },
      tokenizerDir: files.weightsDir,
      blocks,
    };
  }
  if (o.student === undefined) {
    throw new UsageError("give the student: --student PRESET|FILE|DIR or --init-from-teacher [LAYERS]");
  }
  const isDir = (await stat(o.student))?.isDirectory === true;
  const source = await resolveModel({
    config: isDir ? undefined : o.student,
    init: isDir ? o.student : undefined,
    seed: s.seed,
    maxSeq: s.seq,
  });
  return { source, tokenizerDir: isDir ? o.student : null, blocks: null };
}

/** Hidden-state pairs: `--layer-map`, else the block map's, else an evenly spaced map; cos: the last states. */
function planPairs(
  o: DistillRunOptions,
  studentLayers: number,
  teacherLayers: number | null,
  blocks: number[] | null,
): { pairs: HiddenPair[]; cosPairs: HiddenPair[] } {
  const d = o.distill;
  if (!(d.alphaCos > 0 || d.alphaMse > 0 || d.alphaWd > 0)) return { pairs: [], cosPairs: [] };
  if (teacherLayers === null) throw new Error(`teacher ${o.teacher}: its number of hidden states is unknown`);
  if (o.layerMap !== undefined) {
    const pairs = parseLayerMap(o.layerMap, studentLayers, teacherLayers);
    return { pairs, cosPairs: pairs };
  }
  const last = [{ student: studentLayers, teacher: teacherLayers }];
  let pairs = last;
  if (blocks) pairs = pairsFromBlockMap(blocks);
  else if (studentLayers <= teacherLayers) {
    pairs = pairsFromBlockMap(defaultBlockMap(teacherLayers, studentLayers));
  }
  return { pairs, cosPairs: last };
}

/** Runs distillation end to end; see the module doc. */
export async function runDistillation(o: DistillRunOptions): Promise<DistillOutcome> {
  const s = o.settings;
  const log = (msg: string) => {
    if (!o.quiet) console.error(msg);
  };
  // Bad input fails here, before the GPU is touched, a file is written or a step runs.
  if (o.resume && !(await hasCheckpoint(o.out))) {
    throw new Error(`no checkpoint to resume from in ${o.out} (expected ${checkpointDir(o.out)}/)`);
  }
  const files = await teacherFiles(o.teacher, o.teacherBackend);
  if (o.teacherTopK > DISTILL_MAX_TOPK) {
    throw new UsageError(
      `--teacher-topk ${o.teacherTopK} exceeds the largest supported k, ${DISTILL_MAX_TOPK}`,
    );
  }
  if (o.teacherTopK > 0 && files.backend !== "onnx") {
    throw new UsageError(
      "--teacher-topk applies to ONNX teachers only (the WebGPU teacher passes full logits on the GPU)",
    );
  }
  const teacherWeights = files.backend === "webgpu" || o.initFromTeacher !== undefined
    ? (files.weightsDir ? await loadTeacherWeights(files.weightsDir) : null)
    : null;
  const plan = await planStudent(o, files, teacherWeights);
  const studentConfig = plan.source.config;
  const tokenizer: Tokenizer = plan.tokenizerDir
    ? await loadTokenizerFor(plan.tokenizerDir)
    : await gpt2Tokenizer();
  if (tokenizer.vocabSize > studentConfig.vocab_size) {
    throw new Error(
      `the tokenizer has ${tokenizer.vocabSize} tokens but the student only ${studentConfig.vocab_size}`,
    );
  }

  const gpu = o.gpu ?? await Gpu.create();
  const expect = {
    vocabSize: studentConfig.vocab_size,
    seq: s.seq,
    needHidden: needsHidden({ ...o.distill, pairs: [], cosPairs: [] }),
  };
  let teacher: Teacher;
  let teacherLayers: number | null;
  let teacherWidth: number | null;
  if (files.backend === "webgpu") {
    const t = WebGpuTeacher.fromLoaded(gpu, files.weightsDir!, teacherWeights!, expect);
    teacher = t;
    teacherLayers = t.config.n_layer;
    teacherWidth = t.config.n_embd;
  } else {
    teacher = await OnnxTeacher.open(o.teacher, expect, {
      topK: o.teacherTopK,
      cacheDir: o.teacherCache,
      threads: o.teacherThreads,
    });
    teacherLayers = teacher.info.hiddenStates > 0
      ? teacher.info.hiddenStates - 1
      : teacherWeights?.config.n_layer ?? null;
    teacherWidth = teacher.info.nEmbd ?? teacherWeights?.config.n_embd ?? null;
  }
  try {
    const { pairs, cosPairs } = planPairs(o, studentConfig.n_layer, teacherLayers, plan.blocks);
    const settings: DistillSettings = { ...o.distill, pairs, cosPairs };
    checkDistillSetup(settings, studentConfig, { layers: teacherLayers, width: teacherWidth });
    const objective = new DistillObjective(teacher, settings, { prefetch: o.prefetch });
    log(
      `distill: teacher ${o.teacher} (${files.backend === "webgpu" ? "WebGPU" : "onnxruntime-node"}` +
        `${teacherLayers !== null ? `, ${teacherLayers} blocks` : ""}), ${describeLoss(settings)}`,
    );
    const outcome = await runTraining({
      data: o.data,
      valData: o.valData,
      out: o.out,
      cacheDir: o.cacheDir,
      resume: o.resume,
      json: o.json,
      settings: s,
      gpu,
      quiet: o.quiet,
      source: plan.source,
      tokenizer,
      objective,
      label: "distill",
      runInfo: {
        teacher: { path: o.teacher, backend: files.backend, topK: o.teacherTopK },
        distill: {
          ...o.distill,
          pairs: formatLayerMap(pairs),
          cosPairs: formatLayerMap(cosPairs),
        },
      },
      progressFields: (t) => ({
        ce: t.loss_ce.toFixed(3),
        wait: `${(100 * t.teacher_wait).toFixed(0)}%`,
      }),
      summary: () => {
        const w = objective.teacherWait;
        return {
          json: { teacher_wait_fraction: w.fraction, teacher_wait_s: w.ms / 1000 },
          text: `, teacher wait ${(100 * w.fraction).toFixed(1)}% of step time`,
        };
      },
    });
    return { ...outcome, teacherWaitFraction: objective.teacherWait.fraction };
  } finally {
    teacher.close();
  }
}

/** "5·ce(T=2) + 2·clm + 1·cos[6:12]" */
function describeLoss(s: DistillSettings): string {
  const parts: string[] = [];
  if (s.alphaCe > 0) parts.push(`${s.alphaCe}·ce(T=${s.temperature})`);
  if (s.alphaClm > 0) parts.push(`${s.alphaClm}·clm`);
  if (s.alphaRkl > 0) parts.push(`${s.alphaRkl}·rkl(T=${s.temperature})`);
  if (s.alphaCos > 0) parts.push(`${s.alphaCos}·cos[${formatLayerMap(s.cosPairs)}]`);
  if (s.alphaMse > 0) parts.push(`${s.alphaMse}·mse[${formatLayerMap(s.pairs)}]`);
  if (s.alphaWd > 0) parts.push(`${s.alphaWd}·wd[${formatLayerMap(s.pairs)}]`);
  return `loss ${parts.join(" + ")}`;
}
