/**
 * An ONNX teacher for knowledge distillation: a GPT-2-like causal LM in onnxruntime-node (CPU), run in a
 * Web Worker with a prefetch queue so the training loop's GPU work never waits on it unless the teacher
 * is slower than the student.
 *
 * ```ts
 * const teacher = await OnnxTeacher.open("runs/gpt2", { vocabSize: 50257, seq: 128, needHidden: false });
 * const ticket = teacher.prefetch(nextIds, B, T);   // queue the next batch early
 * …                                                  // GPU work on the current batch
 * const { logits } = await teacher.get(ticket);      // (B, T, V), usually already there
 * console.log(teacher.stats().waitMs);               // time the loop spent waiting
 * teacher.close();
 * ```
 *
 * Accepted graphs: our onnx/hidden.onnx (inputs input_ids, attention_mask) and onnx/model.onnx or any
 * Optimum/transformers.js decoder export (plus position_ids and past_key_values.*, fed an empty past).
 * Permissions: --allow-ffi (onnxruntime-node), --allow-read, and --allow-write for a cache folder.
 *
 * @module
 */
import type { ValueInfo } from "./session.ts";
import type { TeacherBatch } from "./teacher_cache.ts";
import type { OpenRequest, RunRequest, WorkerReply } from "./teacher_worker.ts";

export type { TeacherBatch, TopKLogits } from "./teacher_cache.ts";
export { topKProbabilities } from "./teacher_cache.ts";

/** What the student needs from a teacher; checked when the teacher is opened. */
export interface TeacherExpect {
  /** The student's V: the teacher's logits must have exactly this many columns. */
  vocabSize: number;
  /** Tokens per sequence (T) the teacher will see: at most the teacher's n_positions. */
  seq: number;
  /** The teacher must output hidden_states.* (onnx/hidden.onnx). */
  needHidden: boolean;
}

/** Options of {@link OnnxTeacher.open}. */
export interface OnnxTeacherOptions {
  /** Prefetched batches keep only the top-k logits per position (0 = full logits, the default). */
  topK?: number;
  /** Disk cache of prefetched batches, keyed by (teacher file hash, batch ids); off by default. */
  cacheDir?: string;
  /** ORT threads per operator (default: ORT's choice, all cores). */
  threads?: number;
}

/** What the opened teacher is. */
export interface TeacherInfo {
  /** The .onnx file in use. */
  path: string;
  /** "hidden": hidden.onnx-style inputs; "decoder": with position_ids and a KV cache input. */
  graph: "hidden" | "decoder";
  /** V of the logits (checked against the student's). */
  vocabSize: number;
  /** n_positions from the model folder's config.json, or null when there is none. */
  nPositions: number | null;
  /** Hidden-state outputs (L + 1 for ours), 0 when not fetched. */
  hiddenStates: number;
  /** C of the hidden states, or null when not fetched or symbolic. */
  nEmbd: number | null;
  /** SHA-256 of the teacher's files, when a cache is used. */
  hash?: string;
}

/** The result of a direct {@link OnnxTeacher.run}. */
export interface TeacherOutput {
  /** (B, T, V) */
  logits: Float32Array;
  /** L+1 × (B, T, C), when the teacher was opened with needHidden. */
  hidden?: Float32Array[];
}

/** Time accounting of a teacher. */
export interface TeacherStats {
  /** Batches computed or read from the cache (prefetched and direct). */
  batches: number;
  /** Prefetched batches served from the disk cache. */
  cacheHits: number;
  /** Milliseconds `get` spent waiting for batches that were not ready yet. */
  waitMs: number;
  /** Milliseconds the worker spent producing batches. */
  teacherMs: number;
}

/** Any distillation teacher (ONNX here; a WebGPU model directory is another implementation). */
export interface Teacher {
  readonly info: TeacherInfo;
  /** Runs one batch now (full logits, no cache). */
  run(ids: Uint32Array, B: number, T: number): Promise<TeacherOutput>;
  /** Queues a batch; returns the ticket for `get`. */
  prefetch(ids: Uint32Array, B: number, T: number): number;
  /** The batch of a ticket (waits if needed); each ticket can be taken once. */
  get(ticket: number): Promise<TeacherBatch>;
  stats(): TeacherStats;
  close(): void;
}

interface Pending {
  resolve: (b: TeacherBatch) => void;
  reject: (e: Error) => void;
}

/** The files behind a teacher path. */
interface Resolved {
  onnx: string;
  /** The model folder's config.json, when there is one. */
  config: string | null;
  /** The .onnx file and its external data files, for the cache key. */
  hashFiles: string[];
}

/** An onnxruntime-node teacher in a Web Worker. Create with {@link OnnxTeacher.open}. */
export class OnnxTeacher implements Teacher {
  readonly info: TeacherInfo;
  #worker: Worker;
  #pending = new Map<number, Pending>();
  #ready = new Map<number, Promise<TeacherBatch>>();
  #next = 0;
  #tickets = 0;
  #stats: TeacherStats = { batches: 0, cacheHits: 0, waitMs: 0, teacherMs: 0 };
  #failed: Error | null = null;
  #expect: TeacherExpect;

  private constructor(worker: Worker, info: TeacherInfo, expect: TeacherExpect) {
    this.#worker = worker;
    this.info = info;
    this.#expect = expect;
    worker.onmessage = (e: MessageEvent<WorkerReply>) => this.#onReply(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#failAll(new Error(`teacher worker crashed: ${e.message}`));
    };
  }

  /**
   * Opens a teacher: an .onnx file, or a model folder (its onnx/hidden.onnx when present or needed,
   * else onnx/model.onnx). Validates it against the student before any batch runs and throws a one-line
   * Error for an unreadable file, missing or unknown inputs, missing outputs, a vocabulary that differs
   * from the student's or a sequence longer than the teacher's n_positions.
   */
  static async open(
    path: string,
    expect: TeacherExpect,
    options: OnnxTeacherOptions = {},
  ): Promise<OnnxTeacher> {
    const topK = options.topK ?? 0;
    if (!Number.isInteger(topK) || topK < 0) {
      throw new Error(`teacher top-k must be an integer ≥ 0, got ${topK}`);
    }
    if (topK > expect.vocabSize) {
      throw new Error(`teacher top-k ${topK} exceeds the vocabulary (${expect.vocabSize})`);
    }
    const files = await resolveTeacher(path, expect.needHidden);
    const nPositions = files.config ? await readPositions(files.config, expect.vocabSize, path) : null;
    const worker = new Worker(new URL("./teacher_worker.ts", import.meta.url), { type: "module" });
    try {
      const request: OpenRequest = {
        type: "open",
        path: files.onnx,
        hashFiles: files.hashFiles,
        threads: options.threads,
        needHidden: expect.needHidden,
        topK,
        cacheDir: options.cacheDir,
      };
      const opened = await new Promise<WorkerReply>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent<WorkerReply>) => resolve(e.data);
        worker.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          reject(new Error(`teacher ${path}: the worker failed to start (${e.message})`));
        };
        worker.postMessage(request);
      });
      if (opened.type === "error") throw new Error(`teacher ${path}: ${opened.message}`);
      if (opened.type !== "opened") {
        throw new Error(`teacher ${path}: unexpected worker reply ${opened.type}`);
      }
      const info = checkTeacherGraph(files.onnx, opened.inputs, opened.outputs, expect, nPositions);
      info.hash = opened.hash;
      return new OnnxTeacher(worker, info, expect);
    } catch (e) {
      worker.terminate();
      throw e;
    }
  }

  /** Runs one batch of ids (B, T) now, in the worker, without the cache or top-k. */
  async run(ids: Uint32Array, B: number, T: number): Promise<TeacherOutput> {
    const batch = await this.#send(ids, B, T, false);
    const out: TeacherOutput = { logits: batch.logits! };
    if (batch.hidden) out.hidden = batch.hidden;
    return out;
  }

  /** Queues ids (B, T) (copied) and returns the ticket for {@link get}. */
  prefetch(ids: Uint32Array, B: number, T: number): number {
    const ticket = this.#tickets++;
    const promise = this.#send(ids, B, T, true);
    promise.catch(() => {}); // reported by get(); never an unhandled rejection
    this.#ready.set(ticket, promise);
    return ticket;
  }

  /** The prefetched batch of `ticket`; the time spent waiting for it is counted in `stats().waitMs`. */
  async get(ticket: number): Promise<TeacherBatch> {
    const promise = this.#ready.get(ticket);
    if (promise === undefined) {
      throw new Error(`teacher: no prefetched batch ${ticket} (taken already, or never queued)`);
    }
    this.#ready.delete(ticket);
    const t0 = performance.now();
    try {
      return await promise;
    } finally {
      this.#stats.waitMs += performance.now() - t0;
    }
  }

  /** Counters since the teacher was opened. */
  stats(): TeacherStats {
    return { ...this.#stats };
  }

  /** Stops the worker; pending batches fail. */
  close(): void {
    this.#worker.terminate();
    this.#failAll(new Error("teacher closed"));
  }

  #send(ids: Uint32Array, B: number, T: number, prefetch: boolean): Promise<TeacherBatch> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (!(Number.isInteger(B) && Number.isInteger(T) && B > 0 && T > 0) || ids.length !== B * T) {
      return Promise.reject(new Error(`teacher: ids hold ${ids.length} tokens, not B·T = ${B}×${T}`));
    }
    if (this.info.nPositions !== null && T > this.info.nPositions) {
      return Promise.reject(
        new Error(`teacher: sequence length ${T} exceeds its n_positions ${this.info.nPositions}`),
      );
    }
    const id = this.#next++;
    const request: RunRequest = { type: "run", id, ids: ids.slice(), B, T, prefetch };
    return new Promise<TeacherBatch>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage(request, [request.ids.buffer as ArrayBuffer]);
    });
  }

  #onReply(reply: WorkerReply): void {
    if (reply.type === "opened") return;
    const pending = reply.id === null ? undefined : this.#pending.get(reply.id);
    if (reply.type === "error") {
      const error = new Error(`teacher ${this.info.path}: ${reply.message}`);
      if (pending) {
        this.#pending.delete(reply.id!);
        pending.reject(error);
      } else this.#failAll(error);
      return;
    }
    if (!pending) return;
    this.#pending.delete(reply.id);
    const { batch } = reply;
    if (batch.V !== this.#expect.vocabSize) {
      pending.reject(
        new Error(
          `teacher ${this.info.path}: returned V = ${batch.V} logits, the student has ${this.#expect.vocabSize}`,
        ),
      );
      return;
    }
    this.#stats.batches++;
    if (batch.fromCache) this.#stats.cacheHits++;
    this.#stats.teacherMs += reply.ms;
    pending.resolve(batch);
  }

  #failAll(error: Error): void {
    this.#failed ??= error;
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}

const ALLOWED_INPUTS = /^(input_ids|attention_mask|position_ids|past_key_values\.\d+\.(key|value))$/;

/**
 * Checks a teacher graph's interface against the student; returns what it is or throws a one-line Error
 * ("teacher PATH: …"). Pure: the worker reports the session's metadata and this decides.
 */
export function checkTeacherGraph(
  path: string,
  inputs: ValueInfo[],
  outputs: ValueInfo[],
  expect: TeacherExpect,
  nPositions: number | null = null,
): TeacherInfo {
  const fail = (why: string): never => {
    throw new Error(`teacher ${path}: ${why}`);
  };
  const names = inputs.map((i) => i.name);
  const ids = inputs.find((i) => i.name === "input_ids");
  if (!ids) fail(`has no input "input_ids" (inputs: ${names.join(", ") || "none"}); not a causal LM export`);
  if (ids!.type !== "int64" || ids!.dims.length !== 2) {
    fail(`input "input_ids" must be int64 [batch, sequence], got ${ids!.type} [${ids!.dims}]`);
  }
  const unknown = names.filter((n) => !ALLOWED_INPUTS.test(n));
  if (unknown.length > 0) {
    fail(
      `unsupported input "${
        unknown[0]
      }" (a teacher may take input_ids, attention_mask, position_ids, past_key_values.*)`,
    );
  }
  for (const p of inputs.filter((i) => i.name.startsWith("past_key_values."))) {
    if (p.dims.length !== 4 || typeof p.dims[1] !== "number" || typeof p.dims[3] !== "number") {
      fail(
        `input "${p.name}" must be [batch, heads, past, head_dim] with fixed heads and head_dim, got [${p.dims}]`,
      );
    }
  }
  const logits = outputs.find((o) => o.name === "logits");
  if (!logits) fail(`has no output "logits" (outputs: ${outputs.map((o) => o.name).join(", ")})`);
  if (logits!.dims.length !== 3) {
    fail(`output "logits" must be [batch, sequence, vocab], got [${logits!.dims}]`);
  }
  const V = logits!.dims[2];
  if (typeof V === "number" && V !== expect.vocabSize) {
    fail(`vocabulary mismatch: the teacher has V = ${V}, the student ${expect.vocabSize}`);
  }
  const hidden = outputs.filter((o) => /^hidden_states\.\d+$/.test(o.name));
  if (expect.needHidden && hidden.length === 0) {
    fail(
      `has no hidden_states.* outputs, needed for hidden-state distillation (export with --hidden and use onnx/hidden.onnx)`,
    );
  }
  if (nPositions !== null && expect.seq > nPositions) {
    fail(`sequence length ${expect.seq} exceeds the teacher's n_positions ${nPositions}`);
  }
  const C = expect.needHidden ? hidden[0].dims[2] : undefined;
  return {
    path,
    graph: names.includes("position_ids") || names.some((n) => n.startsWith("past_key_values."))
      ? "decoder"
      : "hidden",
    vocabSize: typeof V === "number" ? V : expect.vocabSize,
    nPositions,
    hiddenStates: expect.needHidden ? hidden.length : 0,
    nEmbd: typeof C === "number" ? C : null,
  };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Maps a teacher path (file or model folder) to its .onnx file, config.json and hashed files. */
async function resolveTeacher(path: string, needHidden: boolean): Promise<Resolved> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "not found" : (e as Error).message;
    throw new Error(`teacher ${path}: ${why}`);
  }
  let onnx: string;
  let folder: string;
  if (stat.isDirectory) {
    const hidden = `${path}/onnx/hidden.onnx`;
    const decoder = `${path}/onnx/model.onnx`;
    if (await isFile(hidden)) onnx = hidden;
    else if (needHidden) {
      throw new Error(
        `teacher ${path}: no onnx/hidden.onnx for hidden-state distillation (run deno task export --model ${path} --hidden)`,
      );
    } else if (await isFile(decoder)) onnx = decoder;
    else throw new Error(`teacher ${path}: no onnx/model.onnx (run deno task export --model ${path})`);
    folder = path;
  } else {
    onnx = path;
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
    // DIR/onnx/x.onnx belongs to the model folder DIR.
    folder = dir.endsWith("/onnx") || dir === "onnx"
      ? (dir.includes("/") ? dir.slice(0, dir.lastIndexOf("/")) : ".")
      : dir;
  }
  const config = await isFile(`${folder}/config.json`) ? `${folder}/config.json` : null;
  const onnxDir = onnx.includes("/") ? onnx.slice(0, onnx.lastIndexOf("/")) : ".";
  const hashFiles = [onnx];
  for (const data of [`${onnx}_data`, `${onnxDir}/model.onnx_data`]) {
    if (!hashFiles.includes(data) && await isFile(data)) hashFiles.push(data);
  }
  return { onnx, config, hashFiles };
}

/** n_positions of a model folder's config.json; also checks its vocab_size against the student. */
async function readPositions(configPath: string, vocabSize: number, label: string): Promise<number | null> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await Deno.readTextFile(configPath));
  } catch (e) {
    throw new Error(`teacher ${label}: cannot read ${configPath} (${(e as Error).message.split("\n")[0]})`);
  }
  const V = json.vocab_size;
  if (typeof V === "number" && V !== vocabSize) {
    throw new Error(
      `teacher ${label}: vocabulary mismatch: the teacher has V = ${V}, the student ${vocabSize}`,
    );
  }
  const n = json.n_positions ?? json.n_ctx ?? json.max_position_embeddings;
  return typeof n === "number" ? n : null;
}
