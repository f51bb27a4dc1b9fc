/**
 * Whole-model tests: the float64 reference against its fixture and against finite differences, then the
 * GPU model (lib/model/gpt2.ts) against the fixture (losses, every gradient tensor, logits), KV-cache
 * decoding against full forwards, determinism of the backward pass, and a GPT-2-width smoke test against
 * the stored width fixture.
 *
 * Regenerate the fixtures with
 * `deno run --allow-read --allow-write=./fixtures tests/fixtures/make_gpt2_reference.ts`.
 */
import assert from "node:assert/strict";
import type { Gpu } from "../../lib/gpu/runtime.ts";
import { paddedVocab } from "../../lib/model/config.ts";
import { Activations, GPT2, KVCache } from "../../lib/model/gpt2.ts";
import { IGNORE_INDEX } from "../../lib/data/blocks.ts";
import { gpt2ForwardBackwardRef } from "../../lib/ref/gpt2.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, finiteDifference, testGpu, type Tolerance } from "../_check.ts";
import { type GPT2Fixture, readFixture, readWidthFixture } from "../fixtures/make_gpt2_reference.ts";

let cached: Promise<GPT2Fixture> | null = null;
function fixture(): Promise<GPT2Fixture> {
  cached ??= readFixture();
  return cached;
}

/**
 * GPU at GPT-2 width against the float64 reference, relative to the largest sampled gradient of a tensor
 * (measured on lavapipe: at most 1.2e-6 of it).
 */
const WIDTH_TOL = (scale: number): Tolerance => ({ atol: 2e-5 * scale, rtol: 1e-4 });

/** GPU (float32) against the float64 fixture. */
const GPU_TOL: Tolerance = { atol: 1e-5, rtol: 1e-4 };

/** Compares every parameter tensor of two flat gradient buffers; one error lists all failing tensors. */
function assertTensorsClose(
  f: GPT2Fixture,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  what: string,
): void {
  const failures: string[] = [];
  const sub = (a: ArrayLike<number>, start: number, n: number) =>
    Array.prototype.slice.call(a, start, start + n);
  for (const t of f.layout.tensors) {
    try {
      assertClose(sub(actual, t.offset, t.size), sub(expected, t.offset, t.size), tol, `${what} ${t.name}`);
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  if (failures.length > 0) {
    throw new Error(`${failures.length}/${f.layout.tensors.length} tensors differ:\n${failures.join("\n")}`);
  }
}

/** A GPU model and training activations for the fixture's batch, after one forward/backward step. */
async function gpuStep(gpu: Gpu, f: GPT2Fixture) {
  const model = new GPT2(gpu, f.config, f.params, { training: true });
  const acts = new Activations(gpu, f.config, f.B, f.T, true);
  const tokens = new Uint32Array(f.tokens);
  model.setBatch(acts, tokens, f.targets);
  model.step(acts, f.B, f.T, tokens, true, 1 / f.scored);
  const losses = await gpu.read(acts.losses);
  const grads = await gpu.read(model.grads!);
  return { model, acts, tokens, losses, grads };
}

Deno.test("gpt2ForwardBackwardRef() reproduces the fixture's logits, losses and gradients", async () => {
  const f = await fixture();
  const r = gpt2ForwardBackwardRef(f.config, f.layout, f.params, f.tokens, f.targets, f.B, f.T, {
    backward: true,
  });
  // Same code, same float64 inputs: anything beyond rounding noise means the reference changed.
  const tight = { atol: 1e-12, rtol: 1e-10 };
  assertClose(r.logits, f.logits, tight, "logits");
  assertClose(r.losses, f.losses, tight, "losses");
  assertClose([r.loss], [f.loss], tight, "mean loss");
  assertTensorsClose(f, r.grads!, f.grads, tight, "grad");
  // The fixture's own invariants: ignored positions score 0 and the loss is the mean of the rest.
  let sum = 0;
  for (let i = 0; i < f.B * f.T; i++) {
    if (f.targets[i] === IGNORE_INDEX) assert.equal(f.losses[i], 0, `loss at ignored position ${i}`);
    else sum += f.losses[i];
  }
  assert.equal(f.scored, 11);
  assertClose([sum / f.scored], [f.loss], tight, "mean of per-position losses");
});

Deno.test("gpt2ForwardBackwardRef() gradients match central finite differences in float64", async () => {
  const f = await fixture();
  const { config, layout, B, T, tokens, targets } = f;
  const params = Float64Array.from(f.params);
  const analytic = gpt2ForwardBackwardRef(config, layout, params, tokens, targets, B, T, { backward: true })
    .grads!;
  // ~40 parameters spread over every tensor: a random element of each vector, two of each matrix, and two
  // of wte rows whose token occurs in the batch (other rows only feel the LM head).
  const rng = new Rng(99);
  const picks: number[] = [];
  for (const t of layout.tensors) {
    const count = t.shape.length >= 2 ? 2 : 1;
    for (let k = 0; k < count; k++) picks.push(t.offset + rng.int(t.size));
  }
  const wte = layout.byName.get("wte.weight")!;
  for (const row of [tokens[0], tokens[B * T - 1]]) {
    picks.push(wte.offset + row * config.n_embd + rng.int(config.n_embd));
  }
  const x = Float64Array.from(picks, (i) => params[i]);
  const loss = (values: Float64Array) => {
    picks.forEach((i, k) => (params[i] = values[k]));
    return gpt2ForwardBackwardRef(config, layout, params, tokens, targets, B, T, { backward: false }).loss;
  };
  const numeric = finiteDifference(loss, x, 1e-5);
  const expected = Float64Array.from(picks, (i) => analytic[i]);
  const names = picks.map((i) => layout.tensors.findLast((t) => t.offset <= i)!.name);
  for (let k = 0; k < picks.length; k++) {
    assertClose(
      [numeric[k]],
      [expected[k]],
      { atol: 1e-8, rtol: 1e-6 },
      `d loss / d ${names[k]}[${picks[k]}]`,
    );
  }
  // The check is only as good as the gradients are large: the spread-out fixture keeps them visible.
  const visible = expected.filter((g) => Math.abs(g) > 1e-3).length;
  assert.ok(visible >= picks.length * 0.75, `only ${visible}/${picks.length} sampled gradients exceed 1e-3`);
  assert.ok(picks.length >= 40, `sampled ${picks.length} parameters`);
});

Deno.test("gpt2ForwardBackwardRef() in float32 stays close to float64", async () => {
  const f = await fixture();
  const r = gpt2ForwardBackwardRef(f.config, f.layout, f.params, f.tokens, f.targets, f.B, f.T, {
    backward: true,
    float64: false,
  });
  assert.ok(r.grads instanceof Float32Array && r.logits instanceof Float32Array);
  assertClose(r.logits, f.logits, { atol: 1e-4, rtol: 1e-4 }, "float32 logits");
  assertTensorsClose(f, r.grads!, f.grads, { atol: 1e-5, rtol: 1e-4 }, "float32 grad");
});

Deno.test("GPT2.step() matches the fixture's per-position losses and every gradient tensor", async () => {
  const gpu = await testGpu();
  const f = await fixture();
  const { losses, grads } = await gpuStep(gpu, f);
  assertClose(losses, f.losses, GPU_TOL, "losses");
  let mean = 0;
  for (const l of losses) mean += l;
  assertClose([mean / f.scored], [f.loss], GPU_TOL, "mean loss");
  assertTensorsClose(f, grads, f.grads, GPU_TOL, "grad");
  // Padding (wte rows V..Vp, alignment gaps) must stay zero: the optimizer would otherwise move it.
  const used = new Uint8Array(f.layout.total);
  for (const t of f.layout.tensors) used.fill(1, t.offset, t.offset + t.size);
  const stray = grads.findIndex((g, i) => used[i] === 0 && g !== 0);
  assert.equal(stray, -1, `padding gradient at ${stray} is ${grads[stray]}`);
});

Deno.test("GPT2.step() without backward leaves the fixture's logits in acts.logits (row stride Vp)", async () => {
  const gpu = await testGpu();
  const f = await fixture();
  const model = new GPT2(gpu, f.config, f.params, { training: false });
  const acts = new Activations(gpu, f.config, f.B, f.T, false);
  const N = f.B * f.T, V = f.config.vocab_size, Vp = paddedVocab(V);
  assert.equal(acts.chunkRows, N, "the tiny batch fits one logits chunk");
  const tokens = new Uint32Array(f.tokens);
  model.setBatch(acts, tokens, f.targets);
  model.step(acts, f.B, f.T, tokens, false, 1);
  const padded = await gpu.read(gpu.slice(acts.logits, 0, N * Vp));
  const logits = new Float32Array(N * V);
  for (let r = 0; r < N; r++) logits.set(padded.subarray(r * Vp, r * Vp + V), r * V);
  assertClose(logits, f.logits, GPU_TOL, "logits");
  assertClose(await gpu.read(acts.losses), f.losses, GPU_TOL, "forward-only losses");
});

/** Logits rows (B, Vp) → (B, V). */
function unpad(padded: Float32Array, B: number, V: number, Vp: number): Float32Array {
  const out = new Float32Array(B * V);
  for (let b = 0; b < B; b++) out.set(padded.subarray(b * Vp, b * Vp + V), b * V);
  return out;
}

/** The fixture's logits of position t of every sequence, (B, V). */
function fixtureLogitsAt(f: GPT2Fixture, t: number): Float64Array {
  const V = f.config.vocab_size;
  const out = new Float64Array(f.B * V);
  for (let b = 0; b < f.B; b++) out.set(f.logits.subarray((b * f.T + t) * V, (b * f.T + t + 1) * V), b * V);
  return out;
}

for (const prefill of [1, 3]) {
  Deno.test(
    `GPT2.decode() with a KVCache (first call ${prefill === 1 ? "1 token" : `${prefill} tokens`}, then one ` +
      "at a time) gives lastLogits() of every prefix",
    async () => {
      const gpu = await testGpu();
      const f = await fixture();
      const { B, T } = f;
      const V = f.config.vocab_size, Vp = paddedVocab(V);
      const model = new GPT2(gpu, f.config, f.params, { training: false });
      const full = new Activations(gpu, f.config, B, T, false);
      const step = new Activations(gpu, f.config, B, prefill, false);
      const cache = new KVCache(gpu, f.config, B, T);
      const columns = (t0: number, t1: number) => {
        const out = new Uint32Array(B * (t1 - t0));
        for (let b = 0; b < B; b++) {
          for (let t = t0; t < t1; t++) out[b * (t1 - t0) + t - t0] = f.tokens[b * T + t];
        }
        return out;
      };
      for (let pos = 0; pos < T;) {
        const Tn = pos === 0 ? prefill : 1;
        model.setBatch(step, columns(pos, pos + Tn), null);
        const decoded = unpad(await gpu.read(model.decode(step, cache, B, Tn, pos)), B, V, Vp);
        pos += Tn;
        model.setBatch(full, columns(0, pos), null);
        const whole = unpad(await gpu.read(model.lastLogits(full, B, pos)), B, V, Vp);
        assertClose(decoded, whole, GPU_TOL, `decode vs lastLogits, prefix ${pos}`);
        assertClose(decoded, fixtureLogitsAt(f, pos - 1), GPU_TOL, `decode vs fixture, prefix ${pos}`);
      }
    },
  );
}

Deno.test("GPT2.step() backward is deterministic: two passes give bit-identical gradients", async () => {
  const gpu = await testGpu();
  const f = await fixture();
  const { model, acts, tokens, grads } = await gpuStep(gpu, f);
  model.zeroGrads();
  model.step(acts, f.B, f.T, tokens, true, 1 / f.scored);
  const again = await gpu.read(model.grads!);
  const a = new Uint32Array(grads.buffer), b = new Uint32Array(again.buffer);
  const first = a.findIndex((x, i) => x !== b[i]);
  assert.equal(first, -1, `gradient ${first} differs between runs: ${grads[first]} vs ${again[first]}`);
  // And gradients accumulate: a third pass without zeroing doubles them.
  model.step(acts, f.B, f.T, tokens, true, 1 / f.scored);
  const doubled = await gpu.read(model.grads!);
  assertClose(doubled, grads.map((g) => 2 * g), { atol: 1e-6, rtol: 1e-6 }, "accumulated gradients");
});

Deno.test(
  "GPT2.step() at GPT-2 width (C=768, NH=12, L=1, V=50257, B=1, T=32) matches the stored reference losses " +
    "and sampled gradients",
  async () => {
    const gpu = await testGpu();
    const f = await readWidthFixture();
    const { config, B, T, params } = f.inputs;
    const model = new GPT2(gpu, config, params, { training: true });
    const acts = new Activations(gpu, config, B, T, true);
    const tokens = new Uint32Array(f.inputs.tokens);
    model.setBatch(acts, tokens, f.inputs.targets);
    model.step(acts, B, T, tokens, true, 1 / f.scored);
    const losses = await gpu.read(acts.losses);
    const grads = await gpu.read(model.grads!);
    assertClose(losses, f.losses, { atol: 2e-5, rtol: 1e-5 }, "losses");
    const failures: string[] = [];
    f.samples.forEach((s, k) => {
      const expected = f.values[k];
      let scale = 0;
      for (const g of expected) scale = Math.max(scale, Math.abs(g));
      if (scale === 0) failures.push(`${s.label}: the sampled reference gradient is all zero`);
      const t = f.inputs.layout.byName.get(s.label.split(" ")[0])!;
      if (s.indices.some((i) => i < t.offset || i >= t.offset + t.size)) {
        failures.push(`${s.label}: sample indices reach outside the tensor`);
      }
      try {
        assertClose(
          Float32Array.from(s.indices, (i) => grads[i]),
          expected,
          WIDTH_TOL(scale),
          `grad ${s.label}`,
        );
      } catch (e) {
        failures.push((e as Error).message);
      }
    });
    if (failures.length > 0) throw new Error(failures.join("\n"));
  },
);
