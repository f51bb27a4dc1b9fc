/**
 * A distillation teacher that is a model directory run forward-only on the student's own WebGPU device.
 *
 * Two ways to use it:
 * - The GPU path (what distillation uses): `forward(ids, B, T)` records the teacher's forward pass into the
 *   shared command stream, then `logitsChunk(r0, rows)` projects rows of its final hidden state onto the
 *   vocabulary, chunk by chunk like the student, and `hidden(i)` is HF's hidden_states[i]. Nothing is read
 *   back and nothing waits: the teacher's work is ordered before the student's on the same queue.
 * - The `Teacher` interface of lib/onnx/teacher.ts (`run`, `prefetch`, `get`), which reads the logits
 *   (and hidden states) back to the CPU: for tests and for tools that compare teachers.
 *
 * @module
 */
import type { Gpu, RowPart, View } from "../gpu/runtime.ts";
import type { GPT2Config } from "../model/config.ts";
import { Activations, GPT2 } from "../model/gpt2.ts";
import { loadModelDir, type ModelDir } from "../model/model_dir.ts";
import type { ParamLayout } from "../model/params.ts";
import type {
  Teacher,
  TeacherBatch,
  TeacherExpect,
  TeacherInfo,
  TeacherOutput,
  TeacherStats,
} from "../onnx/teacher.ts";
import { matmul } from "../ops/matmul.ts";

/** A GPT-2 model directory served as a teacher on WebGPU. Create with {@link WebGpuTeacher.open}. */
export class WebGpuTeacher implements Teacher {
  readonly info: TeacherInfo;
  readonly gpu: Gpu;
  readonly model: GPT2;
  readonly layout: ParamLayout;
  /** The teacher's flat parameters as loaded (for initialising a student from them). */
  readonly params: Float32Array;
  #acts: Activations | null = null;
  /** Rows (B·T) of the last `forward`. */
  #N = 0;
  #ready = new Map<number, Promise<TeacherBatch>>();
  /** The last queued read-back computation: they run one after the other on the shared activations. */
  #tail: Promise<unknown> = Promise.resolve();
  #tickets = 0;
  #stats: TeacherStats = { batches: 0, cacheHits: 0, waitMs: 0, teacherMs: 0 };
  #needHidden: boolean;

  private constructor(
    gpu: Gpu,
    path: string,
    config: GPT2Config,
    layout: ParamLayout,
    params: Float32Array,
    needHidden: boolean,
  ) {
    this.gpu = gpu;
    this.model = new GPT2(gpu, config, params, { training: false });
    this.layout = layout;
    this.params = params;
    this.#needHidden = needHidden;
    this.info = {
      path,
      // Like our hidden.onnx: logits and every hidden state, no KV cache.
      graph: "hidden",
      vocabSize: config.vocab_size,
      nPositions: config.n_positions,
      hiddenStates: needHidden ? config.n_layer + 1 : 0,
      nEmbd: config.n_embd,
    };
  }

  /**
   * Loads the model directory `dir` onto `gpu` and checks it against the student: the same vocabulary and
   * a context of at least `expect.seq` tokens. Throws a one-line Error ("teacher DIR: …") otherwise.
   */
  static async open(gpu: Gpu, dir: string, expect: TeacherExpect): Promise<WebGpuTeacher> {
    let loaded;
    try {
      loaded = await loadModelDir(dir);
    } catch (e) {
      throw new Error(`teacher ${dir}: ${(e as Error).message}`);
    }
    return WebGpuTeacher.fromLoaded(gpu, dir, loaded, expect);
  }

  /** {@link WebGpuTeacher.open} for a model directory already loaded (its weights are not read twice). */
  static fromLoaded(gpu: Gpu, dir: string, loaded: ModelDir, expect: TeacherExpect): WebGpuTeacher {
    const { config, layout, params } = loaded;
    if (config.vocab_size !== expect.vocabSize) {
      throw new Error(
        `teacher ${dir}: vocabulary mismatch: the teacher has V = ${config.vocab_size}, the student ${expect.vocabSize}`,
      );
    }
    if (expect.seq > config.n_positions) {
      throw new Error(
        `teacher ${dir}: sequence length ${expect.seq} exceeds the teacher's n_positions ${config.n_positions}`,
      );
    }
    return new WebGpuTeacher(gpu, dir, config, layout, params, expect.needHidden);
  }

  /** The teacher's architecture. */
  get config(): GPT2Config {
    return this.model.config;
  }

  /** Padded vocabulary: the row stride of `logitsChunk`. */
  get Vp(): number {
    return this.model.Vp;
  }

  /** Allocates activations for batches of up to (B, T) (done by `forward` on demand). */
  reserve(B: number, T: number): Activations {
    const a = this.#acts;
    if (!a || B > a.B || T > a.T || B * T > a.B * a.T) {
      this.#acts = new Activations(
        this.gpu,
        this.model.config,
        Math.max(B, a?.B ?? 0),
        Math.max(T, a?.T ?? 0),
        false,
      );
    }
    return this.#acts!;
  }

  /** Records the teacher's forward pass (up to ln_f) for ids (B, T) on the GPU; nothing is read back. */
  forward(ids: Uint32Array, B: number, T: number): void {
    if (ids.length !== B * T) throw new Error(`teacher: ids hold ${ids.length} tokens, not B·T = ${B}×${T}`);
    if (T > this.model.config.n_positions) {
      throw new Error(
        `teacher: sequence length ${T} exceeds its n_positions ${this.model.config.n_positions}`,
      );
    }
    const acts = this.reserve(B, T);
    this.model.setBatch(acts, ids, null);
    this.model.forwardHidden(acts, B, T);
    this.#N = B * T;
  }

  /** Rows the logits buffer holds at once: `logitsChunk` takes at most this many. */
  get chunkRows(): number {
    if (!this.#acts) throw new Error("teacher: no forward pass yet");
    return this.#acts.chunkRows;
  }

  /**
   * Records logits = hidden_states[L] · wteᵀ for rows [r0, r0 + rows) of the last `forward` and returns
   * them: a (rows, Vp) view whose first V columns are the logits. Valid until the next `logitsChunk`.
   * `r0` must be a multiple of 64 (or 0) so the row slice stays offset-aligned, as the student's chunks are.
   */
  logitsChunk(r0: number, rows: number): View {
    const acts = this.#acts;
    if (!acts) throw new Error("teacher: logitsChunk before forward");
    if (rows < 1 || r0 < 0 || r0 + rows > this.#N) {
      throw new Error(`teacher: rows [${r0}, ${r0 + rows}) outside the batch's ${this.#N}`);
    }
    if (rows > acts.chunkRows) {
      throw new Error(`teacher: ${rows} rows at once exceed its logits buffer (${acts.chunkRows} rows)`);
    }
    const { gpu, model } = this;
    const C = model.config.n_embd;
    const Vp = model.Vp;
    const lnfRows = gpu.slice(acts.lnf, r0 * C, rows * C);
    const logits = gpu.slice(acts.logits, 0, rows * Vp);
    for (const part of model.p.wte) {
      matmul(gpu, {
        out: logitColumns(gpu, logits, rows, Vp, part),
        a: lnfRows,
        b: part.view,
        M: rows,
        N: part.rows,
        K: C,
        transB: true,
        ldOut: Vp,
      });
    }
    return logits;
  }

  /** HF's hidden_states[i] (B·T, C) of the last `forward`, 0 ≤ i ≤ L. */
  hidden(i: number): View {
    if (!this.#acts) throw new Error("teacher: hidden before forward");
    const C = this.model.config.n_embd;
    return this.gpu.slice(this.model.hiddenState(this.#acts, i), 0, this.#N * C);
  }

  /** Runs one batch now and reads back its logits (B, T, V) and, when opened with needHidden, hidden states. */
  async run(ids: Uint32Array, B: number, T: number): Promise<TeacherOutput> {
    const batch = await this.#enqueue(ids.slice(), B, T);
    const out: TeacherOutput = { logits: batch.logits! };
    if (batch.hidden) out.hidden = batch.hidden;
    return out;
  }

  /** Queues a batch (computed in order on the GPU and read back); returns the ticket for `get`. */
  prefetch(ids: Uint32Array, B: number, T: number): number {
    const ticket = this.#tickets++;
    const promise = this.#enqueue(ids.slice(), B, T);
    promise.catch(() => {}); // reported by get()
    this.#ready.set(ticket, promise);
    return ticket;
  }

  /** The batch of a prefetched ticket; time spent waiting counts in `stats().waitMs`. */
  async get(ticket: number): Promise<TeacherBatch> {
    const promise = this.#ready.get(ticket);
    if (!promise) throw new Error(`teacher: no prefetched batch ${ticket} (taken already, or never queued)`);
    this.#ready.delete(ticket);
    const t0 = performance.now();
    try {
      return await promise;
    } finally {
      this.#stats.waitMs += performance.now() - t0;
    }
  }

  stats(): TeacherStats {
    return { ...this.#stats };
  }

  /** Nothing to release: the device belongs to the caller. */
  close(): void {
    this.#ready.clear();
  }

  #enqueue(ids: Uint32Array, B: number, T: number): Promise<TeacherBatch> {
    const promise = this.#tail.catch(() => {}).then(async () => {
      const t0 = performance.now();
      const batch = await this.#compute(ids, B, T);
      this.#stats.teacherMs += performance.now() - t0;
      return batch;
    });
    this.#tail = promise;
    return promise;
  }

  async #compute(ids: Uint32Array, B: number, T: number): Promise<TeacherBatch> {
    const { gpu } = this;
    const V = this.model.config.vocab_size;
    const Vp = this.model.Vp;
    const N = B * T;
    this.forward(ids, B, T);
    const logits = new Float32Array(N * V);
    const step = this.chunkRows;
    for (let r0 = 0; r0 < N; r0 += step) {
      const rows = Math.min(step, N - r0);
      const chunk = await gpu.read(this.logitsChunk(r0, rows));
      for (let r = 0; r < rows; r++) logits.set(chunk.subarray(r * Vp, r * Vp + V), (r0 + r) * V);
    }
    const batch: TeacherBatch = { B, T, V, logits };
    if (this.#needHidden) {
      batch.hidden = [];
      for (let i = 0; i <= this.model.config.n_layer; i++) batch.hidden.push(await gpu.read(this.hidden(i)));
    }
    this.#stats.batches++;
    return batch;
  }
}

/** The columns [row0, row0 + rows) of a (rows, Vp) logits chunk, as a view starting at that column. */
function logitColumns(gpu: Gpu, logits: View, rows: number, Vp: number, part: RowPart): View {
  return gpu.slice(logits, part.row0, (rows - 1) * Vp + part.rows);
}
