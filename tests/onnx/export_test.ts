/**
 * ONNX export: model.onnx in onnxruntime-node against the float64 reference (odd shapes and GPT-2
 * width), KV-cache consistency, attention_mask padding, other opsets, external data, and the files and
 * errors of `exportOnnx`.
 */
import assert from "node:assert/strict";
import { exportOnnx, EXTERNAL_DATA_FILE } from "../../lib/onnx/export.ts";
import { decodeModel } from "../../lib/onnx/proto/onnx.ts";
import { type HostTensor, OrtSession } from "../../lib/onnx/session.ts";
import { assertClose, type Tolerance } from "../_check.ts";
import { decoderFeeds, f32, randomIds, referenceLogits, rowsOf, tinyModelDir } from "./_helpers.ts";

/** ORT float32 against the float64 reference (logits of magnitude ~1–10). */
const REF_TOL: Tolerance = { atol: 5e-5, rtol: 1e-4 };
/** The same graph run two ways in float32 (cache vs no cache, padded vs not): only summation order differs. */
const SELF_TOL: Tolerance = { atol: 2e-5, rtol: 1e-5 };

async function withSession<R>(path: string, f: (s: OrtSession) => Promise<R>): Promise<R> {
  const s = await OrtSession.open(path, { threads: 1 });
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

Deno.test("exportOnnx() writes a model.onnx whose logits match the float64 reference on odd shapes", async () => {
  const m = await tinyModelDir({});
  try {
    const configBefore = await Deno.readTextFile(`${m.dir}/config.json`);
    const r = await exportOnnx(m.dir);
    assert.equal(r.modelPath, `${m.dir}/onnx/model.onnx`);
    assert.equal(r.hiddenPath, undefined);
    assert.equal(r.dataPath, undefined);
    assert.equal(r.opset, 17);
    assert.equal(r.tokenizer, "none", "V = 211 is not GPT-2's vocabulary: no tokenizer files");
    assert.equal(await Deno.readTextFile(`${m.dir}/config.json`), configBefore, "config.json is kept");
    const gen = JSON.parse(await Deno.readTextFile(`${m.dir}/generation_config.json`));
    assert.equal(gen.eos_token_id, 50256);

    const B = 3, T = 7;
    const ids = randomIds(B * T, m.config.vocab_size, 7);
    const expected = referenceLogits(m, ids, B, T);
    await withSession(r.modelPath, async (s) => {
      // The interface transformers.js reads.
      const byName = Object.fromEntries(s.inputs.map((i) => [i.name, i]));
      assert.deepEqual(byName["input_ids"], {
        name: "input_ids",
        type: "int64",
        dims: ["batch_size", "sequence_length"],
      });
      assert.deepEqual(byName["past_key_values.1.value"].dims, ["batch_size", 4, "past_sequence_length", 12]);
      assert.equal(s.inputs.length, 3 + 2 * m.config.n_layer);
      const out = Object.fromEntries(s.outputs.map((o) => [o.name, o.dims]));
      assert.deepEqual(out["logits"], ["batch_size", "sequence_length", 211]);
      assert.deepEqual(out["present.0.key"], ["batch_size", 4, "total_sequence_length", 12]);

      const res = await s.run(decoderFeeds(m.config, ids, B, T));
      assert.deepEqual(res.logits.dims, [B, T, 211]);
      assertClose(f32(res.logits), expected, REF_TOL, "ORT logits vs reference");
      assert.deepEqual(res["present.1.key"].dims, [B, 4, T, 12]);
    });
  } finally {
    await Deno.remove(m.dir, { recursive: true });
  }
});

Deno.test("model.onnx matches the reference at GPT-2 width (C=768, NH=12, T=128)", async () => {
  const m = await tinyModelDir({ n_embd: 768, n_head: 12, n_layer: 1, vocab_size: 1000, n_positions: 1024 });
  try {
    const r = await exportOnnx(m.dir);
    const B = 1, T = 128;
    const ids = randomIds(B * T, m.config.vocab_size, 3);
    const expected = referenceLogits(m, ids, B, T);
    await withSession(r.modelPath, async (s) => {
      const res = await s.run(decoderFeeds(m.config, ids, B, T));
      assertClose(f32(res.logits), expected, { atol: 1e-4, rtol: 2e-4 }, "GPT-2 width logits");
    });
  } finally {
    await Deno.remove(m.dir, { recursive: true });
  }
});

Deno.test("model.onnx with a KV cache: prompt, then tokens with past = present, equals the full sequence", async () => {
  const m = await tinyModelDir({});
  try {
    const r = await exportOnnx(m.dir);
    const B = 2, T0 = 5, steps = 3, T = T0 + steps;
    const ids = randomIds(B * T, m.config.vocab_size, 11);
    const V = m.config.vocab_size;
    await withSession(r.modelPath, async (s) => {
      const full = f32((await s.run(decoderFeeds(m.config, ids, B, T))).logits);
      const prompt = ids.filter((_, i) => i % T < T0);
      let res = await s.run(decoderFeeds(m.config, prompt, B, T0));
      for (let b = 0; b < B; b++) {
        assertClose(
          rowsOf(f32(res.logits), V, b * T0, T0),
          rowsOf(full, V, b * T, T0),
          SELF_TOL,
          `prompt ${b}`,
        );
      }
      for (let t = T0; t < T; t++) {
        const next = [ids[t], ids[T + t]];
        res = await s.run(decoderFeeds(m.config, next, B, 1, { P: t, past: res }));
        assert.deepEqual(res["present.0.value"].dims, [B, 4, t + 1, 12]);
        for (let b = 0; b < B; b++) {
          assertClose(
            rowsOf(f32(res.logits), V, b, 1),
            rowsOf(full, V, b * T + t, 1),
            SELF_TOL,
            `step ${t} b ${b}`,
          );
        }
      }
    });
  } finally {
    await Deno.remove(m.dir, { recursive: true });
  }
});

Deno.test("model.onnx honours attention_mask: left padding gives the unpadded logits, pad rows stay finite", async () => {
  const m = await tinyModelDir({});
  try {
    const r = await exportOnnx(m.dir);
    const V = m.config.vocab_size;
    const T = 6, pad = 2;
    const seq = randomIds(T - pad, V, 5);
    const other = randomIds(T, V, 6);
    // Row 0: 2 pad tokens (arbitrary ids), then seq; positions as transformers.js makes them
    // (cumsum(mask) − 1, pads at 1). Row 1: a full sequence.
    const ids = [17, 99, ...seq, ...other];
    const mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    const positions = [1, 1, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5];
    const expectedSeq = referenceLogits(m, seq, 1, T - pad);
    const expectedOther = referenceLogits(m, other, 1, T);
    await withSession(r.modelPath, async (s) => {
      const res = await s.run(decoderFeeds(m.config, ids, 2, T, { mask, positions }));
      const logits = f32(res.logits);
      assertClose(rowsOf(logits, V, pad, T - pad), expectedSeq, REF_TOL, "left-padded row");
      assertClose(rowsOf(logits, V, T, T), expectedOther, REF_TOL, "unpadded row in the same batch");
      assert.ok(logits.every(Number.isFinite), "a fully masked pad row must not produce NaN");
      // Different pad ids must not change anything the mask hides.
      const again = await s.run(decoderFeeds(m.config, [3, 4, ...seq, ...other], 2, T, { mask, positions }));
      assertClose(rowsOf(f32(again.logits), V, pad, 2 * T - pad), rowsOf(logits, V, pad, 2 * T - pad), {
        atol: 0,
        rtol: 0,
      }, "masked keys have no influence");
      // Masking a key in the middle of a sequence changes the rows after it (the mask is used at all).
      const holed = await s.run(
        decoderFeeds(m.config, ids, 2, T, { mask: [0, 0, 1, 0, 1, 1, ...mask.slice(6)], positions }),
      );
      const diff = rowsOf(f32(holed.logits), V, 4, 1).some((x, i) => Math.abs(x - logits[4 * V + i]) > 1e-3);
      assert.ok(diff, "masking key 3 must change the logits of position 4");
    });
  } finally {
    await Deno.remove(m.dir, { recursive: true });
  }
});

Deno.test("exportOnnx() at opsets 13, 20 and 24 (decomposed LayerNorm/GELU or native Gelu) gives the reference logits", async () => {
  const m = await tinyModelDir({ vocab_size: 64, n_embd: 32, n_layer: 1 });
  try {
    const B = 2, T = 5;
    const ids = randomIds(B * T, m.config.vocab_size, 9);
    const expected = referenceLogits(m, ids, B, T);
    for (const opset of [13, 20, 24]) {
      const r = await exportOnnx(m.dir, { opset });
      const model = decodeModel(await Deno.readFile(r.modelPath));
      assert.equal(model.opset_import[0].version, opset);
      const ops = new Set(model.graph.node.map((n) => n.op_type));
      assert.equal(ops.has("LayerNormalization"), opset >= 17, `opset ${opset} LayerNormalization`);
      assert.equal(ops.has("Gelu"), opset >= 20, `opset ${opset} Gelu`);
      await withSession(r.modelPath, async (s) => {
        const res = await s.run(decoderFeeds(m.config, ids, B, T));
        assertClose(f32(res.logits), expected, REF_TOL, `opset ${opset}`);
      });
    }
  } finally {
    await Deno.remove(m.dir, { recursive: true });
  }
});

Deno.test("exportOnnx() with external data stores the weights once, shared by hidden.onnx, and undoes it on re-export", async () => {
  const m = await tinyModelDir({});
  try {
    const inline = await exportOnnx(m.dir, { hidden: true });
    const B = 2, T = 4;
    const ids = randomIds(B * T, m.config.vocab_size, 2);
    const run = (path: string, feeds: Record<string, HostTensor>) =>
      withSession(path, async (s) => f32((await s.run(feeds, ["logits"])).logits));
    const want = await run(inline.modelPath, decoderFeeds(m.config, ids, B, T));

    const ext = await exportOnnx(m.dir, { hidden: true, externalData: true });
    assert.equal(ext.dataPath, `${m.dir}/onnx/${EXTERNAL_DATA_FILE}`);
    const dataSize = (await Deno.stat(ext.dataPath!)).size;
    const weights = m.config.n_embd * (m.config.vocab_size + m.config.n_positions) * 4;
    assert.ok(
      dataSize >= weights && dataSize < 2 * weights + 2 ** 20,
      `data file ${dataSize} B holds one copy`,
    );
    assert.ok((await Deno.stat(ext.modelPath)).size < 64 * 1024, "model.onnx without its weights is small");
    const cfg = JSON.parse(await Deno.readTextFile(`${m.dir}/config.json`));
    assert.deepEqual(cfg["transformers.js_config"], { use_external_data_format: { "model.onnx": 1 } });
    assertClose(
      await run(ext.modelPath, decoderFeeds(m.config, ids, B, T)),
      want,
      { atol: 0, rtol: 0 },
      "external",
    );
    const hiddenFeeds = {
      input_ids: decoderFeeds(m.config, ids, B, T).input_ids,
      attention_mask: decoderFeeds(m.config, ids, B, T).attention_mask,
    };
    assertClose(
      await run(ext.hiddenPath!, hiddenFeeds),
      want,
      SELF_TOL,
      "hidden.onnx on the shared data file",
    );

    const back = await exportOnnx(m.dir);
    assert.deepEqual(
      back.removed.sort(),
      [`${m.dir}/onnx/${EXTERNAL_DATA_FILE}`, `${m.dir}/onnx/hidden.onnx`].sort(),
    );
    const cfgAfter = JSON.parse(await Deno.readTextFile(`${m.dir}/config.json`));
    assert.equal(cfgAfter["transformers.js_config"], undefined);
  } finally {
    await Deno.remove(m.dir, { recursive: true });
  }
});

Deno.test("exportOnnx() fails with one-line errors for a missing directory and an unsupported opset", async () => {
  await assert.rejects(
    () => exportOnnx("/nonexistent/model"),
    /model directory \/nonexistent\/model does not exist/,
  );
  const m = await tinyModelDir({ n_layer: 1 });
  try {
    await assert.rejects(
      () => exportOnnx(m.dir, { opset: 12 }),
      /--opset must be an integer in 13 … 24, got 12$/,
    );
    await assert.rejects(
      () => OrtSession.open(`${m.dir}/config.json`),
      /^Error: cannot load ONNX model .*config\.json: /,
    );
    await assert.rejects(
      () => OrtSession.open(`${m.dir}/nothing.onnx`),
      /cannot open ONNX model .*nothing\.onnx: not found/,
    );
  } finally {
    await Deno.remove(m.dir, { recursive: true });
  }
});

Deno.test("deno task export runs with only --allow-read --allow-write and reports JSON", async () => {
  const m = await tinyModelDir({ n_layer: 1 });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "tasks/export.ts",
        "--model",
        m.dir,
        "--hidden",
        "--json",
      ],
      cwd: new URL("../..", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
      env: { XDG_RUNTIME_DIR: "/tmp" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(r.modelPath, `${m.dir}/onnx/model.onnx`);
    assert.equal(r.hiddenPath, `${m.dir}/onnx/hidden.onnx`);
    const bad = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "tasks/export.ts", "--model", m.dir, "--opset", "99"],
      cwd: new URL("../..", import.meta.url).pathname,
      stderr: "piped",
    }).output();
    assert.equal(bad.code, 2);
    assert.equal(new TextDecoder().decode(bad.stderr).trim(), "error: --opset must be <= 24, got 99");
  } finally {
    await Deno.remove(m.dir, { recursive: true });
  }
});
