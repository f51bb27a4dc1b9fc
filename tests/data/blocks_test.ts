import assert, { deepStrictEqual, equal, notDeepStrictEqual, throws } from "node:assert/strict";
import { BatchSampler, fillBatch, IGNORE_INDEX, makeBlocks } from "../../lib/data/blocks.ts";
import { Rng } from "../../lib/rng.ts";

function randomTokens(n: number, seed: number): Uint32Array {
  const rng = new Rng(seed);
  return Uint32Array.from({ length: n }, () => rng.int(50257));
}

Deno.test("makeBlocks() keeps ⌊len/T⌋ whole blocks and drops the remainder", () => {
  const tokens = randomTokens(1000, 1);
  for (const T of [1, 7, 64, 333, 1000]) {
    const blocks = makeBlocks(tokens, T);
    equal(blocks.length, Math.floor(1000 / T) * T, `T=${T}`);
    deepStrictEqual(Array.from(blocks), Array.from(tokens.slice(0, blocks.length)));
  }
  throws(() => makeBlocks(tokens, 1001), /^Error: corpus has 1000 tokens, fewer than one block of 1001$/);
  throws(() => makeBlocks(new Uint32Array(0), 4), /corpus has 0 tokens/);
  throws(() => makeBlocks(tokens, 0), /positive integer/);
  throws(() => makeBlocks(tokens, 2.5), /positive integer/);
});

Deno.test("BatchSampler without shuffle serves blocks in order, wrapping into the next epoch", () => {
  const s = new BatchSampler(10, 4, { seed: 0, shuffle: false });
  deepStrictEqual(Array.from(s.next()), [0, 1, 2, 3]);
  deepStrictEqual(Array.from(s.next()), [4, 5, 6, 7]);
  deepStrictEqual(s.state, { epoch: 0, cursor: 8 });
  deepStrictEqual(Array.from(s.next()), [8, 9, 0, 1]);
  deepStrictEqual(s.state, { epoch: 1, cursor: 2 });
  // Batch s holds blocks s·B … s·B+B−1 (mod nBlocks), for any number of steps.
  for (let step = 3; step < 40; step++) {
    deepStrictEqual(Array.from(s.next()), [0, 1, 2, 3].map((i) => (step * 4 + i) % 10), `step ${step}`);
  }
  // B larger than the number of blocks repeats blocks within a batch.
  deepStrictEqual(Array.from(new BatchSampler(3, 7, { seed: 0, shuffle: false }).next()), [
    0,
    1,
    2,
    0,
    1,
    2,
    0,
  ]);
});

Deno.test("BatchSampler with shuffle is deterministic and permutes the blocks anew each epoch", () => {
  const n = 37;
  const B = 5;
  const batches = (seed: number, steps: number) => {
    const s = new BatchSampler(n, B, { seed, shuffle: true });
    return Array.from({ length: steps }, () => Array.from(s.next())).flat();
  };
  const stream = batches(42, 30); // 150 indices: four whole epochs and part of a fifth
  deepStrictEqual(batches(42, 30), stream, "same seed, same order");
  notDeepStrictEqual(batches(43, 30), stream, "another seed, another order");
  const epochs = [0, 1, 2, 3].map((e) => stream.slice(e * n, (e + 1) * n));
  for (const [e, order] of epochs.entries()) {
    deepStrictEqual([...order].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i), `epoch ${e}`);
    // Epoch e is Rng(seed + e)'s permutation.
    const expected = Uint32Array.from({ length: n }, (_, i) => i);
    new Rng(42 + e).shuffle(expected);
    deepStrictEqual(order, Array.from(expected), `epoch ${e} order`);
  }
  notDeepStrictEqual(epochs[0], epochs[1]);
});

Deno.test("BatchSampler state restores the batch sequence exactly", () => {
  for (const shuffle of [true, false]) {
    const a = new BatchSampler(23, 6, { seed: 7, shuffle });
    for (let i = 0; i < 11; i++) a.next();
    const saved = JSON.parse(JSON.stringify(a.state));
    const expected = Array.from({ length: 20 }, () => Array.from(a.next()));
    const b = new BatchSampler(23, 6, { seed: 7, shuffle });
    b.state = saved;
    deepStrictEqual(Array.from({ length: 20 }, () => Array.from(b.next())), expected, `shuffle=${shuffle}`);
  }
  const s = new BatchSampler(5, 2, { seed: 0, shuffle: true });
  throws(() => s.state = { epoch: 0, cursor: 5 }, /cursor must be in \[0, 5\)/);
  throws(() => s.state = { epoch: -1, cursor: 0 }, /epoch must be ≥ 0/);
  throws(() => new BatchSampler(0, 2, { seed: 0, shuffle: true }), /nBlocks must be a positive integer/);
  throws(() => new BatchSampler(4, 0, { seed: 0, shuffle: true }), /batch size B must be a positive integer/);
});

Deno.test("fillBatch() gathers blocks and shifts targets by one with −100 at the end", () => {
  const T = 7;
  const blocks = makeBlocks(randomTokens(5 * T + 3, 2), T);
  const indices = Uint32Array.from([3, 0, 3, 4]);
  const inputs = new Uint32Array(indices.length * T).fill(999_999);
  const targets = new Int32Array(indices.length * T).fill(999_999);
  fillBatch(blocks, T, indices, inputs, targets);
  for (let b = 0; b < indices.length; b++) {
    const block = Array.from(blocks.slice(indices[b] * T, indices[b] * T + T));
    deepStrictEqual(Array.from(inputs.slice(b * T, b * T + T)), block, `inputs row ${b}`);
    deepStrictEqual(
      Array.from(targets.slice(b * T, b * T + T)),
      [...block.slice(1), IGNORE_INDEX],
      `targets row ${b}`,
    );
  }
  equal(IGNORE_INDEX, -100);
  assert(targets.every((t) => t === -100 || (t >= 0 && t < 50257)));
  throws(
    () => fillBatch(blocks, T, Uint32Array.from([5]), new Uint32Array(T), new Int32Array(T)),
    /block index 5 out of range/,
  );
  throws(
    () => fillBatch(blocks, T, indices, new Uint32Array(T), targets),
    /inputs has 7 elements, expected B·T = 28/,
  );
  throws(() => fillBatch(blocks, T, indices, inputs, new Int32Array(3)), /targets has 3 elements/);
});
