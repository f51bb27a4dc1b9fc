/**
 * Block embeddings from language models: mean pooling, the WebGPU model's embeddings (batch-size
 * independent), the ONNX teacher's equal to the same model's on WebGPU, and kmeans with --embed model
 * end to end.
 */
import assert from "node:assert/strict";
import { condense } from "../../lib/condense/condense.ts";
import { meanPool, modelEmbeddings, teacherEmbeddings } from "../../lib/condense/embed.ts";
import { Activations, GPT2 } from "../../lib/model/gpt2.ts";
import { exportOnnx } from "../../lib/onnx/export.ts";
import { OnnxTeacher } from "../../lib/onnx/teacher.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, testGpu } from "../_check.ts";
import { options, readJsonl, tinyGpt2, tinyModelDir, topicCorpus, workspace } from "./_helpers.ts";

Deno.test("meanPool() averages over positions", () => {
  // B=2, T=3, C=2
  const hidden = [1, 2, 3, 4, 5, 6, 10, 0, 20, 0, 30, 3];
  const out = new Float32Array(3 * 2).fill(-1);
  meanPool(out, 1, hidden, 2, 3, 2);
  assert.deepEqual(Array.from(out), [-1, -1, 3, 4, 20, 1]);
});

Deno.test("modelEmbeddings() is the mean final hidden state of each block, whatever the batch size", async () => {
  const gpu = await testGpu();
  const m = tinyGpt2({ vocab_size: 97, n_embd: 24, n_layer: 2, n_head: 2 }, 4);
  const model = new GPT2(gpu, m.config, m.params, { training: false });
  const n = 5, T = 7, C = 24;
  const rng = new Rng(1);
  const blocks = Uint32Array.from({ length: n * T }, () => rng.int(97));
  const one = await modelEmbeddings(model, blocks, T, 1);
  const three = await modelEmbeddings(model, blocks, T, 3);
  assertClose(three, one, { atol: 1e-6, rtol: 1e-6 }, "batch 3 vs 1");
  // All blocks in one forward pass, pooled here.
  const acts = new Activations(gpu, m.config, n, T, false);
  model.setBatch(acts, blocks, null);
  model.forwardHidden(acts, n, T);
  const hidden = await gpu.read(gpu.slice(acts.lnf, 0, n * T * C));
  const expected = new Float32Array(n * C);
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += hidden[(b * T + t) * C + c];
      expected[b * C + c] = s / T;
    }
  }
  assertClose(one, expected, { atol: 1e-6, rtol: 1e-5 }, "pooled");
  await assert.rejects(
    modelEmbeddings(model, Uint32Array.from([1, 2, 97]), 3, 1),
    /outside the model's vocabulary/,
  );
});

const ffi = Deno.permissions.querySync({ name: "ffi" }).state === "granted";

Deno.test({
  name: "teacherEmbeddings() of an exported model equals modelEmbeddings() of the same model",
  ignore: !ffi, // onnxruntime-node needs --allow-ffi (deno task test grants it)
  async fn() {
    const gpu = await testGpu();
    const m = await tinyModelDir({ vocab_size: 97, n_embd: 24, n_layer: 2, n_head: 2 }, 5);
    try {
      await exportOnnx(m.dir, { hidden: true });
      const n = 5, T = 7;
      const rng = new Rng(2);
      const blocks = Uint32Array.from({ length: n * T }, () => rng.int(97));
      const teacher = await OnnxTeacher.open(m.dir, { vocabSize: 97, seq: T, needHidden: true });
      try {
        const { embeddings, C } = await teacherEmbeddings(teacher, blocks, T, 2);
        assert.equal(C, 24);
        const model = new GPT2(gpu, m.config, m.params, { training: false });
        assertClose(
          embeddings,
          await modelEmbeddings(model, blocks, T, 2),
          { atol: 1e-4, rtol: 1e-4 },
          "onnx vs webgpu",
        );
      } finally {
        teacher.close();
      }
    } finally {
      await Deno.remove(m.dir, { recursive: true });
    }
  },
});

Deno.test("condense() kmeans --embed model keeps k real blocks weighted by cluster size", async () => {
  const gpu = await testGpu();
  const ws = await workspace(topicCorpus(60));
  const model = await tinyModelDir({ vocab_size: 50257, n_embd: 16, n_head: 2, n_positions: 16 }, 3);
  try {
    const o = options(ws.data, ws.out, ws.cache, {
      seq: 16,
      k: 5,
      embed: "model",
      model: model.dir,
      seed: 1,
      gpu,
    });
    const { nBlocks } = await condense(o);
    const lines = await readJsonl(ws.out);
    assert.equal(lines.length, 5);
    assert.equal(new Set(lines.map((l) => l.source)).size, 5);
    assert.equal(lines.reduce((a, l) => a + (l.weight as number), 0), nBlocks);
    const first = await Deno.readFile(ws.out);
    await condense(o);
    assert.deepEqual(await Deno.readFile(ws.out), first);
  } finally {
    await Deno.remove(ws.dir, { recursive: true });
    await Deno.remove(model.dir, { recursive: true });
  }
});
