/**
 * The flat parameter buffer: every GPT-2 tensor under its Hugging Face name and in Hugging Face's layout
 * (Conv1D weights stored (in, out)), each at an offset that is a multiple of 64 floats so that any tensor
 * can be bound on its own (256-byte storage offset alignment). Gradients and AdamW moments use the same
 * layout in buffers of the same length.
 *
 * @module
 */
import { Rng } from "../rng.ts";
import { type GPT2Config, paddedVocab } from "./config.ts";

/** Offsets are multiples of this many floats (256 bytes). */
export const PARAM_ALIGN_FLOATS = 64;

/** One tensor of the flat parameter buffer. */
export interface ParamTensor {
  /** Hugging Face name without the "transformer." prefix, e.g. "h.0.attn.c_attn.weight". */
  name: string;
  shape: number[];
  /** First float in the flat buffer (a multiple of 64). */
  offset: number;
  /** Floats in the tensor (product of shape). */
  size: number;
  /** Whether AdamW applies weight decay: 2-D weights (matmuls and embeddings) only. */
  decay: boolean;
}

/** Where every tensor lives in the flat buffer. */
export interface ParamLayout {
  /** In buffer order. */
  tensors: ParamTensor[];
  byName: Map<string, ParamTensor>;
  /** Floats in the buffer, including alignment padding (a multiple of 64). */
  total: number;
}

/** A contiguous run of tensors with the same weight-decay setting: one `adamwUpdate` call. */
export interface ParamGroup {
  /** First float (a multiple of 64). */
  start: number;
  /** Floats up to the end of the run's last tensor (padding between its tensors included; it is zero). */
  count: number;
  decay: boolean;
}

const align = (n: number) => Math.ceil(n / PARAM_ALIGN_FLOATS) * PARAM_ALIGN_FLOATS;

/** Tensor names and shapes in buffer order (the order of Hugging Face's state dict). */
function tensorShapes(cfg: GPT2Config): [string, number[]][] {
  const C = cfg.n_embd;
  const shapes: [string, number[]][] = [["wte.weight", [cfg.vocab_size, C]], ["wpe.weight", [
    cfg.n_positions,
    C,
  ]]];
  for (let i = 0; i < cfg.n_layer; i++) {
    const h = `h.${i}`;
    shapes.push(
      [`${h}.ln_1.weight`, [C]],
      [`${h}.ln_1.bias`, [C]],
      [`${h}.attn.c_attn.weight`, [C, 3 * C]],
      [`${h}.attn.c_attn.bias`, [3 * C]],
      [`${h}.attn.c_proj.weight`, [C, C]],
      [`${h}.attn.c_proj.bias`, [C]],
      [`${h}.ln_2.weight`, [C]],
      [`${h}.ln_2.bias`, [C]],
      [`${h}.mlp.c_fc.weight`, [C, 4 * C]],
      [`${h}.mlp.c_fc.bias`, [4 * C]],
      [`${h}.mlp.c_proj.weight`, [4 * C, C]],
      [`${h}.mlp.c_proj.bias`, [C]],
    );
  }
  shapes.push(["ln_f.weight", [C]], ["ln_f.bias", [C]]);
  return shapes;
}

/**
 * The flat layout of a config's parameters. The token embedding is followed by (Vp − V)·C zero floats
 * (Vp = `paddedVocab(V)`), so the LM head may read wte as a (Vp, C) matrix whose extra rows are zero.
 */
export function paramLayout(cfg: GPT2Config): ParamLayout {
  const tensors: ParamTensor[] = [];
  let offset = 0;
  for (const [name, shape] of tensorShapes(cfg)) {
    const size = shape.reduce((a, b) => a * b, 1);
    tensors.push({ name, shape, offset, size, decay: shape.length >= 2 });
    const span = name === "wte.weight" ? paddedVocab(cfg.vocab_size) * cfg.n_embd : size;
    offset = align(offset + span);
  }
  return { tensors, byName: new Map(tensors.map((t) => [t.name, t])), total: offset };
}

/** Parameters of the model without padding; the LM head shares wte and is counted once (gpt2: 124,439,808). */
export function countParameters(cfg: GPT2Config): number {
  return tensorShapes(cfg).reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * Merges consecutive tensors with the same weight-decay setting into ranges of the flat buffer, so an
 * optimizer step is one `adamwUpdate` per group (gpt2: 98 groups) rather than one per tensor.
 */
export function paramGroups(layout: ParamLayout): ParamGroup[] {
  const groups: ParamGroup[] = [];
  for (const t of layout.tensors) {
    const last = groups[groups.length - 1];
    if (last && last.decay === t.decay) last.count = t.offset + t.size - last.start;
    else groups.push({ start: t.offset, count: t.size, decay: t.decay });
  }
  return groups;
}

/**
 * Hugging Face's GPT-2 initialisation (GPT2PreTrainedModel._init_weights): embeddings and weights
 * N(0, 0.02), the two residual projections (attn.c_proj.weight, mlp.c_proj.weight) N(0, 0.02/√(2·L)),
 * biases 0, layer-norm weights 1 and biases 0. Padding is 0. Deterministic for a seed: tensors are drawn
 * in layout order from one `Rng`.
 */
export function initParams(cfg: GPT2Config, layout: ParamLayout, seed: number): Float32Array {
  const params = new Float32Array(layout.total);
  const rng = new Rng(seed);
  const std = 0.02;
  const projStd = std / Math.sqrt(2 * cfg.n_layer);
  for (const t of layout.tensors) {
    const data = params.subarray(t.offset, t.offset + t.size);
    if (/ln_\w+\.weight$/.test(t.name)) data.fill(1);
    else if (t.name.endsWith(".bias")) data.fill(0);
    else {
      fillNormal(data, rng, t.name.endsWith("c_proj.weight") ? projStd : std);
    }
  }
  return params;
}

/** Fills `out` with N(0, std²) samples, using both outputs of each Box–Muller pair (gpt2: 124M samples). */
function fillNormal(out: Float32Array, rng: Rng, std: number): void {
  for (let i = 0; i < out.length; i += 2) {
    const r = std * Math.sqrt(-2 * Math.log(1 - rng.next()));
    const theta = 2 * Math.PI * rng.next();
    out[i] = r * Math.cos(theta);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(theta);
  }
}
