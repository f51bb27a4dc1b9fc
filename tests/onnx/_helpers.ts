/**
 * Helpers for the ONNX tests: tiny random model directories in temporary folders, feeds for the decoder
 * graph, and the plain-TS reference's logits.
 *
 * @module
 */
import { type GPT2Config, validateConfig } from "../../lib/model/config.ts";
import { saveModelDir } from "../../lib/model/model_dir.ts";
import { initParams, type ParamLayout, paramLayout } from "../../lib/model/params.ts";
import type { HostTensor } from "../../lib/onnx/session.ts";
import { IGNORE_INDEX } from "../../lib/data/blocks.ts";
import { gpt2ForwardBackwardRef } from "../../lib/ref/gpt2.ts";
import { Rng } from "../../lib/rng.ts";

/** A saved random model. */
export interface TinyModel {
  dir: string;
  config: GPT2Config;
  layout: ParamLayout;
  params: Float32Array;
}

/**
 * Saves a randomly initialised GPT-2 into a fresh temporary directory. Biases and layer-norm parameters
 * are randomised too (HF's init makes them 0 and 1, which would hide a swapped weight/bias).
 *
 * A random model with a tied head predicts its input token again (the residual stream stays close to
 * the token's embedding); `mixing` makes the blocks' projections large and ln_f's gains signed, so that
 * the prediction depends on the context and position and greedy decoding does not just repeat a token.
 */
export async function tinyModelDir(
  overrides: Partial<GPT2Config>,
  seed = 1,
  opts: { mixing?: boolean } = {},
): Promise<TinyModel> {
  const config = validateConfig({
    vocab_size: 211,
    n_positions: 32,
    n_embd: 48,
    n_layer: 2,
    n_head: 4,
    ...overrides,
  });
  const layout = paramLayout(config);
  const params = initParams(config, layout, seed);
  const rng = new Rng(seed + 1000);
  for (const t of layout.tensors) {
    if (t.shape.length !== 1) continue;
    const base = /ln_\w+\.weight$/.test(t.name) ? 1 : 0;
    for (let i = 0; i < t.size; i++) params[t.offset + i] = base + 0.1 * (2 * rng.next() - 1);
  }
  // A larger embedding scale makes the attention non-uniform, so masking mistakes show.
  const wte = layout.byName.get("wte.weight")!;
  for (let i = 0; i < wte.size; i++) params[wte.offset + i] *= 10;
  if (opts.mixing) {
    for (const t of layout.tensors) {
      if (t.name.endsWith("c_proj.weight")) { for (let i = 0; i < t.size; i++) params[t.offset + i] *= 30; }
      if (t.name === "ln_f.weight") {
        for (let i = 0; i < t.size; i++) params[t.offset + i] = 2 * rng.next() - 1;
      }
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "gpt2-onnx-test-" });
  await saveModelDir(dir, config, layout, params);
  return { dir, config, layout, params };
}

/** Random token ids in [0, V). */
export function randomIds(n: number, V: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Math.floor(rng.next() * V));
}

/** An int64 host tensor. */
export function i64(values: ArrayLike<number>, dims: number[]): HostTensor {
  return { type: "int64", data: BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims };
}

/**
 * Feeds for the decoder graph: ids (B, S), positions P … P+S−1 unless given, an all-ones mask of
 * length P+S unless given, and the past (L × (B, NH, P, hs), empty when P = 0) unless given.
 */
export function decoderFeeds(
  cfg: GPT2Config,
  ids: number[],
  B: number,
  S: number,
  opts: { P?: number; mask?: number[]; positions?: number[]; past?: Record<string, HostTensor> } = {},
): Record<string, HostTensor> {
  const P = opts.P ?? 0;
  const hs = cfg.n_embd / cfg.n_head;
  const positions = opts.positions ?? Array.from({ length: B * S }, (_, i) => P + (i % S));
  const mask = opts.mask ?? new Array(B * (P + S)).fill(1);
  const feeds: Record<string, HostTensor> = {
    input_ids: i64(ids, [B, S]),
    attention_mask: i64(mask, [B, P + S]),
    position_ids: i64(positions, [B, S]),
  };
  for (let l = 0; l < cfg.n_layer; l++) {
    for (const kv of ["key", "value"]) {
      const name = `past_key_values.${l}.${kv}`;
      feeds[name] = opts.past?.[`present.${l}.${kv}`] ??
        { type: "float32", data: new Float32Array(0), dims: [B, cfg.n_head, 0, hs] };
    }
  }
  return feeds;
}

/** Logits (B, T, V) of the float64 reference, as float64. */
export function referenceLogits(m: TinyModel, ids: number[], B: number, T: number): Float64Array {
  const targets = new Array(B * T).fill(IGNORE_INDEX);
  return gpt2ForwardBackwardRef(m.config, m.layout, m.params, ids, targets, B, T, { backward: false })
    .logits as Float64Array;
}

/** Rows [r0, r0 + n) of a (rows, width) matrix. */
export function rowsOf(x: ArrayLike<number>, width: number, r0: number, n: number): number[] {
  return Array.prototype.slice.call(x, r0 * width, (r0 + n) * width);
}

/** The data of a float32 host tensor (throws for another type). */
export function f32(t: HostTensor): Float32Array {
  if (t.type !== "float32") throw new Error(`expected a float32 tensor, got ${t.type}`);
  return t.data;
}
