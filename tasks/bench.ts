/**
 * `deno task bench`: training tokens/s, forward tokens/s and matmul GFLOP/s for the presets.
 */
import { type CommandSpec, parseCommand } from "../lib/cli/args.ts";
import { emitJson } from "../lib/cli/json.ts";
import { runMain } from "../lib/cli/main.ts";
import { benchConfig } from "../lib/bench/training.ts";
import { Gpu } from "../lib/gpu/runtime.ts";
import { PRESETS } from "../lib/model/config.ts";

/** The configurations benchmarked by default: the reference trainer's two CPU-sized setups. */
const CONFIGS: Record<string, { preset: keyof typeof PRESETS; B: number; T: number }> = {
  tiny: { preset: "tiny", B: 8, T: 64 },
  small: { preset: "small", B: 8, T: 128 },
  distilgpt2: { preset: "distilgpt2", B: 4, T: 128 },
  gpt2: { preset: "gpt2", B: 4, T: 128 },
};

export const benchSpec = {
  name: "bench",
  summary:
    "Measure training tokens/s, forward tokens/s and output-projection matmul GFLOP/s on this WebGPU adapter.",
  usage: "deno task bench [--configs tiny,small,gpt2] [--iters N] [--json]",
  flags: {
    configs: {
      type: "string",
      description: `comma-separated from ${Object.keys(CONFIGS).join(", ")}`,
      default: "tiny,small",
      placeholder: "LIST",
    },
    iters: { type: "int", description: "timed iterations per measurement", default: 3, min: 1 },
    warmup: { type: "int", description: "untimed iterations first", default: 1, min: 0 },
    json: { type: "boolean", description: "one JSON object per configuration on stdout" },
  },
  examples: ["deno task bench", "deno task bench --configs gpt2 --iters 5 --json"],
} satisfies CommandSpec;

/** Runs the command with `argv` (default: the process arguments). */
export async function main(argv: readonly string[] = Deno.args): Promise<void> {
  const { values: f } = parseCommand(benchSpec, argv);
  const names = f.configs.split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(n in CONFIGS)) {
      throw new Error(`unknown configuration "${n}" (choose from ${Object.keys(CONFIGS).join(", ")})`);
    }
  }
  const gpu = await Gpu.create();
  if (!f.json) console.log(`adapter: ${gpu.adapterName}`);
  for (const n of names) {
    const { preset, B, T } = CONFIGS[n];
    const r = await benchConfig(gpu, PRESETS[preset], B, T, { warmup: f.warmup, iters: f.iters });
    if (f.json) emitJson({ name: n, ...r });
    else {
      const c = r.config;
      console.log(
        `${n} (L${c.n_layer} C${c.n_embd} H${c.n_head}, B${c.batch} T${c.seq}): ` +
          `train ${r.train_tokens_per_s.toFixed(0)} tok/s (${r.train_step_ms.toFixed(0)} ms/step), ` +
          `forward ${r.forward_tokens_per_s.toFixed(0)} tok/s, output matmul ${
            r.matmul_gflops.toFixed(1)
          } GFLOP/s`,
      );
    }
  }
}

/** How a denied permission is explained (this task's sandbox is in deno.json). */
export const benchPermissionHints = {
  write: "bench writes nothing; it only reads and measures",
};

if (import.meta.main) await runMain(() => main(), { permissionHints: benchPermissionHints });
