/**
 * `deno task export`: write ONNX graphs into a Hugging Face model directory so that it loads in
 * transformers.js and onnxruntime-node (onnx/model.onnx), and optionally as a distillation teacher with
 * hidden states (onnx/hidden.onnx).
 *
 * Permissions: --allow-read --allow-write (into the model directory). No network, FFI or environment.
 */
import { type CommandSpec, parseCommand } from "../lib/cli/args.ts";
import { emitJson } from "../lib/cli/json.ts";
import { runMain } from "../lib/cli/main.ts";
import { exportOnnx } from "../lib/onnx/export.ts";
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET } from "../lib/onnx/gpt2_graph.ts";

export const exportSpec = {
  name: "export",
  summary:
    "Export a model directory to ONNX in place (DIR/onnx/model.onnx with KV cache; transformers.js-ready).",
  usage: "deno task export --model DIR [--hidden] [--opset N] [flags]",
  flags: {
    model: {
      type: "string",
      description: "model directory (config.json + model.safetensors)",
      placeholder: "DIR",
    },
    hidden: {
      type: "boolean",
      description: "also write DIR/onnx/hidden.onnx (logits + hidden_states.0..L, for distillation teachers)",
    },
    opset: {
      type: "int",
      description: `ONNX opset (${MIN_OPSET}–${MAX_OPSET}; 17+ uses LayerNormalization, 20+ Gelu)`,
      default: DEFAULT_OPSET,
      min: MIN_OPSET,
      max: MAX_OPSET,
    },
    "external-data": {
      type: "string",
      description: "weights in DIR/onnx/model.onnx_data: auto (above 1.8 GiB), always or never",
      default: "auto",
      choices: ["auto", "always", "never"],
    },
    json: { type: "boolean", description: "print the result as JSON" },
  },
  examples: [
    "deno task export --model runs/train/model",
    "deno task export --model runs/small/model --hidden --opset 20",
  ],
} satisfies CommandSpec;

/** Runs the command with `argv` (default: the process arguments). */
export async function main(argv: readonly string[] = Deno.args): Promise<void> {
  const { values: f } = parseCommand(exportSpec, argv);
  if (!f.model) throw new Error("--model DIR is required (see --help)");
  const t0 = performance.now();
  const externalData = f.externalData === "auto" ? "auto" : f.externalData === "always";
  const r = await exportOnnx(f.model, { hidden: f.hidden, opset: f.opset, externalData });
  const seconds = (performance.now() - t0) / 1000;
  if (f.json) {
    emitJson({ ...r, seconds });
    return;
  }
  console.log(
    `wrote ${r.modelPath}${r.hiddenPath ? ` and ${r.hiddenPath}` : ""}` +
      `${r.dataPath ? ` (weights in ${r.dataPath})` : ""}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB, ` +
      `opset ${r.opset}, ${seconds.toFixed(1)} s`,
  );
  if (r.tokenizer === "written") console.log("added GPT-2 tokenizer files");
  if (r.tokenizer === "none") {
    console.log(
      "note: no tokenizer.json in the folder and the vocabulary is not GPT-2's: add one for transformers.js",
    );
  }
  for (const path of r.removed) console.log(`removed stale ${path}`);
}

/** How a denied permission is explained (this task's sandbox is in deno.json). */
export const exportPermissionHints = {
  write:
    "export writes into the model folder and may only write under runs/ and .cache/: keep model folders there (e.g. runs/gpt2)",
};

if (import.meta.main) await runMain(() => main(), { permissionHints: exportPermissionHints });
