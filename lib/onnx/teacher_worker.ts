/**
 * The teacher's Web Worker: owns the ONNX Runtime session so that its synchronous native runs never
 * block the training loop's thread. Requests are handled one at a time, in arrival order (one session;
 * ORT already uses every core it is given for one run).
 *
 * Protocol (messages; typed arrays are transferred, not copied):
 * - {@link OpenRequest} → {@link OpenedReply} (the graph's inputs/outputs for validation) or an error.
 * - {@link RunRequest} → {@link ResultReply} or an error with the same id. `prefetch` runs use the disk
 *   cache and the top-k reduction when configured; direct runs return full logits and never touch the
 *   cache.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type HostTensor, OrtSession, type ValueInfo } from "./session.ts";
import { hashFiles, reduceForCache, type TeacherBatch, TeacherCache } from "./teacher_cache.ts";

/** Opens the session (and, with a cache, hashes the teacher's files). */
export interface OpenRequest {
  type: "open";
  path: string;
  /** The .onnx file and its external data, hashed to key the cache. */
  hashFiles: string[];
  threads?: number;
  /** Fetch the hidden_states.* outputs too. */
  needHidden: boolean;
  /** Top-k reduction of prefetched batches (0 = full logits). */
  topK: number;
  cacheDir?: string;
}

/** Runs one batch of ids (B, T). */
export interface RunRequest {
  type: "run";
  id: number;
  ids: Uint32Array;
  B: number;
  T: number;
  /** true for prefetched batches (cache + top-k); false for direct runs. */
  prefetch: boolean;
}

/** The session's inputs and outputs. */
export interface OpenedReply {
  type: "opened";
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** SHA-256 of the teacher's files, when a cache is configured. */
  hash?: string;
}

/** One finished batch and the milliseconds the worker spent on it. */
export interface ResultReply {
  type: "result";
  id: number;
  batch: TeacherBatch;
  ms: number;
}

/** A failure: of opening (id null) or of one run. */
export interface ErrorReply {
  type: "error";
  id: number | null;
  message: string;
}

/** Messages to the worker. */
export type WorkerRequest = OpenRequest | RunRequest;
/** Messages from the worker. */
export type WorkerReply = OpenedReply | ResultReply | ErrorReply;

let session: OrtSession | null = null;
let settings: OpenRequest | null = null;
let cache: TeacherCache | null = null;
let queue: Promise<void> = Promise.resolve();

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  self.postMessage(message, transfer);
}

async function open(req: OpenRequest): Promise<void> {
  session = await OrtSession.open(req.path, { threads: req.threads });
  settings = req;
  let hash: string | undefined;
  if (req.cacheDir !== undefined) {
    hash = await hashFiles(req.hashFiles);
    cache = new TeacherCache(req.cacheDir, hash, req.topK, req.needHidden);
  }
  reply({ type: "opened", inputs: session.inputs, outputs: session.outputs, hash });
}

/** Feeds for ids (B, T) from scratch: no padding, positions 0 … T−1, an empty past. */
function feedsFor(s: OrtSession, ids: Uint32Array, B: number, T: number): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const input of s.inputs) {
    if (input.name === "input_ids") {
      feeds[input.name] = { type: "int64", data: BigInt64Array.from(ids, BigInt), dims: [B, T] };
    } else if (input.name === "attention_mask") {
      feeds[input.name] = { type: "int64", data: new BigInt64Array(B * T).fill(1n), dims: [B, T] };
    } else if (input.name === "position_ids") {
      const pos = new BigInt64Array(B * T);
      for (let i = 0; i < B * T; i++) pos[i] = BigInt(i % T);
      feeds[input.name] = { type: "int64", data: pos, dims: [B, T] };
    } else if (input.name.startsWith("past_key_values.")) {
      // (B, NH, 0, hs): the validated graph has numeric NH and hs.
      const dims = [B, Number(input.dims[1]), 0, Number(input.dims[3])];
      feeds[input.name] = { type: "float32", data: new Float32Array(0), dims };
    }
  }
  return feeds;
}

function hiddenNames(s: OrtSession): string[] {
  return s.outputs.map((o) => o.name).filter((n) => /^hidden_states\.\d+$/.test(n))
    .sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
}

async function compute(ids: Uint32Array, B: number, T: number): Promise<TeacherBatch> {
  const s = session!;
  const fetch = ["logits", ...(settings!.needHidden ? hiddenNames(s) : [])];
  const out = await s.run(feedsFor(s, ids, B, T), fetch);
  const logits = out.logits;
  if (logits.type !== "float32" || logits.dims.length !== 3 || logits.dims[0] !== B || logits.dims[1] !== T) {
    throw new Error(`teacher returned logits of shape [${logits.dims}], expected [${B}, ${T}, V]`);
  }
  // Copies: ORT's output memory is its own; ours can be transferred to the main thread.
  const batch: TeacherBatch = { B, T, V: logits.dims[2], logits: new Float32Array(logits.data) };
  if (settings!.needHidden) {
    batch.hidden = fetch.slice(1).map((n) => new Float32Array(out[n].data as Float32Array));
  }
  return batch;
}

async function run(req: RunRequest): Promise<void> {
  const t0 = performance.now();
  const { ids, B, T } = req;
  let batch: TeacherBatch | null = null;
  if (req.prefetch && cache) batch = await cache.get(ids, B, T);
  if (batch === null) {
    batch = await compute(ids, B, T);
    if (req.prefetch) {
      batch = reduceForCache(batch, settings!.topK, settings!.needHidden);
      if (cache) await cache.put(ids, batch);
    }
  }
  const buffers = [batch.logits, batch.topK?.indices, batch.topK?.logits, ...(batch.hidden ?? [])]
    .filter((a) => a !== undefined).map((a) => a!.buffer as ArrayBuffer);
  reply({ type: "result", id: req.id, batch, ms: performance.now() - t0 }, [...new Set(buffers)]);
}

self.onmessage = (e: MessageEvent<WorkerRequest>) => {
  const req = e.data;
  queue = queue.then(async () => {
    try {
      if (req.type === "open") await open(req);
      else if (session === null) throw new Error("teacher worker: run before open");
      else await run(req);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      reply({ type: "error", id: req.type === "run" ? req.id : null, message });
    }
  });
};
