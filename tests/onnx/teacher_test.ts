/**
 * The ONNX teacher service: validation of bad teachers, runs in its worker (direct and prefetched give
 * the same outputs, logits match the reference), and the disk cache (hits, top-k, teacher identity).
 */
import assert from "node:assert/strict";
import { exportOnnx } from "../../lib/onnx/export.ts";
import { GraphBuilder } from "../../lib/onnx/graph.ts";
import { encodeModel } from "../../lib/onnx/proto/onnx.ts";
import { checkTeacherGraph, OnnxTeacher } from "../../lib/onnx/teacher.ts";
import { topKReduce } from "../../lib/onnx/teacher_cache.ts";
import { assertClose } from "../_check.ts";
import { randomIds, referenceLogits, tinyModelDir } from "./_helpers.ts";

const expectFor = (V: number, extra: { seq?: number; needHidden?: boolean } = {}) => ({
  vocabSize: V,
  seq: extra.seq ?? 8,
  needHidden: extra.needHidden ?? false,
});

/** Asserts that `p` rejects with a one-line message matching `re`. */
async function rejectsOneLine(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.match(e.message, re);
    assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
    return true;
  });
}

Deno.test("OnnxTeacher.open() rejects bad teachers with one-line errors", async () => {
  const m = await tinyModelDir({ n_layer: 1 });
  try {
    await exportOnnx(m.dir);
    const V = m.config.vocab_size;
    await rejectsOneLine(
      OnnxTeacher.open(`${m.dir}/missing.onnx`, expectFor(V)),
      /^teacher .*missing\.onnx: not found$/,
    );
    // Garbage bytes: ORT cannot parse them.
    await Deno.writeFile(`${m.dir}/bad.onnx`, new TextEncoder().encode("not a protobuf at all"));
    await rejectsOneLine(
      OnnxTeacher.open(`${m.dir}/bad.onnx`, expectFor(V)),
      /cannot load ONNX model .*bad\.onnx/,
    );
    // Vocabulary mismatch, from config.json (folder) and from the graph (a bare file elsewhere).
    await rejectsOneLine(
      OnnxTeacher.open(m.dir, expectFor(V + 1)),
      /vocabulary mismatch: the teacher has V = 211, the student 212/,
    );
    const bare = await Deno.makeTempDir({ prefix: "teacher-bare-" });
    try {
      await Deno.copyFile(`${m.dir}/onnx/model.onnx`, `${bare}/t.onnx`);
      await rejectsOneLine(
        OnnxTeacher.open(`${bare}/t.onnx`, expectFor(300)),
        /vocabulary mismatch: the teacher has V = 211, the student 300/,
      );
      // A graph that is not a causal LM.
      const g = new GraphBuilder();
      const x = g.input("pixel_values", "float32", ["batch_size", 3]);
      g.output(g.op("Relu", [x]), "logits", "float32", ["batch_size", 3]);
      const model = {
        ir_version: 8,
        opset_import: [{ domain: "", version: 17 }],
        graph: g.build("not_an_lm"),
      };
      await Deno.writeFile(`${bare}/img.onnx`, encodeModel(model));
      await rejectsOneLine(
        OnnxTeacher.open(`${bare}/img.onnx`, expectFor(3)),
        /has no input "input_ids" \(inputs: pixel_values\)/,
      );
    } finally {
      await Deno.remove(bare, { recursive: true });
    }
    // Sequence longer than n_positions; hidden states asked of a folder without hidden.onnx.
    await rejectsOneLine(
      OnnxTeacher.open(m.dir, expectFor(V, { seq: 33 })),
      /sequence length 33 exceeds the teacher's n_positions 32/,
    );
    await rejectsOneLine(
      OnnxTeacher.open(m.dir, expectFor(V, { needHidden: true })),
      /no onnx\/hidden\.onnx for hidden-state distillation/,
    );
  } finally {
    await Deno.remove(m.dir, { recursive: true });
  }
});

Deno.test("checkTeacherGraph() names unknown inputs and missing outputs", () => {
  const ids = { name: "input_ids", type: "int64", dims: ["b", "s"] };
  const logits = { name: "logits", type: "float32", dims: ["b", "s", 10] };
  const e = expectFor(10);
  assert.throws(
    () =>
      checkTeacherGraph("t.onnx", [ids, { name: "token_type_ids", type: "int64", dims: ["b", "s"] }], [
        logits,
      ], e),
    /unsupported input "token_type_ids"/,
  );
  assert.throws(
    () => checkTeacherGraph("t.onnx", [ids], [{ ...logits, name: "last_hidden_state" }], e),
    /has no output "logits" \(outputs: last_hidden_state\)/,
  );
  assert.throws(
    () => checkTeacherGraph("t.onnx", [ids], [logits], { ...e, needHidden: true }),
    /has no hidden_states\.\* outputs/,
  );
  assert.throws(
    () =>
      checkTeacherGraph(
        "t.onnx",
        [ids, { name: "past_key_values.0.key", type: "float32", dims: ["b", "h", "p", 8] }],
        [logits],
        e,
      ),
    /fixed heads and head_dim/,
  );
  const info = checkTeacherGraph("t.onnx", [ids], [logits], e, null);
  assert.equal(info.graph, "hidden");
  assert.equal(info.vocabSize, 10);
});

Deno.test("OnnxTeacher runs in its worker: prefetch/get equals a direct run, logits match the reference", async () => {
  const m = await tinyModelDir({ n_layer: 2 });
  try {
    await exportOnnx(m.dir, { hidden: true });
    const V = m.config.vocab_size, B = 2, T = 5;
    const batches = [0, 1, 2].map((s) => Uint32Array.from(randomIds(B * T, V, 40 + s)));
    const teacher = await OnnxTeacher.open(m.dir, expectFor(V, { needHidden: true }), { threads: 1 });
    try {
      assert.equal(teacher.info.path, `${m.dir}/onnx/hidden.onnx`);
      assert.equal(teacher.info.graph, "hidden");
      assert.equal(teacher.info.hiddenStates, m.config.n_layer + 1);
      assert.equal(teacher.info.nEmbd, m.config.n_embd);
      assert.equal(teacher.info.nPositions, 32);
      const direct = [];
      for (const ids of batches) direct.push(await teacher.run(ids, B, T));
      assertClose(direct[0].logits, referenceLogits(m, Array.from(batches[0]), B, T), {
        atol: 5e-5,
        rtol: 1e-4,
      }, "teacher logits");
      // Queue all, then take them in order: same outputs as the direct runs, bit for bit.
      const tickets = batches.map((ids) => teacher.prefetch(ids, B, T));
      for (let i = 0; i < batches.length; i++) {
        const got = await teacher.get(tickets[i]);
        assert.deepEqual(got.logits, direct[i].logits, `batch ${i} logits`);
        assert.equal(got.hidden!.length, m.config.n_layer + 1);
        assert.deepEqual(got.hidden, direct[i].hidden, `batch ${i} hidden`);
        assert.equal(got.fromCache, undefined);
      }
      await assert.rejects(teacher.get(tickets[0]), /no prefetched batch 0/);
      const st = teacher.stats();
      assert.equal(st.batches, 6);
      assert.equal(st.cacheHits, 0);
      assert.ok(st.waitMs >= 0 && st.teacherMs > 0);
      await assert.rejects(teacher.run(batches[0], B, T + 1), /ids hold 10 tokens, not B·T = 2×6/);
      // A failed prefetch is reported by its get(), and the queue goes on.
      const bad = teacher.prefetch(batches[0], B, T + 1);
      const good = teacher.prefetch(batches[2], B, T);
      await assert.rejects(teacher.get(bad), /ids hold 10 tokens/);
      assert.deepEqual((await teacher.get(good)).logits, direct[2].logits);
    } finally {
      teacher.close();
    }
    // The KV-cache graph as a teacher (empty past, positions 0 … T−1): the same logits.
    const dec = await OnnxTeacher.open(`${m.dir}/onnx/model.onnx`, expectFor(V), { threads: 1 });
    try {
      assert.equal(dec.info.graph, "decoder");
      assert.equal(dec.info.nPositions, 32, "config.json of the folder above onnx/");
      const out = await dec.run(batches[1], B, T);
      const want = referenceLogits(m, Array.from(batches[1]), B, T);
      assertClose(out.logits, want, { atol: 5e-5, rtol: 1e-4 }, "decoder teacher logits");
    } finally {
      dec.close();
    }
  } finally {
    await Deno.remove(m.dir, { recursive: true });
  }
});

Deno.test("OnnxTeacher's disk cache serves repeated batches, stores top-k, and is keyed by the teacher file", async () => {
  const m = await tinyModelDir({ n_layer: 1 });
  const cacheDir = await Deno.makeTempDir({ prefix: "teacher-cache-" });
  try {
    await exportOnnx(m.dir);
    const V = m.config.vocab_size, B = 2, T = 4, k = 5;
    const ids = Uint32Array.from(randomIds(B * T, V, 77));
    const open = () => OnnxTeacher.open(m.dir, expectFor(V), { threads: 1, cacheDir, topK: k });
    let t = await open();
    let first;
    let direct;
    try {
      assert.match(t.info.hash!, /^[0-9a-f]{64}$/);
      direct = await t.run(ids, B, T);
      first = await t.get(t.prefetch(ids, B, T));
      assert.equal(first.fromCache, undefined, "first time: computed");
      assert.equal(first.logits, undefined, "top-k mode keeps no full logits");
      assert.deepEqual(first.topK, topKReduce(direct.logits, B * T, V, k));
    } finally {
      t.close();
    }
    t = await open();
    try {
      const again = await t.get(t.prefetch(ids, B, T));
      assert.equal(again.fromCache, true);
      assert.deepEqual(again.topK, first.topK);
      assert.equal(t.stats().cacheHits, 1);
    } finally {
      t.close();
    }
    // New weights → new file hash → a miss, even for the same ids.
    const other = await tinyModelDir({ n_layer: 1 }, 2);
    try {
      await Deno.copyFile(`${other.dir}/model.safetensors`, `${m.dir}/model.safetensors`);
      await exportOnnx(m.dir);
      t = await open();
      try {
        const fresh = await t.get(t.prefetch(ids, B, T));
        assert.equal(fresh.fromCache, undefined);
        assert.notDeepEqual(fresh.topK!.logits, first.topK!.logits);
      } finally {
        t.close();
      }
    } finally {
      await Deno.remove(other.dir, { recursive: true });
    }
  } finally {
    await Deno.remove(m.dir, { recursive: true });
    await Deno.remove(cacheDir, { recursive: true });
  }
});
