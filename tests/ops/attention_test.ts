import { throws as assertThrows } from "node:assert/strict";
import type { Gpu, View } from "../../lib/gpu/runtime.ts";
import {
  attentionBackward,
  attentionDecode,
  attentionForward,
  overrideAttentionShape,
} from "../../lib/ops/attention.ts";
import { attentionBackwardRef, attentionDecodeRef, attentionForwardRef } from "../../lib/ref/attention.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, finiteDifference, testGpu } from "../_check.ts";

const FWD_TOL = { atol: 2e-5, rtol: 1e-4 };
const BWD_TOL = { atol: 2e-5, rtol: 1e-3 };
/** The launch shape real GPUs use (one query per thread, 64 threads); run here on the CPU adapter too. */
const GPU_SHAPE = { QB: 64, R: 1, KT: 32 };

interface Case {
  B: number;
  T: number;
  C: number;
  NH: number;
}

function upload(gpu: Gpu, data: Float32Array): View {
  const view = gpu.tensor(data.length);
  gpu.write(view, data);
  return view;
}

/** Runs forward (and backward with random dout) on the GPU and checks both against the references. */
async function checkAgainstReference(
  gpu: Gpu,
  { B, T, C, NH }: Case,
  seed: number,
  backward: boolean,
  qkScale = 1,
): Promise<void> {
  const rng = new Rng(seed);
  const qkv = rng.uniformArray(B * T * 3 * C);
  // Larger q, k spread the scores over a wide range (exercises the online softmax's rescaling).
  for (let i = 0; i < qkv.length; i++) if (i % (3 * C) < 2 * C) qkv[i] *= qkScale;
  const vqkv = upload(gpu, qkv);
  const [out, lse] = [gpu.tensor(B * T * C), gpu.tensor(B * NH * T)];
  attentionForward(gpu, out, lse, vqkv, B, T, C, NH);
  const outRef = new Float32Array(B * T * C);
  const lseRef = new Float32Array(B * NH * T);
  attentionForwardRef(outRef, lseRef, qkv, B, T, C, NH);
  assertClose(await gpu.read(out), outRef, FWD_TOL, "out");
  assertClose(await gpu.read(lse), lseRef, { atol: 1e-4, rtol: 1e-5 }, "lse");
  if (!backward) return;
  const dout = rng.uniformArray(B * T * C);
  const dqkv = gpu.tensor(B * T * 3 * C);
  attentionBackward(gpu, dqkv, upload(gpu, dout), vqkv, out, lse, B, T, C, NH);
  const dqkvRef = new Float32Array(B * T * 3 * C);
  attentionBackwardRef(dqkvRef, dout, qkv, outRef, lseRef, B, T, C, NH);
  assertClose(await gpu.read(dqkv), dqkvRef, BWD_TOL, "dqkv");
}

Deno.test("attentionForward() and attentionBackward() match the reference on odd shapes", async () => {
  const gpu = await testGpu();
  await checkAgainstReference(gpu, { B: 2, T: 7, C: 24, NH: 3 }, 1, true);
  await checkAgainstReference(gpu, { B: 3, T: 45, C: 24, NH: 3 }, 2, true); // several query blocks and tiles
});

Deno.test("attentionForward() and attentionBackward() handle a single token (T=1)", async () => {
  const gpu = await testGpu();
  await checkAgainstReference(gpu, { B: 3, T: 1, C: 24, NH: 3 }, 3, true);
});

Deno.test("attentionForward() stays exact when scores span a wide range (softmax rescaling)", async () => {
  const gpu = await testGpu();
  await checkAgainstReference(gpu, { B: 1, T: 40, C: 24, NH: 3 }, 4, true, 6);
});

Deno.test("attention kernels match the reference with the GPU launch shape, small preset hs=32", async () => {
  const gpu = await testGpu();
  overrideAttentionShape(GPU_SHAPE);
  try {
    await checkAgainstReference(gpu, { B: 2, T: 77, C: 128, NH: 4 }, 5, true);
    await checkDecode(gpu, { B: 2, T: 72, C: 128, NH: 4 }, [69, 1, 2], 13);
  } finally {
    overrideAttentionShape(null);
  }
});

Deno.test("attentionForward() and attentionBackward() match the reference at GPT-2 size B=1 T=256 C=768 NH=12", async () => {
  const gpu = await testGpu();
  await checkAgainstReference(gpu, { B: 1, T: 256, C: 768, NH: 12 }, 6, true);
});

Deno.test("attentionForward() matches the reference at GPT-2 size B=2 T=1024 C=768 NH=12", async () => {
  const gpu = await testGpu();
  await checkAgainstReference(gpu, { B: 2, T: 1024, C: 768, NH: 12 }, 7, false);
});

Deno.test("attentionBackward() is deterministic and overwrites dqkv", async () => {
  const gpu = await testGpu();
  const [B, T, C, NH] = [2, 33, 24, 3];
  const rng = new Rng(8);
  const qkv = upload(gpu, rng.uniformArray(B * T * 3 * C));
  const dout = upload(gpu, rng.uniformArray(B * T * C));
  const [out, lse] = [gpu.tensor(B * T * C), gpu.tensor(B * NH * T)];
  attentionForward(gpu, out, lse, qkv, B, T, C, NH);
  const dqkv = upload(gpu, rng.uniformArray(B * T * 3 * C, 100, 200)); // garbage must not leak through
  attentionBackward(gpu, dqkv, dout, qkv, out, lse, B, T, C, NH);
  const first = await gpu.read(dqkv);
  attentionBackward(gpu, dqkv, dout, qkv, out, lse, B, T, C, NH, gpu.tensor(B * NH * T));
  const second = await gpu.read(dqkv);
  for (let i = 0; i < first.length; i++) {
    if (Object.is(first[i], second[i]) === false) throw new Error(`run 2 differs at ${i}`);
    if (!(Math.abs(first[i]) < 100)) throw new Error(`dqkv[${i}] = ${first[i]} was not overwritten`);
  }
});

Deno.test("attentionBackwardRef() matches central finite differences of the forward reference", () => {
  const [B, T, C, NH] = [2, 5, 8, 2];
  const rng = new Rng(9);
  const qkv = Float64Array.from(rng.uniformArray(B * T * 3 * C));
  const w = Float64Array.from(rng.uniformArray(B * T * C)); // loss = Σ out · w, so dout = w
  const out = new Float64Array(B * T * C);
  const lse = new Float64Array(B * NH * T);
  const loss = (x: Float64Array) => {
    attentionForwardRef(out, lse, x, B, T, C, NH);
    return out.reduce((s, o, i) => s + o * w[i], 0);
  };
  const numeric = finiteDifference(loss, qkv);
  loss(qkv);
  const analytic = new Float64Array(B * T * 3 * C);
  attentionBackwardRef(analytic, w, qkv, out, lse, B, T, C, NH);
  assertClose(analytic, numeric, { atol: 1e-7, rtol: 1e-6 }, "dqkv vs finite differences");
});

/** Feeds qkv through attentionDecode in chunks and compares with attentionForward on the whole sequence. */
async function checkDecode(gpu: Gpu, { B, T, C, NH }: Case, chunks: number[], seed: number): Promise<void> {
  const hs = C / NH;
  const Tmax = T + 3;
  const rng = new Rng(seed);
  const qkv = rng.uniformArray(B * T * 3 * C);
  const full = gpu.tensor(B * T * C);
  attentionForward(gpu, full, gpu.tensor(B * NH * T), upload(gpu, qkv), B, T, C, NH);
  const expected = await gpu.read(full);
  const [kcache, vcache] = [gpu.tensor(B * NH * Tmax * hs), gpu.tensor(B * NH * Tmax * hs)];
  const kRef = new Float32Array(B * NH * Tmax * hs);
  const vRef = new Float32Array(B * NH * Tmax * hs);
  let pos0 = 0;
  for (const Tn of chunks) {
    // this chunk's rows of qkv, (B, Tn, 3C)
    const step = new Float32Array(B * Tn * 3 * C);
    for (let b = 0; b < B; b++) {
      step.set(qkv.subarray((b * T + pos0) * 3 * C, (b * T + pos0 + Tn) * 3 * C), b * Tn * 3 * C);
    }
    const out = gpu.tensor(B * Tn * C);
    attentionDecode(gpu, out, upload(gpu, step), kcache, vcache, B, Tn, pos0, Tmax, C, NH);
    const got = await gpu.read(out);
    const want = new Float32Array(B * Tn * C);
    for (let b = 0; b < B; b++) {
      want.set(expected.subarray((b * T + pos0) * C, (b * T + pos0 + Tn) * C), b * Tn * C);
    }
    assertClose(got, want, { atol: 1e-5, rtol: 1e-4 }, `decode rows ${pos0}..${pos0 + Tn - 1}`);
    const outRef = new Float32Array(B * Tn * C);
    attentionDecodeRef(outRef, kRef, vRef, step, B, Tn, pos0, Tmax, C, NH);
    assertClose(got, outRef, FWD_TOL, `decode rows ${pos0}..${pos0 + Tn - 1} vs reference`);
    pos0 += Tn;
  }
  assertClose(await gpu.read(kcache), kRef, { atol: 0, rtol: 0 }, "kcache");
  assertClose(await gpu.read(vcache), vRef, { atol: 0, rtol: 0 }, "vcache");
}

Deno.test("attentionDecode() token by token gives attentionForward's rows, odd shape", async () => {
  const gpu = await testGpu();
  await checkDecode(gpu, { B: 2, T: 7, C: 24, NH: 3 }, [1, 1, 1, 1, 1, 1, 1], 10);
});

Deno.test("attentionDecode() in chunks (prompt, then tokens) gives attentionForward's rows", async () => {
  const gpu = await testGpu();
  await checkDecode(gpu, { B: 2, T: 47, C: 24, NH: 3 }, [40, 1, 3, 1, 2], 11);
});

Deno.test("attentionDecode() token by token gives attentionForward's rows at GPT-2 width", async () => {
  const gpu = await testGpu();
  await checkDecode(gpu, { B: 1, T: 20, C: 768, NH: 12 }, Array(20).fill(1), 12);
});

Deno.test("attention ops reject sizes they cannot handle", async () => {
  const gpu = await testGpu();
  const v = gpu.tensor(4096);
  assertThrows(() => attentionForward(gpu, v, v, v, 1, 4, 24, 5), /not divisible/);
  assertThrows(() => attentionForward(gpu, v, v, v, 1, 4, 24, 4), /multiple of 4/); // hs = 6
  assertThrows(() => attentionForward(gpu, v, v, v, 1, 4, 256, 2), /at most 64/); // hs = 128
  assertThrows(() => attentionForward(gpu, v, v, gpu.tensor(10), 1, 4, 24, 3), /qkv holds 10 floats/);
  assertThrows(() => attentionBackward(gpu, v, v, v, v, v, 2, 0, 24, 3), /T must be a positive integer/);
  assertThrows(() => attentionDecode(gpu, v, v, v, v, 1, 2, 7, 8, 24, 3), /do not fit a cache of Tmax=8/);
  assertThrows(() => overrideAttentionShape({ QB: 8, R: 5, KT: 32 }), /R ≤ 4/);
});
