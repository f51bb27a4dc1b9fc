import assert from "node:assert/strict";
import { type CommandSpec, parseFlags, UsageError } from "../../lib/cli/args.ts";
import { formatConfig, loadConfigFile, mergeConfig, parseConfigText } from "../../lib/cli/config.ts";

const preset = {
  batchSize: 4,
  seqLen: 64,
  lr: 3e-4,
  dataset: "tinyshakespeare",
  shuffle: true,
  resume: null,
};

const spec = {
  name: "train",
  summary: "Train.",
  usage: "deno task train [flags]",
  flags: {
    config: { type: "string", description: "JSON config file", placeholder: "FILE" },
    "batch-size": { type: "int", description: "batch size B", default: 8, min: 1 },
    "seq-len": { type: "int", description: "sequence length T", min: 1, max: 1024 },
    lr: { type: "float", description: "learning rate", min: 0, exclusiveMin: true },
    dataset: { type: "string", description: "dataset", choices: ["tinyshakespeare", "tinystories"] },
  },
  examples: [],
} satisfies CommandSpec;

function file(values: Record<string, unknown>, path = "cfg.json") {
  return parseConfigText(JSON.stringify(values), path);
}

function usageError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${err}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes("\n"), "one line");
    return true;
  });
}

Deno.test("mergeConfig() layers preset, then file, then only the flags given explicitly", () => {
  const { values, given } = parseFlags(spec, ["--lr", "1e-3", "--config", "cfg.json"]);
  const cfg = mergeConfig(
    preset,
    file({ lr: 5e-4, seqLen: 128, dataset: "tinystories" }),
    values,
    given,
    spec,
  );
  // lr: flag beats file; seqLen: file beats preset; batchSize: the flag's default (8) does NOT beat the preset;
  // config is a flag but not a config key, so it is not merged.
  assert.deepEqual(cfg, { ...preset, lr: 1e-3, seqLen: 128, dataset: "tinystories" });
  assert.equal(preset.lr, 3e-4, "preset untouched");
  const noFile = mergeConfig(
    preset,
    undefined,
    parseFlags(spec, ["--batch-size", "2"]).values,
    new Set(["batchSize"]),
  );
  assert.deepEqual(noFile, { ...preset, batchSize: 2 });
});

Deno.test("mergeConfig() accepts flag spellings of keys and ignores // comments", () => {
  const cfg = mergeConfig(preset, file({ "batch-size": 16, seq_len: 32, "//": "a note" }), {}, new Set());
  assert.equal(cfg.batchSize, 16);
  assert.equal(cfg.seqLen, 32);
});

Deno.test("mergeConfig() rejects an unknown key in the file, naming the key and file", () => {
  usageError(
    () => mergeConfig(preset, file({ lr: 1e-3, lrr: 2 }, "runs/x.json"), {}, new Set()),
    /^unknown key 'lrr' in runs\/x\.json \(did you mean 'lr'\?\)$/,
  );
  usageError(
    () => mergeConfig(preset, file({ colour: "red" }), {}, new Set()),
    /^unknown key 'colour' in cfg\.json$/,
  );
});

Deno.test("mergeConfig() type-checks file values against the preset and the flag specs", () => {
  usageError(
    () => mergeConfig(preset, file({ batchSize: "4" }), {}, new Set()),
    /^'batchSize' in cfg\.json must be a number like the preset's 4, got "4"$/,
  );
  usageError(
    () => mergeConfig(preset, file({ shuffle: 1 }), {}, new Set()),
    /'shuffle' in cfg\.json must be a boolean/,
  );
  usageError(
    () => mergeConfig(preset, file({ resume: [1] }), {}, new Set()),
    /^'resume' in cfg\.json must be a string, number, boolean or null, got \[1\]$/,
  );
  assert.equal(mergeConfig(preset, file({ resume: "ckpt.bin" }), {}, new Set()).resume, "ckpt.bin");
  // Rules from the flag specs: integer, range, choices.
  usageError(
    () => mergeConfig(preset, file({ seqLen: 2.5 }), {}, new Set(), spec),
    /^'seqLen' in cfg\.json expects an integer, got 2\.5$/,
  );
  usageError(
    () => mergeConfig(preset, file({ seqLen: 4096 }), {}, new Set(), spec),
    /^'seqLen' in cfg\.json must be <= 1024, got 4096$/,
  );
  usageError(
    () => mergeConfig(preset, file({ lr: 0 }), {}, new Set(), spec),
    /'lr' in cfg\.json must be > 0, got 0/,
  );
  usageError(
    () => mergeConfig(preset, file({ dataset: "wiki" }), {}, new Set(), spec),
    /'dataset' in cfg\.json must be one of tinyshakespeare, tinystories; got 'wiki'/,
  );
});

Deno.test("parseConfigText() rejects invalid JSON and non-objects with the file name", () => {
  usageError(() => parseConfigText("{lr: 1}", "bad.json"), /^config file bad\.json is not valid JSON: /);
  usageError(
    () => parseConfigText("[1, 2]", "list.json"),
    /^config file list\.json must contain a JSON object/,
  );
});

Deno.test("loadConfigFile() reads a JSON file from disk", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, '{ "lr": 0.001 }');
    assert.deepEqual(await loadConfigFile(path), { path, values: { lr: 0.001 } });
  } finally {
    await Deno.remove(path);
  }
  await assert.rejects(() => loadConfigFile(path), Deno.errors.NotFound);
});

Deno.test("formatConfig() prints one aligned key/value line per key", () => {
  assert.equal(
    formatConfig({ lr: 0.001, batchSize: 4, dataset: "tiny", resume: null, out: undefined }),
    'config:\n  lr         0.001\n  batchSize  4\n  dataset    "tiny"\n  resume     null\n  out        (unset)',
  );
});
