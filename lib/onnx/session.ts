/**
 * The project's only door to onnxruntime-node: CPU inference sessions over plain typed arrays.
 *
 * onnxruntime-node needs `--allow-ffi` (its native addon) and reads the .onnx file natively, outside
 * Deno's read sandbox. Its `run` is synchronous native work behind a promise: it blocks the event loop
 * of the thread that calls it, so long runs belong in a worker (teacher_worker.ts).
 *
 * @module
 */
import * as ort from "onnxruntime-node";

/** Name, element type and dims (numbers, or symbolic names) of a graph input or output. */
export interface ValueInfo {
  name: string;
  /** "float32", "int64", … ("?" for a non-tensor value). */
  type: string;
  dims: (number | string)[];
}

/** A tensor on the host. */
export type HostTensor =
  | { type: "float32"; data: Float32Array; dims: number[] }
  | { type: "int64"; data: BigInt64Array; dims: number[] };

/** Options of {@link OrtSession.open}. */
export interface SessionOptions {
  /** Threads for one operator (ORT's intraOpNumThreads); default: ORT's choice (all cores). */
  threads?: number;
}

/** An ONNX Runtime session on the CPU execution provider. */
export class OrtSession {
  readonly path: string;
  readonly inputs: ValueInfo[];
  readonly outputs: ValueInfo[];
  #session: ort.InferenceSession;

  private constructor(path: string, session: ort.InferenceSession) {
    this.path = path;
    this.#session = session;
    this.inputs = session.inputMetadata.map(info);
    this.outputs = session.outputMetadata.map(info);
  }

  /** Loads an .onnx file; throws a one-line Error naming the file when ORT cannot load it. */
  static async open(path: string, options: SessionOptions = {}): Promise<OrtSession> {
    try {
      const stat = await Deno.stat(path);
      if (!stat.isFile) throw new Error("not a file");
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound ? "not found" : (e as Error).message;
      throw new Error(`cannot open ONNX model ${path}: ${why}`);
    }
    const opts: ort.InferenceSession.SessionOptions = {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
    };
    if (options.threads !== undefined) opts.intraOpNumThreads = options.threads;
    try {
      return new OrtSession(path, await ort.InferenceSession.create(path, opts));
    } catch (e) {
      throw new Error(`cannot load ONNX model ${path}: ${firstLine(e)}`);
    }
  }

  /** Runs the graph; returns the requested outputs (default all) as host tensors. */
  async run(feeds: Record<string, HostTensor>, fetch?: string[]): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = fetch ? await this.#session.run(ortFeeds, fetch) : await this.#session.run(ortFeeds);
    } catch (e) {
      throw new Error(`ONNX model ${this.path} failed to run: ${firstLine(e)}`);
    }
    const out: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(results)) {
      const dims = t.dims.map(Number);
      if (t.type === "float32") out[name] = { type: "float32", data: t.data as Float32Array, dims };
      else if (t.type === "int64") out[name] = { type: "int64", data: t.data as BigInt64Array, dims };
      else throw new Error(`ONNX model ${this.path}: output ${name} has unsupported type ${t.type}`);
    }
    return out;
  }

  /** Releases the native session. */
  async close(): Promise<void> {
    await this.#session.release();
  }
}

function info(m: ort.InferenceSession.ValueMetadata): ValueInfo {
  if (!m.isTensor) return { name: m.name, type: "?", dims: [] };
  return { name: m.name, type: m.type, dims: m.shape.map((d) => (typeof d === "number" ? d : String(d))) };
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n").map((l) => l.trim()).filter(Boolean)[0] ?? "unknown error";
}
