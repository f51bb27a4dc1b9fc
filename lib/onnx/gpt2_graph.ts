/**
 * GPT-2 (Hugging Face GPT2LMHeadModel: pre-LN blocks, learned positions, GELU tanh, tied lm_head) as an
 * ONNX graph, in two layouts:
 *
 * - "decoder" (onnx/model.onnx, the layout transformers.js and Optimum use): inputs `input_ids`,
 *   `attention_mask`, `position_ids` (int64) and `past_key_values.{i}.key/.value`; outputs `logits` and
 *   `present.{i}.key/.value` (the past with this call's keys/values appended).
 * - "hidden" (onnx/hidden.onnx, for distillation): inputs `input_ids` and `attention_mask`, positions
 *   0 … T−1 (HF's default without position_ids); outputs `logits` and `hidden_states.{0..L}` exactly as
 *   HF's `output_hidden_states=True` returns them: hidden_states.i (i < L) is the input of block i
 *   (hidden_states.0 = token + position embedding) and hidden_states.L is the output of ln_f.
 *
 * Masking follows HF: key j is visible to query i when j ≤ i (absolute positions, the past included) and
 * attention_mask[b, j] = 1; hidden scores get the float32 minimum (−3.4e38) before the softmax, so they
 * weigh exactly 0, and a query that sees no key at all (a padding row) gets a uniform row instead of NaN.
 *
 * @module
 */
import type { GPT2Config } from "../model/config.ts";
import type { ParamLayout } from "../model/params.ts";
import { type AttrValue, type ExternalData, float, GraphBuilder } from "./graph.ts";
import type { ModelProto } from "./proto/onnx.ts";

/** Which graph to build (see the module doc). */
export type GraphKind = "decoder" | "hidden";

/** Oldest opset the graphs use (Split/Unsqueeze with their sizes/axes as inputs). */
export const MIN_OPSET = 13;
/** Newest opset the exporter writes (ONNX Runtime 1.30 runs it). */
export const MAX_OPSET = 24;
/** Default opset: LayerNormalization is a single op from 17 on (Gelu from 20 on). */
export const DEFAULT_OPSET = 17;

/** The ONNX IR version that goes with an opset (ONNX's versioning table). */
export function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  if (opset <= 23) return 11;
  return 12;
}

/** Options of {@link gpt2Graph}. */
export interface Gpt2GraphOptions {
  kind: GraphKind;
  /** Default {@link DEFAULT_OPSET}; {@link MIN_OPSET} … {@link MAX_OPSET}. */
  opset?: number;
  /** Put large initializers in an external data file (needed above protobuf's 2 GiB). */
  external?: ExternalData | null;
  /** Written as the model's producer_version. */
  producerVersion?: string;
}

/** The float32 minimum: HF's mask value (torch.finfo(float32).min). */
const MASKED = -3.4028234663852886e38;

/**
 * Builds the ONNX model of a GPT-2 from its flat parameters (`paramLayout` order, Conv1D weights (in,
 * out)). Initializers keep HF's names ("transformer.h.0.attn.c_attn.weight"); the LM head reuses
 * `transformer.wte.weight` (transposed in the graph), so the tied matrix is stored once.
 *
 * @param params (layout.total) flat parameters; must not change until the model is encoded
 */
export function gpt2Graph(
  cfg: GPT2Config,
  layout: ParamLayout,
  params: Float32Array,
  opts: Gpt2GraphOptions,
): ModelProto {
  const opset = opts.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new Error(`ONNX opset ${opset} is not supported (use ${MIN_OPSET} … ${MAX_OPSET})`);
  }
  if (params.length !== layout.total) {
    throw new Error(`parameter array has ${params.length} floats, the layout needs ${layout.total}`);
  }
  const C = cfg.n_embd;
  const NH = cfg.n_head;
  const hs = C / NH;
  const V = cfg.vocab_size;
  const L = cfg.n_layer;
  const eps = cfg.layer_norm_epsilon;
  const decoder = opts.kind === "decoder";
  const g = new GraphBuilder(opts.external ?? null);

  const weight = (name: string): string => {
    const t = layout.byName.get(name);
    if (!t) throw new Error(`parameter layout has no tensor ${name}`);
    return g.floatTensor(`transformer.${name}`, t.shape, params.subarray(t.offset, t.offset + t.size));
  };

  // Inputs. Symbolic dims use Optimum's names; transformers.js needs dim 0 to be "batch_size" and the
  // cache's head count and head size to be numbers (it builds the first, empty cache from them).
  const ids = g.input("input_ids", "int64", ["batch_size", "sequence_length"]);
  const mask = g.input("attention_mask", "int64", ["batch_size", "total_sequence_length"]);
  const positionIds = decoder ? g.input("position_ids", "int64", ["batch_size", "sequence_length"]) : "";
  const past: { key: string; value: string }[] = [];
  if (decoder) {
    for (let l = 0; l < L; l++) {
      const dims = ["batch_size", NH, "past_sequence_length", hs];
      past.push({
        key: g.input(`past_key_values.${l}.key`, "float32", dims),
        value: g.input(`past_key_values.${l}.value`, "float32", dims),
      });
    }
  }

  const wte = weight("wte.weight");
  const wpe = weight("wpe.weight");
  const scalarAt = (shapeOf: string, axis: number) =>
    g.op("Gather", [g.op("Shape", [shapeOf]), g.int64s([axis], [])], { axis: 0 });

  // Sequence lengths: S new positions after P cached ones, total = P + S.
  const S = scalarAt(ids, 1);
  const P = decoder ? scalarAt(past[0].key, 2) : g.int64s([0], []);
  const total = decoder ? g.op("Add", [P, S]) : S;
  const one = g.int64s([1], []);

  // Embeddings: (B, S, C).
  const tok = g.op("Gather", [wte, ids], { axis: 0 });
  const positions = decoder ? positionIds : g.op("Range", [g.int64s([0], []), S, one]);
  // In the hidden-state graph, values that are graph outputs carry the output's name (no Identity copy).
  const hiddenName = (i: number) => decoder ? undefined : `hidden_states.${i}`;
  const add = (a: string, b: string, name: string | undefined, prefix: string) =>
    name ? g.opAs(name, "Add", [a, b]) : g.op("Add", [a, b], {}, prefix);
  let x = add(tok, g.op("Gather", [wpe, positions], { axis: 0 }), hiddenName(0), "");

  // allowed (B, 1, S, total): causal (key position ≤ query position) and not padding.
  const keyPos = g.op("Range", [g.int64s([0], []), total, one]); // (total)
  const queryPos = g.op("Unsqueeze", [g.op("Range", [P, total, one]), g.int64s([1])]); // (S, 1)
  const causal = g.op("LessOrEqual", [keyPos, queryPos]); // (S, total)
  const padding = g.op("Unsqueeze", [g.op("Cast", [mask], { to: 9 /* BOOL */ }), g.int64s([1, 2])]);
  const allowed = g.op("And", [causal, padding]);
  const masked = g.scalar(MASKED);
  const scale = g.scalar(1 / Math.sqrt(hs));

  const layerNorm = (input: string, prefix: string, outName?: string): string => {
    const w = weight(`${prefix}.weight`);
    const b = weight(`${prefix}.bias`);
    const p = `${prefix}/`;
    const last = (op: string, inputs: string[], attrs: Record<string, AttrValue> = {}) =>
      outName ? g.opAs(outName, op, inputs, attrs) : g.op(op, inputs, attrs, p);
    if (opset >= 17) return last("LayerNormalization", [input, w, b], { axis: -1, epsilon: float(eps) });
    // y = (x − mean) / sqrt(var + eps) · w + b, over the last axis (ReduceMean takes axes as an attribute
    // before opset 18, which this branch never reaches).
    const mean = g.op("ReduceMean", [input], { axes: [-1], keepdims: 1 }, p);
    const d = g.op("Sub", [input, mean], {}, p);
    const variance = g.op("ReduceMean", [g.op("Mul", [d, d], {}, p)], { axes: [-1], keepdims: 1 }, p);
    const std = g.op("Sqrt", [g.op("Add", [variance, g.scalar(eps)], {}, p)], {}, p);
    return last("Add", [g.op("Mul", [g.op("Div", [d, std], {}, p), w], {}, p), b]);
  };
  const linear = (input: string, prefix: string): string =>
    g.op(
      "Add",
      [g.op("MatMul", [input, weight(`${prefix}.weight`)], {}, `${prefix}/`), weight(`${prefix}.bias`)],
      {},
      `${prefix}/`,
    );
  const gelu = (input: string, p: string): string => {
    if (opset >= 20) return g.op("Gelu", [input], { approximate: "tanh" }, p);
    // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), written as HF's export writes it (x³ as Pow): ONNX
    // Runtime's FastGeluFusion recognises exactly this pattern and runs it as one FastGelu kernel.
    const cube = g.op("Pow", [input, g.scalar(3)], {}, p);
    const inner = g.op("Add", [input, g.op("Mul", [cube, g.scalar(0.044715)], {}, p)], {}, p);
    const t = g.op("Tanh", [g.op("Mul", [inner, g.scalar(Math.sqrt(2 / Math.PI))], {}, p)], {}, p);
    return g.op(
      "Mul",
      [g.op("Mul", [input, g.scalar(0.5)], {}, p), g.op("Add", [t, g.scalar(1)], {}, p)],
      {},
      p,
    );
  };
  const splitHeads = g.int64s([0, 0, NH, hs]);
  const mergeHeads = g.int64s([0, 0, C]);
  const thirds = g.int64s([C, C, C]);

  const hidden: string[] = [];
  for (let l = 0; l < L; l++) {
    const h = `h.${l}`;
    const p = `${h}.attn/`;
    hidden.push(x);
    // Attention: qkv (B, S, 3C) → q, k, v (B, NH, S, hs).
    const qkv = linear(layerNorm(x, `${h}.ln_1`), `${h}.attn.c_attn`);
    const [q, k, v] = g.node("Split", [qkv, thirds], { axis: 2 }, 3, p);
    const heads = (t: string) =>
      g.op("Transpose", [g.op("Reshape", [t, splitHeads], {}, p)], { perm: [0, 2, 1, 3] }, p);
    let keys = heads(k); // (B, NH, S, hs)
    let values = heads(v);
    if (decoder) {
      // (B, NH, total, hs): the cache grows along the sequence axis.
      keys = g.opAs(`present.${l}.key`, "Concat", [past[l].key, keys], { axis: 2 });
      values = g.opAs(`present.${l}.value`, "Concat", [past[l].value, values], { axis: 2 });
      g.output(keys, keys, "float32", ["batch_size", NH, "total_sequence_length", hs]);
      g.output(values, values, "float32", ["batch_size", NH, "total_sequence_length", hs]);
    }
    const qScaled = g.op("Mul", [heads(q), scale], {}, p);
    const scores = g.op("MatMul", [qScaled, g.op("Transpose", [keys], { perm: [0, 1, 3, 2] }, p)], {}, p);
    const probs = g.op("Softmax", [g.op("Where", [allowed, scores, masked], {}, p)], { axis: -1 }, p);
    const y = g.op("MatMul", [probs, values], {}, p); // (B, NH, S, hs)
    const merged = g.op("Reshape", [g.op("Transpose", [y], { perm: [0, 2, 1, 3] }, p), mergeHeads], {}, p);
    x = g.op("Add", [x, linear(merged, `${h}.attn.c_proj`)], {}, `${h}/`);
    // MLP.
    const fc = linear(layerNorm(x, `${h}.ln_2`), `${h}.mlp.c_fc`);
    x = add(
      x,
      linear(gelu(fc, `${h}.mlp/`), `${h}.mlp.c_proj`),
      l < L - 1 ? hiddenName(l + 1) : undefined,
      `${h}/`,
    );
  }
  const lnf = layerNorm(x, "ln_f", hiddenName(L));
  hidden.push(lnf);

  // logits (B, S, V) = lnf · wteᵀ, named "logits" so no Identity copy is needed. The Transpose of the tied
  // embedding is constant-folded by ONNX Runtime when the session loads, so wte is stored once in the
  // file and MatMul writes (B, S, V) directly (Gemm would need a (B·S, V) → (B, S, V) Reshape, which
  // ORT copies: ~5% of a GPT-2 124M forward).
  const wteT = g.op("Transpose", [wte], { perm: [1, 0] }, "lm_head/");
  g.output(g.opAs("logits", "MatMul", [lnf, wteT]), "logits", "float32", [
    "batch_size",
    "sequence_length",
    V,
  ]);
  if (!decoder) {
    hidden.forEach((name) => g.output(name, name, "float32", ["batch_size", "sequence_length", C]));
  }
  return {
    ir_version: irVersionFor(opset),
    opset_import: [{ domain: "", version: opset }],
    producer_name: "gpt2-webgpu",
    producer_version: opts.producerVersion ?? "1",
    doc_string: decoder
      ? "GPT-2 LM with KV cache (transformers.js / Optimum decoder layout)"
      : "GPT-2 LM with hidden states (HF output_hidden_states layout), no cache",
    graph: g.build(decoder ? "gpt2_decoder" : "gpt2_hidden"),
    metadata_props: Object.entries({ ...cfg, graph_kind: opts.kind }).map(([key, value]) => ({
      key,
      value: String(value),
    })),
  };
}
