/**
 * hidden.onnx: the hidden states HF's `output_hidden_states=True` returns (embedding output, the input of
 * every later block, ln_f's output) against the WebGPU model's residual stream and against direct
 * computations from the weights.
 */
import assert from "node:assert/strict";
import { Activations, GPT2 } from "../../lib/model/gpt2.ts";
import { exportOnnx } from "../../lib/onnx/export.ts";
import { OrtSession } from "../../lib/onnx/session.ts";
import { assertClose, testGpu } from "../_check.ts";
import { decoderFeeds, f32, randomIds, referenceLogits, tinyModelDir } from "./_helpers.ts";

Deno.test("hidden.onnx returns HF's hidden_states, matching the WebGPU model's residual stream and ln_f", async () => {
  const m = await tinyModelDir({ n_layer: 3 });
  const { config: cfg } = m;
  const C = cfg.n_embd, L = cfg.n_layer, V = cfg.vocab_size;
  try {
    const r = await exportOnnx(m.dir, { hidden: true });
    assert.equal(r.hiddenPath, `${m.dir}/onnx/hidden.onnx`);
    const B = 3, T = 7;
    const ids = randomIds(B * T, V, 21);
    const s = await OrtSession.open(r.hiddenPath!, { threads: 1 });
    let out;
    try {
      assert.deepEqual(s.inputs.map((i) => i.name), ["input_ids", "attention_mask"]);
      assert.deepEqual(s.outputs.map((o) => o.name), [
        "logits",
        ...Array.from({ length: L + 1 }, (_, i) => `hidden_states.${i}`),
      ]);
      assert.deepEqual(s.outputs[1].dims, ["batch_size", "sequence_length", C]);
      const feeds = decoderFeeds(cfg, ids, B, T);
      out = await s.run({ input_ids: feeds.input_ids, attention_mask: feeds.attention_mask });
    } finally {
      await s.close();
    }
    const hidden = Array.from({ length: L + 1 }, (_, i) => f32(out[`hidden_states.${i}`]));
    for (const h of hidden) assert.deepEqual(h.length, B * T * C);

    // hidden_states.0 = wte[id] + wpe[t], straight from the weights.
    const wte = m.layout.byName.get("wte.weight")!, wpe = m.layout.byName.get("wpe.weight")!;
    const emb = new Float32Array(B * T * C);
    for (let i = 0; i < B * T; i++) {
      for (let c = 0; c < C; c++) {
        emb[i * C + c] = m.params[wte.offset + ids[i] * C + c] + m.params[wpe.offset + (i % T) * C + c];
      }
    }
    assertClose(hidden[0], emb, { atol: 1e-6, rtol: 1e-6 }, "hidden_states.0");
    // logits = hidden_states.L · wteᵀ (ln_f is the last thing before the tied head).
    const fromHidden = new Float64Array(B * T * V);
    for (let i = 0; i < B * T; i++) {
      for (let v = 0; v < V; v++) {
        let sum = 0;
        for (let c = 0; c < C; c++) sum += hidden[L][i * C + c] * m.params[wte.offset + v * C + c];
        fromHidden[i * V + v] = sum;
      }
    }
    assertClose(f32(out.logits), fromHidden, { atol: 2e-5, rtol: 1e-5 }, "logits from hidden_states.L");
    assertClose(
      f32(out.logits),
      referenceLogits(m, ids, B, T),
      { atol: 5e-5, rtol: 1e-4 },
      "hidden.onnx logits",
    );

    // The WebGPU model: block inputs are the previous block's residual3, the last state is lnf.
    const gpu = await testGpu();
    const model = new GPT2(gpu, cfg, m.params, { training: false });
    const acts = new Activations(gpu, cfg, B, T, false);
    model.setBatch(acts, Uint32Array.from(ids), null);
    model.forwardHidden(acts, B, T);
    const gpuStates = [acts.encoded, ...acts.blocks.slice(0, L - 1).map((a) => a.residual3), acts.lnf];
    for (let i = 0; i <= L; i++) {
      const want = await gpu.read(gpuStates[i]);
      assertClose(
        hidden[i],
        want.subarray(0, B * T * C),
        { atol: 1e-4, rtol: 1e-4 },
        `hidden_states.${i} vs WebGPU`,
      );
    }
  } finally {
    await Deno.remove(m.dir, { recursive: true });
  }
});
