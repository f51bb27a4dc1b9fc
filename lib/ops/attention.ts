/**
 * Causal multi-head self-attention as in HF GPT2Attention (scale 1/√hs, causal mask, softmax, no dropout):
 * forward with saved logsumexp, flash-attention style backward that recomputes the probabilities, and a
 * KV-cache decode path for generation.
 *
 * Layouts: qkv (B, T, 3C) is the c_attn output, q = channels [0, C), k = [C, 2C), v = [2C, 3C), head h
 * using channels h·hs .. h·hs + hs − 1 of each; out (B, T, C) has head h in channels h·hs .. (h+1)·hs − 1.
 *
 * @module
 */
import code from "../gpu/kernels/attention.wgsl" with { type: "text" };
import cacheCode from "../gpu/kernels/attention_kvcache.wgsl" with { type: "text" };
import { type Gpu, grid, type Kernel, MAX_GROUPS_PER_DIM, Uniforms, type View } from "../gpu/runtime.ts";

/** Largest head size the kernels hold in registers (a head row is four 4×4 matrices). */
export const MAX_HEAD_SIZE = 64;

/**
 * Launch shape of the attention kernels: QB invocations per workgroup, R rows (queries, or keys in the dk/dv
 * pass) per invocation (1..4), KT rows per workgroup-memory tile.
 */
export interface AttentionShape {
  QB: number;
  R: number;
  KT: number;
}

/** llvmpipe: one SIMD row of 8 invocations, each reusing every staged k/v row for 4 of its queries. */
const CPU_SHAPE: AttentionShape = { QB: 8, R: 4, KT: 32 };
/** GPUs: the usual one query per thread, 64 threads sharing the staged tile. */
const GPU_SHAPE: AttentionShape = { QB: 64, R: 1, KT: 32 };
let forcedShape: AttentionShape | null = null;

/**
 * Forces the launch shape of later attention calls (null restores the per-adapter default). For tests
 * that run the GPU variant on a CPU adapter, and for tuning.
 */
export function overrideAttentionShape(shape: AttentionShape | null): void {
  if (shape) {
    const { QB, R, KT } = shape;
    if (![QB, R, KT].every(Number.isInteger) || QB < 1 || R < 1 || R > 4 || KT < 1) {
      throw new Error(
        `overrideAttentionShape: need integers QB ≥ 1, 1 ≤ R ≤ 4, KT ≥ 1, got ${JSON.stringify(shape)}`,
      );
    }
  }
  forcedShape = shape;
}

function shapeFor(gpu: Gpu): AttentionShape {
  return forcedShape ?? (gpu.isFallbackAdapter ? CPU_SHAPE : GPU_SHAPE);
}

/** Up to this many new tokens, attentionDecode splits each query's keys across a workgroup. */
const DECODE_SPLIT_MAX_TN = 4;
/** Invocations per workgroup of the KV-cache append. */
const APPEND_WG = 256;

function kernel(name: string, code: string, entryPoint: string, constants: Record<string, number>): Kernel {
  return { name, code, entryPoint, constants };
}

/** Checks sizes and returns the head size. */
function headSize(op: string, B: number, T: number, C: number, NH: number): number {
  for (const [k, v] of Object.entries({ B, T, C, NH })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${op}: ${k} must be a positive integer, got ${v}`);
  }
  if (C % NH !== 0) throw new Error(`${op}: C=${C} is not divisible by NH=${NH}`);
  const hs = C / NH;
  if (hs % 4 !== 0 || hs > MAX_HEAD_SIZE) {
    throw new Error(`${op}: head size hs=C/NH=${hs} must be a multiple of 4 and at most ${MAX_HEAD_SIZE}`);
  }
  if (B * NH > MAX_GROUPS_PER_DIM) throw new Error(`${op}: B·NH=${B * NH} exceeds ${MAX_GROUPS_PER_DIM}`);
  return hs;
}

function checkView(op: string, name: string, view: View, floats: number): void {
  if (view.size < floats * 4) {
    throw new Error(`${op}: ${name} holds ${view.size / 4} floats, needs ${floats}`);
  }
}

/**
 * out = softmax(q·kᵀ/√hs + causal mask)·v per head; saves lse = logsumexp of each scaled score row for
 * the backward pass. Nothing of size (T, T) is stored.
 *
 * @param out (B, T, C)
 * @param lse (B, NH, T)
 * @param qkv (B, T, 3C)
 * @param NH number of heads; hs = C/NH must be a multiple of 4 and at most 128
 *
 * @example
 * ```ts
 * attentionForward(gpu, atty, attLse, qkv, B, T, C, NH);
 * ```
 */
export function attentionForward(
  gpu: Gpu,
  out: View,
  lse: View,
  qkv: View,
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const op = "attentionForward";
  const hs = headSize(op, B, T, C, NH);
  checkView(op, "out", out, B * T * C);
  checkView(op, "lse", lse, B * NH * T);
  checkView(op, "qkv", qkv, B * T * 3 * C);
  const u = new Uniforms()
    .u32(T).u32(NH).u32(C / 4).u32(0) // Tq, NH, C4, pos0
    .u32(T * 3 * C / 4).u32(hs / 4).u32(3 * C / 4) // kvBatch, kvHead, kvStride
    .u32(C / 4).u32(2 * C / 4) // kOff, vOff
    .f32(1 / Math.sqrt(hs)).u32(hs / 4);
  const { QB, R, KT } = shapeFor(gpu);
  const k = kernel("attention_forward", code, "forward", { QB, R, KT, HS4: hs / 4 });
  gpu.dispatch(k, u, [out, qkv, qkv, qkv, lse], [Math.ceil(T / (QB * R)), B * NH]);
}

const scratch = new WeakMap<Gpu, View>();

/** A cached (grown on demand) scratch tensor of at least `floats` floats. */
function scratchView(gpu: Gpu, floats: number): View {
  let view = scratch.get(gpu);
  if (!view || view.size < floats * 4) {
    view = gpu.tensor(floats, "attention delta scratch");
    scratch.set(gpu, view);
  }
  return gpu.slice(view, 0, floats);
}

/**
 * dqkv = gradient of the attention output w.r.t. qkv (OVERWRITTEN, not accumulated). Recomputes the
 * probabilities from qkv and lse (flash-attention style), so no (B, NH, T, T) tensor is kept. Two dispatches:
 * dq (per query) then dk, dv (per key); deterministic.
 *
 * @param dqkv (B, T, 3C), overwritten
 * @param dout (B, T, C) gradient w.r.t. out
 * @param qkv (B, T, 3C) the forward input
 * @param out (B, T, C) the forward output
 * @param lse (B, NH, T) the forward's saved logsumexp
 * @param delta optional scratch (B, NH, T) for D = dout·out per query row; when omitted, one scratch buffer
 *   per device (grown on demand) serves every call, which is safe because dispatches run in order
 */
export function attentionBackward(
  gpu: Gpu,
  dqkv: View,
  dout: View,
  qkv: View,
  out: View,
  lse: View,
  B: number,
  T: number,
  C: number,
  NH: number,
  delta?: View,
): void {
  const op = "attentionBackward";
  const hs = headSize(op, B, T, C, NH);
  checkView(op, "dqkv", dqkv, B * T * 3 * C);
  checkView(op, "dout", dout, B * T * C);
  checkView(op, "qkv", qkv, B * T * 3 * C);
  checkView(op, "out", out, B * T * C);
  checkView(op, "lse", lse, B * NH * T);
  if (delta) checkView(op, "delta", delta, B * NH * T);
  const d = delta ?? scratchView(gpu, B * NH * T);
  const u = new Uniforms().u32(T).u32(NH).u32(C / 4).f32(1 / Math.sqrt(hs)).u32(hs / 4);
  const { QB, R, KT } = shapeFor(gpu);
  const constants = { QB, R, KT, HS4: hs / 4 };
  const groups: [number, number] = [Math.ceil(T / (QB * R)), B * NH];
  gpu.dispatch(kernel("attention_backward_dq", code, "dq", constants), u, [
    dqkv,
    d,
    dout,
    qkv,
    lse,
    out,
  ], groups);
  gpu.dispatch(kernel("attention_backward_dkv", code, "dkv", constants), u, [
    dqkv,
    d,
    dout,
    qkv,
    lse,
  ], groups);
}

/**
 * Decoding with a KV cache: appends this step's k, v (from qkv, tokens at positions pos0 .. pos0+Tn−1)
 * into kcache/vcache and computes out, where new token t attends causally over cache positions 0 .. pos0+t.
 * Feeding a sequence through in chunks (any Tn, pos0 advancing by Tn) gives the rows attentionForward gives
 * for the whole sequence.
 *
 * @param out (B, Tn, C)
 * @param qkv (B, Tn, 3C)
 * @param kcache (B, NH, Tmax, hs), positions pos0 .. pos0+Tn−1 are written
 * @param vcache (B, NH, Tmax, hs), likewise
 * @param pos0 position of the first new token; pos0 + Tn ≤ Tmax
 */
export function attentionDecode(
  gpu: Gpu,
  out: View,
  qkv: View,
  kcache: View,
  vcache: View,
  B: number,
  Tn: number,
  pos0: number,
  Tmax: number,
  C: number,
  NH: number,
): void {
  const op = "attentionDecode";
  const hs = headSize(op, B, Tn, C, NH);
  if (!Number.isInteger(pos0) || pos0 < 0 || !Number.isInteger(Tmax) || pos0 + Tn > Tmax) {
    throw new Error(`${op}: positions ${pos0}..${pos0 + Tn - 1} do not fit a cache of Tmax=${Tmax}`);
  }
  checkView(op, "out", out, B * Tn * C);
  checkView(op, "qkv", qkv, B * Tn * 3 * C);
  checkView(op, "kcache", kcache, B * NH * Tmax * hs);
  checkView(op, "vcache", vcache, B * NH * Tmax * hs);
  const append = new Uniforms().u32(B).u32(Tn).u32(NH).u32(C / 4).u32(pos0).u32(Tmax);
  gpu.dispatch(
    kernel("attention_kv_append", cacheCode, "append", { WG: APPEND_WG, HS4: hs / 4 }),
    append,
    [kcache, vcache, qkv],
    grid(Math.ceil((B * Tn * C) / 4 / APPEND_WG)),
  );
  const u = new Uniforms()
    .u32(Tn).u32(NH).u32(C / 4).u32(pos0) // Tq, NH, C4, pos0
    .u32(NH * Tmax * hs / 4).u32(Tmax * hs / 4).u32(hs / 4) // kvBatch, kvHead, kvStride
    .u32(0).u32(0) // kOff, vOff
    .f32(1 / Math.sqrt(hs)).u32(hs / 4);
  const { QB, R, KT } = shapeFor(gpu);
  if (Tn <= DECODE_SPLIT_MAX_TN) {
    // Generation: a workgroup per new token and head, its invocations splitting the cached keys.
    // (at most 32 invocations: the merge buffer holds a head row per invocation in workgroup memory)
    const k = kernel("attention_decode_split", code, "decode_split", {
      QB: Math.min(QB, 32),
      R,
      KT,
      HS4: hs / 4,
    });
    gpu.dispatch(k, u, [out, qkv, kcache, vcache], [Tn, B * NH]);
  } else {
    const k = kernel("attention_decode", code, "decode", { QB, R, KT, HS4: hs / 4 });
    gpu.dispatch(k, u, [out, qkv, kcache, vcache], [Math.ceil(Tn / (QB * R)), B * NH]);
  }
}
