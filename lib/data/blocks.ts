/**
 * Blocks and batches for causal LM training, as HF's run_clm does it: the token stream is cut into
 * blocks of T tokens (`group_texts`, remainder dropped), and each block is one training example whose
 * labels are its own tokens shifted by one.
 *
 * @module
 */
import { Rng } from "../rng.ts";

/** The label that the cross-entropy loss ignores (PyTorch's ignore_index). */
export const IGNORE_INDEX = -100;

/**
 * The token stream cut into nBlocks = ⌊len / T⌋ blocks of T tokens, as a (nBlocks, T) row-major view
 * of `tokens` (no copy); the last len mod T tokens are dropped. Throws when there is not one block.
 */
export function makeBlocks(tokens: Uint32Array, T: number): Uint32Array {
  if (!Number.isInteger(T) || T < 1) throw new Error(`block size T must be a positive integer, got ${T}`);
  const nBlocks = Math.floor(tokens.length / T);
  if (nBlocks === 0) throw new Error(`corpus has ${tokens.length} tokens, fewer than one block of ${T}`);
  return tokens.subarray(0, nBlocks * T);
}

/** A BatchSampler's position: the epoch and the index into that epoch's block order. */
export interface SamplerState {
  epoch: number;
  cursor: number;
}

/**
 * Deterministic batch order over nBlocks blocks. The sampler walks the endless sequence
 * order(0), order(1), … where order(e) is the permutation of 0 … nBlocks−1 drawn by `new Rng(seed + e)`
 * (shuffle) or the identity (no shuffle); each batch is its next B entries. A batch that runs past the
 * end of an epoch continues with the next epoch's order, so without shuffle batch s holds blocks
 * s·B … s·B+B−1 mod nBlocks. B may exceed nBlocks (blocks then repeat within a batch). The state
 * {epoch, cursor} restores the position exactly (for resumable training).
 */
export class BatchSampler {
  readonly nBlocks: number;
  readonly B: number;
  readonly seed: number;
  readonly shuffle: boolean;
  #epoch = 0;
  #cursor = 0;
  #order: Uint32Array | null = null;
  #orderEpoch = -1;

  /** @param nBlocks number of blocks; @param B batch size (blocks per batch). */
  constructor(nBlocks: number, B: number, opts: { seed: number; shuffle: boolean }) {
    if (!Number.isInteger(nBlocks) || nBlocks < 1) {
      throw new Error(`nBlocks must be a positive integer, got ${nBlocks}`);
    }
    if (!Number.isInteger(B) || B < 1) throw new Error(`batch size B must be a positive integer, got ${B}`);
    if (!Number.isInteger(opts.seed)) throw new Error(`seed must be an integer, got ${opts.seed}`);
    this.nBlocks = nBlocks;
    this.B = B;
    this.seed = opts.seed;
    this.shuffle = opts.shuffle;
  }

  /** The next batch: (B) block indices. */
  next(): Uint32Array {
    const out = new Uint32Array(this.B);
    for (let i = 0; i < this.B; i++) {
      out[i] = this.#orderOf(this.#epoch)[this.#cursor];
      if (++this.#cursor === this.nBlocks) {
        this.#cursor = 0;
        this.#epoch++;
      }
    }
    return out;
  }

  /** A copy of the current position: the epoch of the next block and its index in that epoch's order. */
  get state(): SamplerState {
    return { epoch: this.#epoch, cursor: this.#cursor };
  }

  set state(s: SamplerState) {
    if (!Number.isInteger(s.epoch) || s.epoch < 0) {
      throw new Error(`sampler epoch must be ≥ 0, got ${s.epoch}`);
    }
    if (!Number.isInteger(s.cursor) || s.cursor < 0 || s.cursor >= this.nBlocks) {
      throw new Error(`sampler cursor must be in [0, ${this.nBlocks}), got ${s.cursor}`);
    }
    this.#epoch = s.epoch;
    this.#cursor = s.cursor;
  }

  /** Epoch e's block order, cached for the current epoch. */
  #orderOf(epoch: number): Uint32Array {
    if (this.#orderEpoch !== epoch || this.#order === null) {
      const order = new Uint32Array(this.nBlocks);
      for (let i = 0; i < this.nBlocks; i++) order[i] = i;
      if (this.shuffle) new Rng(this.seed + epoch).shuffle(order);
      this.#order = order;
      this.#orderEpoch = epoch;
    }
    return this.#order;
  }
}

/**
 * Gathers blocks into a batch. For each b: inputs[b, t] = block[t] and targets[b, t] = block[t+1],
 * with targets[b, T−1] = IGNORE_INDEX (−100), so each block's loss averages its T−1 next-token
 * predictions, exactly HF's shifted-label causal LM loss.
 * @param blocks (nBlocks, T) from makeBlocks
 * @param indices (B) block indices, e.g. from BatchSampler.next()
 * @param inputs (B, T) out
 * @param targets (B, T) out
 */
export function fillBatch(
  blocks: Uint32Array,
  T: number,
  indices: Uint32Array,
  inputs: Uint32Array,
  targets: Int32Array,
): void {
  if (!Number.isInteger(T) || T < 1) throw new Error(`block size T must be a positive integer, got ${T}`);
  if (blocks.length % T !== 0) {
    throw new Error(`blocks length ${blocks.length} is not a multiple of T = ${T}`);
  }
  const B = indices.length;
  if (inputs.length !== B * T) {
    throw new Error(`inputs has ${inputs.length} elements, expected B·T = ${B * T}`);
  }
  if (targets.length !== B * T) {
    throw new Error(`targets has ${targets.length} elements, expected B·T = ${B * T}`);
  }
  const nBlocks = blocks.length / T;
  for (let b = 0; b < B; b++) {
    const block = indices[b];
    if (block >= nBlocks) throw new Error(`block index ${block} out of range (nBlocks = ${nBlocks})`);
    const src = blocks.subarray(block * T, block * T + T);
    inputs.set(src, b * T);
    for (let t = 0; t < T - 1; t++) targets[b * T + t] = src[t + 1];
    targets[b * T + T - 1] = IGNORE_INDEX;
  }
}
