import assert from "node:assert/strict";
import { type GPT2Config, paddedVocab, PRESETS, validateConfig } from "../../lib/model/config.ts";
import { countParameters, initParams, paramGroups, paramLayout } from "../../lib/model/params.ts";

const presets = Object.entries(PRESETS) as [string, GPT2Config][];

Deno.test("paramLayout() aligns every tensor to 64 floats without overlap, in Hugging Face order", () => {
  for (const [name, cfg] of presets) {
    const layout = paramLayout(cfg);
    const C = cfg.n_embd;
    let end = 0;
    for (const t of layout.tensors) {
      assert.equal(t.offset % 64, 0, `${name} ${t.name} offset aligned`);
      assert.ok(t.offset >= end, `${name} ${t.name} starts after the previous tensor`);
      assert.equal(t.size, t.shape.reduce((a, b) => a * b, 1));
      assert.equal(t.decay, t.shape.length === 2, `${name} ${t.name} decay`);
      assert.equal(layout.byName.get(t.name), t);
      end = t.offset + t.size;
    }
    assert.ok(layout.total >= end && layout.total % 64 === 0 && layout.total - end < 64, `${name} total`);
    assert.equal(layout.tensors.length, 2 + 12 * cfg.n_layer + 2);
    const names = layout.tensors.map((t) => t.name);
    assert.deepEqual(names.slice(0, 14), [
      "wte.weight",
      "wpe.weight",
      "h.0.ln_1.weight",
      "h.0.ln_1.bias",
      "h.0.attn.c_attn.weight",
      "h.0.attn.c_attn.bias",
      "h.0.attn.c_proj.weight",
      "h.0.attn.c_proj.bias",
      "h.0.ln_2.weight",
      "h.0.ln_2.bias",
      "h.0.mlp.c_fc.weight",
      "h.0.mlp.c_fc.bias",
      "h.0.mlp.c_proj.weight",
      "h.0.mlp.c_proj.bias",
    ]);
    assert.deepEqual(names.slice(-2), ["ln_f.weight", "ln_f.bias"]);
    const L = cfg.n_layer - 1;
    assert.deepEqual(layout.byName.get("wte.weight")!.shape, [cfg.vocab_size, C]);
    assert.deepEqual(layout.byName.get("wpe.weight")!.shape, [cfg.n_positions, C]);
    assert.deepEqual(layout.byName.get(`h.${L}.attn.c_attn.weight`)!.shape, [C, 3 * C]); // Conv1D: (in, out)
    assert.deepEqual(layout.byName.get(`h.${L}.mlp.c_fc.weight`)!.shape, [C, 4 * C]);
    assert.deepEqual(layout.byName.get(`h.${L}.mlp.c_proj.weight`)!.shape, [4 * C, C]);
    // wte is followed by room for Vp rows, so the LM head can read it as (Vp, C).
    assert.ok(layout.byName.get("wpe.weight")!.offset >= paddedVocab(cfg.vocab_size) * C);
  }
});

Deno.test("countParameters() gives 124,439,808 for gpt2 and 81,912,576 for distilgpt2", () => {
  assert.equal(countParameters(PRESETS.gpt2), 124_439_808);
  assert.equal(countParameters(PRESETS.distilgpt2), 81_912_576);
  for (const [name, cfg] of presets) {
    const sum = paramLayout(cfg).tensors.reduce((a, t) => a + t.size, 0);
    assert.equal(countParameters(cfg), sum, name);
  }
});

Deno.test("paramGroups() covers every tensor exactly once with its weight-decay setting", () => {
  const layout = paramLayout(PRESETS.gpt2);
  const groups = paramGroups(layout);
  assert.equal(groups.length, 98);
  for (let i = 1; i < groups.length; i++) {
    assert.notEqual(groups[i].decay, groups[i - 1].decay, "adjacent groups differ");
    assert.ok(groups[i].start >= groups[i - 1].start + groups[i - 1].count, "groups do not overlap");
  }
  for (const t of layout.tensors) {
    const inside = groups.filter((g) => t.offset >= g.start && t.offset + t.size <= g.start + g.count);
    assert.equal(inside.length, 1, t.name);
    assert.equal(inside[0].decay, t.decay, t.name);
  }
});

function stats(x: Float32Array): { mean: number; std: number } {
  let s = 0, s2 = 0;
  for (const v of x) {
    s += v;
    s2 += v * v;
  }
  const mean = s / x.length;
  return { mean, std: Math.sqrt(s2 / x.length - mean * mean) };
}

Deno.test("initParams() follows Hugging Face's GPT-2 initialisation statistics", () => {
  const cfg = PRESETS.tiny;
  const layout = paramLayout(cfg);
  const params = initParams(cfg, layout, 42);
  assert.equal(params.length, layout.total);
  const get = (name: string) => {
    const t = layout.byName.get(name)!;
    return params.subarray(t.offset, t.offset + t.size);
  };
  const projStd = 0.02 / Math.sqrt(2 * cfg.n_layer);
  for (
    const [name, std] of [
      ["wte.weight", 0.02],
      ["wpe.weight", 0.02],
      ["h.0.attn.c_attn.weight", 0.02],
      ["h.1.mlp.c_fc.weight", 0.02],
      ["h.0.attn.c_proj.weight", projStd],
      ["h.1.mlp.c_proj.weight", projStd],
    ] as const
  ) {
    const s = stats(get(name));
    const n = get(name).length;
    // Sample std of n normals: relative standard error 1/√(2n); allow 5 of them.
    assert.ok(Math.abs(s.std / std - 1) < 5 / Math.sqrt(2 * n), `${name} std ${s.std} vs ${std}`);
    assert.ok(Math.abs(s.mean) < 5 * std / Math.sqrt(n), `${name} mean ${s.mean}`);
  }
  for (const t of layout.tensors) {
    if (t.name.endsWith(".bias")) assert.ok(get(t.name).every((v) => v === 0), t.name);
    if (/ln_\w\.weight$/.test(t.name)) assert.ok(get(t.name).every((v) => v === 1), t.name);
  }
  // Padding (after wte and between tensors) stays zero.
  let covered = 0;
  for (const t of layout.tensors) covered += t.size;
  let nonzero = 0;
  for (const v of params) if (v !== 0) nonzero++;
  const zeros = layout.tensors.filter((t) => t.name.endsWith(".bias")).reduce((a, t) => a + t.size, 0);
  assert.equal(nonzero, covered - zeros);

  const again = initParams(cfg, layout, 42);
  assert.deepEqual(again.subarray(0, 1000), params.subarray(0, 1000), "same seed, same values");
  assert.notDeepEqual(initParams(cfg, layout, 43).subarray(0, 1000), params.subarray(0, 1000), "other seed");
});

Deno.test("validateConfig() accepts Hugging Face configs and rejects bad ones with one-line errors", () => {
  for (const [name, cfg] of presets) assert.deepEqual(validateConfig(cfg), cfg, name);
  const hf = {
    ...PRESETS.gpt2,
    activation_function: "gelu_pytorch_tanh",
    n_positions: undefined,
    n_ctx: 1024,
    architectures: ["GPT2LMHeadModel"],
  };
  assert.deepEqual(validateConfig(hf), PRESETS.gpt2, "gelu_pytorch_tanh and legacy n_ctx");
  const { layer_norm_epsilon: _e, activation_function: _a, model_type: _m, ...minimal } = PRESETS.small;
  assert.deepEqual(validateConfig(minimal), PRESETS.small, "HF defaults");

  const bad: [unknown, RegExp][] = [
    [null, /must be a JSON object, got null/],
    [{ ...PRESETS.gpt2, n_head: 5 }, /"n_embd" \(768\) must be divisible by "n_head" \(5\)/],
    [{ ...PRESETS.gpt2, n_embd: 24, n_head: 4 }, /head size .* 6 must be a multiple of 4/],
    [{ ...PRESETS.gpt2, n_layer: 0 }, /"n_layer" must be a positive integer, got 0/],
    [{ ...PRESETS.gpt2, vocab_size: 1.5 }, /"vocab_size" must be a positive integer, got 1.5/],
    [{ ...PRESETS.gpt2, n_embd: "768" }, /"n_embd" must be a positive integer, got "768"/],
    [{ ...PRESETS.gpt2, n_positions: undefined }, /missing "n_positions"/],
    [{ ...PRESETS.gpt2, activation_function: "relu" }, /"activation_function" must be "gelu_new" or/],
    [{ ...PRESETS.gpt2, model_type: "gpt_neo" }, /"model_type" must be "gpt2"/],
    [{ ...PRESETS.gpt2, layer_norm_epsilon: 0 }, /"layer_norm_epsilon" must be a positive number/],
    [{ ...PRESETS.gpt2, n_inner: 1000 }, /"n_inner" must be null or 4·n_embd/],
    [{ ...PRESETS.gpt2, scale_attn_by_inverse_layer_idx: true }, /is not supported/],
  ];
  for (const [c, pattern] of bad) {
    assert.throws(
      () => validateConfig(c),
      (e: Error) => pattern.test(e.message) && !e.message.includes("\n"),
    );
  }
});

Deno.test("paddedVocab() rounds up to a multiple of 64", () => {
  assert.equal(paddedVocab(50257), 50304);
  assert.equal(paddedVocab(64), 64);
  assert.equal(paddedVocab(65), 128);
});
