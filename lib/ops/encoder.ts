/**
 * Token + position embedding (GPT-2's "encoder"): forward and a deterministic backward.
 *
 * The token embedding wte (V, C) can be larger than one storage binding (GPT-2 124M: 50257×768 f32 is
 * 154 MB; lavapipe binds at most 128 MiB), so wte and dwte arrive as `RowPart[]` (see `rowParts` in
 * lib/gpu/runtime.ts) and every kernel runs once per part.
 *
 * The backward pass has no float atomics to scatter-add into dwte. The CPU knows the batch's token ids,
 * so it groups positions by token (`bucketTokens`) and uploads the buckets once per batch
 * (`EncoderBackwardPlan`); the kernel then sums each token's positions in a fixed order.
 *
 * @module
 */
import forwardCode from "../gpu/kernels/encoder.wgsl" with { type: "text" };
import backwardCode from "../gpu/kernels/encoder_backward.wgsl" with { type: "text" };
import { type Gpu, grid, type Kernel, type RowPart, Uniforms, type View } from "../gpu/runtime.ts";

const WG = 256;
const forwardKernel: Kernel = {
  name: "encoder_forward",
  code: forwardCode,
  entryPoint: "forward",
  constants: { WG },
};
const wteBackwardKernel: Kernel = {
  name: "encoder_backward_wte",
  code: backwardCode,
  entryPoint: "wte_backward",
  constants: { WG },
};
const wpeBackwardKernel: Kernel = {
  name: "encoder_backward_wpe",
  code: backwardCode,
  entryPoint: "wpe_backward",
  constants: { WG },
};

/** The B·T positions of a batch grouped by token id. */
export interface TokenBuckets {
  /** (U) the distinct token ids, ascending. */
  ids: Uint32Array;
  /** (U + 1) bucket u holds positions[starts[u] .. starts[u+1]). */
  starts: Uint32Array;
  /** (B·T) flat positions b·T + t, grouped by token; ascending inside each bucket. */
  positions: Uint32Array;
}

/**
 * Groups the positions of `tokens` by token id (ids ascending, positions ascending inside a bucket).
 *
 * @param tokens (B·T) token ids, non-negative integers below 2³²
 *
 * @example
 * ```ts
 * bucketTokens([5, 2, 5]); // ids [2, 5], starts [0, 1, 3], positions [1, 0, 2]
 * ```
 */
export function bucketTokens(tokens: ArrayLike<number>): TokenBuckets {
  const n = tokens.length;
  // Sorting the composite key id·n + position orders by id, then position (exact in float64: ids
  // < 2³² and n < 2²¹ keep it below 2⁵³).
  if (n >= 1 << 21) throw new Error(`bucketTokens: at most ${(1 << 21) - 1} tokens, got ${n}`);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const id = tokens[i];
    if (!Number.isInteger(id) || id < 0 || id >= 2 ** 32) {
      throw new Error(`bucketTokens: token ${i} is ${id}, not a valid token id`);
    }
    keys[i] = id * n + i;
  }
  keys.sort();
  const positions = new Uint32Array(n);
  const ids: number[] = [];
  const starts: number[] = [];
  for (let k = 0; k < n; k++) {
    const id = Math.floor(keys[k] / n);
    positions[k] = keys[k] - id * n;
    if (k === 0 || id !== ids[ids.length - 1]) {
      ids.push(id);
      starts.push(k);
    }
  }
  starts.push(n);
  return { ids: Uint32Array.from(ids), starts: Uint32Array.from(starts), positions };
}

/**
 * A batch's `TokenBuckets`, uploaded for `encoderBackward`. Create one per training run with the
 * largest batch size and call `update` for each batch; the GPU buffers are reused.
 */
export class EncoderBackwardPlan {
  /** Largest B·T that `update` accepts. */
  readonly maxTokens: number;
  /** (maxTokens) u32: the distinct ids, ascending. */
  readonly ids: View;
  /** (maxTokens + 1) u32: bucket boundaries into `positions`. */
  readonly starts: View;
  /** (maxTokens) u32: positions grouped by token. */
  readonly positions: View;
  /** The CPU copy of the current batch's buckets (the op reads it to split buckets across parts). */
  buckets: TokenBuckets;
  #gpu: Gpu;

  /**
   * @param tokens (B·T) the first batch's token ids
   * @param maxTokens the largest B·T any batch will have
   */
  constructor(gpu: Gpu, tokens: ArrayLike<number>, maxTokens: number) {
    if (!Number.isInteger(maxTokens) || maxTokens < 1) {
      throw new Error(`EncoderBackwardPlan: maxTokens must be a positive integer, got ${maxTokens}`);
    }
    this.#gpu = gpu;
    this.maxTokens = maxTokens;
    this.ids = gpu.tensor(maxTokens, "encoder plan ids");
    this.starts = gpu.tensor(maxTokens + 1, "encoder plan starts");
    this.positions = gpu.tensor(maxTokens, "encoder plan positions");
    this.buckets = { ids: new Uint32Array(0), starts: new Uint32Array(1), positions: new Uint32Array(0) };
    this.update(tokens);
  }

  /** Number of positions (B·T) of the current batch. */
  get tokenCount(): number {
    return this.buckets.positions.length;
  }

  /**
   * Replaces the batch (queued: dispatches recorded before this call still see the previous batch,
   * because `Gpu.write` submits them first).
   *
   * @param tokens (B·T) token ids, at most `maxTokens` of them
   */
  update(tokens: ArrayLike<number>): void {
    if (tokens.length > this.maxTokens) {
      throw new Error(`EncoderBackwardPlan: ${tokens.length} tokens exceed maxTokens ${this.maxTokens}`);
    }
    this.buckets = bucketTokens(tokens);
    this.#gpu.write(this.ids, this.buckets.ids);
    this.#gpu.write(this.starts, this.buckets.starts);
    this.#gpu.write(this.positions, this.buckets.positions);
  }
}

function checkShape(op: string, B: number, T: number, C: number): void {
  for (const [name, x] of [["B", B], ["T", T], ["C", C]] as const) {
    if (!Number.isInteger(x) || x < 1) throw new Error(`${op}: ${name} must be a positive integer, got ${x}`);
  }
  if (C % 4 !== 0) throw new Error(`${op}: C must be a multiple of 4, got ${C}`);
}

function checkView(op: string, view: View, floats: number, name: string): void {
  if (view.size < floats * 4) {
    throw new Error(`${op}: ${name} holds ${view.size / 4} floats, needs ${floats}`);
  }
}

function checkParts(op: string, parts: RowPart[], C: number, name: string): void {
  if (parts.length === 0) throw new Error(`${op}: ${name} has no parts`);
  parts.forEach((part, i) => {
    const expectedRow0 = i === 0 ? 0 : parts[i - 1].row0 + parts[i - 1].rows;
    if (part.row0 !== expectedRow0 || part.rows < 1) {
      throw new Error(
        `${op}: ${name} part ${i} covers rows [${part.row0}, ${
          part.row0 + part.rows
        }); parts must tile the rows in order`,
      );
    }
    checkView(op, part.view, part.rows * C, `${name} part ${i}`);
  });
}

/**
 * out[b,t,:] = wte[tokens[b,t],:] + wpe[pos0 + t,:]. One dispatch per part of wte; each output row is
 * written exactly once, by the part holding its token (token ids must be below V, or the row is left
 * unwritten).
 *
 * @param out (B, T, C)
 * @param tokens (B, T) u32 token ids
 * @param wte (V, C) in row parts (`rowParts(gpu, wte, V, C)`)
 * @param wpe (maxT, C), with pos0 + T ≤ maxT
 * @param pos0 position of t = 0 (nonzero when decoding with a KV cache); default 0
 *
 * @example
 * ```ts
 * encoderForward(gpu, encoded, tokens, rowParts(gpu, wte, Vp, C), wpe, B, T, C);
 * ```
 */
export function encoderForward(
  gpu: Gpu,
  out: View,
  tokens: View,
  wte: RowPart[],
  wpe: View,
  B: number,
  T: number,
  C: number,
  pos0 = 0,
): void {
  const op = "encoderForward";
  checkShape(op, B, T, C);
  if (!Number.isInteger(pos0) || pos0 < 0) {
    throw new Error(`${op}: pos0 must be a non-negative integer, got ${pos0}`);
  }
  const N = B * T;
  checkView(op, out, N * C, "out");
  checkView(op, tokens, N, "tokens");
  checkView(op, wpe, (pos0 + T) * C, `wpe (pos0 + T = ${pos0 + T} rows)`);
  checkParts(op, wte, C, "wte");
  const groups = grid(Math.ceil((N * C) / 4 / WG));
  for (const part of wte) {
    const u = new Uniforms().u32(N).u32(C / 4).u32(T).u32(pos0).u32(part.row0).u32(part.rows);
    gpu.dispatch(forwardKernel, u, [out, tokens, part.view, wpe], groups);
  }
}

/** First index in the ascending `ids` whose value is ≥ `x`. */
function lowerBound(ids: Uint32Array, x: number): number {
  let lo = 0, hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * dwte[id,:] += Σ dout[positions of id,:] (summed in position order) and dwpe[t,:] += Σ_b dout[b,t,:].
 * Deterministic: no atomics, fixed summation order, so two runs are bit-identical.
 *
 * @param dwte (V, C) in row parts, accumulated into
 * @param dwpe (maxT, C), rows [0, T) accumulated into
 * @param dout (B, T, C)
 * @param plan the current batch's token buckets; its token count must be B·T
 *
 * @example
 * ```ts
 * plan.update(batchTokens);
 * encoderBackward(gpu, rowParts(gpu, dwte, Vp, C), dwpe, dencoded, plan, B, T, C);
 * ```
 */
export function encoderBackward(
  gpu: Gpu,
  dwte: RowPart[],
  dwpe: View,
  dout: View,
  plan: EncoderBackwardPlan,
  B: number,
  T: number,
  C: number,
): void {
  const op = "encoderBackward";
  checkShape(op, B, T, C);
  const N = B * T;
  if (plan.tokenCount !== N) throw new Error(`${op}: the plan holds ${plan.tokenCount} tokens, B·T is ${N}`);
  checkView(op, dout, N * C, "dout");
  checkView(op, dwpe, T * C, "dwpe");
  checkParts(op, dwte, C, "dwte");
  const { ids } = plan.buckets;
  const last = dwte[dwte.length - 1];
  if (ids.length > 0 && ids[ids.length - 1] >= last.row0 + last.rows) {
    throw new Error(`${op}: token id ${ids[ids.length - 1]} is outside dwte's ${last.row0 + last.rows} rows`);
  }
  const C4 = C / 4;
  for (const part of dwte) {
    const u0 = lowerBound(ids, part.row0);
    const count = lowerBound(ids, part.row0 + part.rows) - u0;
    if (count === 0) continue;
    const u = new Uniforms().u32(C4).u32(B).u32(T).u32(u0).u32(count).u32(part.row0);
    gpu.dispatch(
      wteBackwardKernel,
      u,
      [part.view, dout, plan.ids, plan.starts, plan.positions],
      grid(Math.ceil((count * C4) / WG)),
    );
  }
  const u = new Uniforms().u32(C4).u32(B).u32(T).u32(0).u32(0).u32(0);
  gpu.dispatch(wpeBackwardKernel, u, [dwpe, dout], grid(Math.ceil((T * C4) / WG)));
}
