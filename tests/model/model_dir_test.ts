import assert from "node:assert/strict";
import { writeFileAtomic } from "../../lib/io/atomic.ts";
import { type GPT2Config, PRESETS } from "../../lib/model/config.ts";
import { loadModelDir, saveModelDir } from "../../lib/model/model_dir.ts";
import { initParams, type ParamLayout, paramLayout } from "../../lib/model/params.ts";
import { safetensorsMetadata } from "../../lib/model/safetensors.ts";
import { Rng } from "../../lib/rng.ts";
import { f32Bytes, rawSafetensors, type RawTensor, toBf16Exact, toHalfExact, u16Bytes } from "./_helpers.ts";

/** A model small enough to write by hand: V=100, 16 positions, C=16, L=2, NH=2. */
const MICRO: GPT2Config = {
  ...PRESETS.tiny,
  vocab_size: 100,
  n_positions: 16,
  n_embd: 16,
  n_layer: 2,
  n_head: 2,
};

/** Parameters that F16 and BF16 represent exactly (multiples of 1/64 in [-2, 2]), padding zero. */
function exactParams(layout: ParamLayout, seed: number): Float32Array {
  const rng = new Rng(seed);
  const params = new Float32Array(layout.total);
  for (const t of layout.tensors) {
    for (let i = 0; i < t.size; i++) params[t.offset + i] = (rng.int(257) - 128) / 64;
  }
  return params;
}

/** The HF-style tensor list of a model, each encoded by `encode` under `prefix`. */
function rawTensors(
  layout: ParamLayout,
  params: Float32Array,
  dtype: "F32" | "F16" | "BF16",
  prefix = "",
): RawTensor[] {
  return layout.tensors.map((t) => {
    const data = params.subarray(t.offset, t.offset + t.size);
    const bytes = dtype === "F32"
      ? f32Bytes(data)
      : u16Bytes(Array.from(data, dtype === "F16" ? toHalfExact : toBf16Exact));
    return { name: prefix + t.name, dtype, shape: t.shape, bytes };
  });
}

async function writeDir(config: unknown, st: Uint8Array | null): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "model_dir_test_" });
  if (config !== null) await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
  if (st) await Deno.writeFile(`${dir}/model.safetensors`, st);
  return dir;
}

async function assertLoadFails(dir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadModelDir(dir), (e: Error) => {
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

Deno.test("saveModelDir() then loadModelDir() gives identical params and identical bytes on re-save", async () => {
  const cfg = PRESETS.tiny;
  const layout = paramLayout(cfg);
  const params = initParams(cfg, layout, 7);
  const root = await Deno.makeTempDir({ prefix: "model_dir_test_" });
  await saveModelDir(`${root}/a/b`, cfg, layout, params, { bos_token_id: 1, custom: "kept" });
  const loaded = await loadModelDir(`${root}/a/b`);
  assert.deepEqual(loaded.config, cfg);
  assert.equal(loaded.layout.total, layout.total);
  assert.deepEqual(loaded.params, params);
  assert.equal(loaded.extraConfig.custom, "kept");
  assert.equal(loaded.extraConfig.bos_token_id, 1, "extraConfig overrides defaults");
  assert.deepEqual(loaded.extraConfig.architectures, ["GPT2LMHeadModel"]);

  await saveModelDir(`${root}/c`, loaded.config, loaded.layout, loaded.params, loaded.extraConfig);
  for (const file of ["config.json", "model.safetensors"]) {
    assert.deepEqual(
      await Deno.readFile(`${root}/c/${file}`),
      await Deno.readFile(`${root}/a/b/${file}`),
      file,
    );
  }
  const entries = [...Deno.readDirSync(`${root}/c`)].map((e) => e.name).sort();
  assert.deepEqual(entries, ["config.json", "model.safetensors"], "no temporary files left");
  await Deno.remove(root, { recursive: true });
});

Deno.test("saveModelDir() writes Hugging Face's config keys and an unprefixed F32 safetensors", async () => {
  const layout = paramLayout(MICRO);
  const dir = await Deno.makeTempDir({ prefix: "model_dir_test_" });
  await saveModelDir(dir, MICRO, layout, exactParams(layout, 1));
  const json = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  for (
    const [k, v] of Object.entries({
      architectures: ["GPT2LMHeadModel"],
      model_type: "gpt2",
      n_ctx: 16,
      n_positions: 16,
      n_embd: 16,
      n_layer: 2,
      n_head: 2,
      vocab_size: 100,
      activation_function: "gelu_new",
      layer_norm_epsilon: 1e-5,
      bos_token_id: 50256,
      eos_token_id: 50256,
      attn_pdrop: 0,
      embd_pdrop: 0,
      resid_pdrop: 0,
    })
  ) assert.deepEqual(json[k], v, k);
  assert.deepEqual(Object.keys(json), Object.keys(json).sort(), "sorted keys");
  const bytes = await Deno.readFile(`${dir}/model.safetensors`);
  assert.deepEqual(safetensorsMetadata(bytes, "model.safetensors"), { format: "pt" });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const names = Object.keys(header).filter((n) => n !== "__metadata__");
  assert.deepEqual(names, layout.tensors.map((t) => t.name));
  assert.ok(names.every((n) => header[n].dtype === "F32"));
  assert.deepEqual(header["h.1.attn.c_attn.weight"].shape, [16, 48]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadModelDir() accepts the transformer. prefix, a tied lm_head, mask buffers, F16 and BF16", async () => {
  const layout = paramLayout(MICRO);
  const params = exactParams(layout, 2);
  const wte = layout.byName.get("wte.weight")!;
  const extras: RawTensor[] = [
    { name: "transformer.h.0.attn.bias", dtype: "BOOL", shape: [1, 1, 16, 16], bytes: new Uint8Array(256) },
    {
      name: "transformer.h.1.attn.masked_bias",
      dtype: "F32",
      shape: [],
      bytes: f32Bytes(new Float32Array([-1e4])),
    },
  ];
  for (const dtype of ["F32", "F16", "BF16"] as const) {
    const tensors = rawTensors(layout, params, dtype, "transformer.");
    const head = tensors.find((t) => t.name === "transformer.wte.weight")!;
    tensors.push({ ...head, name: "lm_head.weight" }, ...extras);
    const dir = await writeDir({ ...MICRO, n_ctx: 16, custom_key: 3 }, rawSafetensors(tensors));
    const loaded = await loadModelDir(dir);
    assert.deepEqual(loaded.params, params, dtype);
    assert.deepEqual(loaded.extraConfig, { custom_key: 3 });
    assert.equal(loaded.params[wte.offset + wte.size], 0, "wte padding stays zero");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadModelDir() reports a shape that disagrees with config.json, naming file and tensor", async () => {
  const layout = paramLayout(MICRO);
  const st = rawSafetensors(rawTensors(layout, exactParams(layout, 3), "F32"));
  const dir = await writeDir({ ...MICRO, n_positions: 32 }, st);
  await assertLoadFails(
    dir,
    new RegExp(
      `^${dir}/model.safetensors: tensor "wpe.weight" has shape \\[16,16\\] but config.json implies \\[32,16\\]$`,
    ),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadModelDir() rejects missing, corrupt and mismatched inputs with one-line errors", async () => {
  const layout = paramLayout(MICRO);
  const params = exactParams(layout, 4);
  const good = rawTensors(layout, params, "F32");
  const st = (tensors: RawTensor[]) => rawSafetensors(tensors);
  const cases: [string, unknown, Uint8Array | null, RegExp][] = [
    ["no config", null, st(good), /config\.json: config\.json not found/],
    ["no weights", MICRO, null, /model\.safetensors: model\.safetensors not found/],
    ["bad JSON", "{", st(good), /config\.json: (invalid JSON|GPT-2 config must be a JSON object)/],
    [
      "bad config",
      { ...MICRO, n_head: 3 },
      st(good),
      /config\.json: GPT-2 config "n_embd" \(16\) must be divisible/,
    ],
    ["truncated", MICRO, st(good).subarray(0, 100), /model\.safetensors: .*truncated/],
    [
      "missing tensor",
      MICRO,
      st(good.filter((t) => t.name !== "h.1.ln_2.bias")),
      /model\.safetensors: missing tensor "h\.1\.ln_2\.bias"/,
    ],
    [
      "unknown dtype",
      MICRO,
      st(good.map((t) => t.name === "ln_f.bias" ? { ...t, dtype: "I32" } : t)),
      /model\.safetensors: tensor "ln_f\.bias": dtype I32 is not supported/,
    ],
    [
      "untied head",
      MICRO,
      st([...good, { ...good[0], name: "lm_head.weight", bytes: f32Bytes(new Float32Array(1600)) }]),
      /tensor "lm_head\.weight" differs from wte\.weight/,
    ],
    [
      "unexpected tensor",
      MICRO,
      st([...good, {
        name: "h.0.crossattention.q_attn.weight",
        dtype: "F32",
        shape: [1],
        bytes: new Uint8Array(4),
      }]),
      /unexpected tensor "h\.0\.crossattention\.q_attn\.weight"/,
    ],
    [
      "duplicate",
      MICRO,
      st([...good, { ...good[3], name: `transformer.${good[3].name}` }]),
      /tensor "h\.0\.ln_1\.bias" appears with and without "transformer\."/,
    ],
  ];
  for (const [label, config, bytes, pattern] of cases) {
    const dir = await writeDir(config, bytes);
    if (label === "bad JSON") await Deno.writeTextFile(`${dir}/config.json`, "{");
    await assertLoadFails(dir, pattern);
    await Deno.remove(dir, { recursive: true });
  }
  await assertLoadFails(
    "/tmp/model_dir_test_does_not_exist",
    /^model directory \/tmp\/model_dir_test_does_not_exist does not exist$/,
  );
});

Deno.test("writeFileAtomic() replaces a file whole and leaves nothing behind on failure", async () => {
  const dir = await Deno.makeTempDir({ prefix: "atomic_test_" });
  const path = `${dir}/f.txt`;
  await writeFileAtomic(path, "old contents");
  await writeFileAtomic(path, "new");
  assert.equal(await Deno.readTextFile(path), "new");
  await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  assert.deepEqual(await Deno.readFile(path), new Uint8Array([1, 2, 3]));
  // A missing parent folder is created; a parent that is a file cannot be.
  await writeFileAtomic(`${dir}/sub/deeper/g.txt`, "x");
  assert.equal(await Deno.readTextFile(`${dir}/sub/deeper/g.txt`), "x");
  await Deno.remove(`${dir}/sub`, { recursive: true });
  await assert.rejects(writeFileAtomic(`${dir}/f.txt/g.txt`, "x"));
  // Renaming onto a directory fails after the temporary file was written: it must be removed.
  await Deno.mkdir(`${dir}/taken`);
  await Deno.writeTextFile(`${dir}/taken/inside`, "x");
  await assert.rejects(writeFileAtomic(`${dir}/taken`, "x"));
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["f.txt", "taken"]);
  await Deno.remove(dir, { recursive: true });
});
