/**
 * `deno task compile`: one executable with every command (tasks/main.ts), built by `deno compile` with the
 * same sandbox as the tasks (read; write under runs/ and .cache/; ffi for onnxruntime-node; no network).
 *
 * `deno compile` takes its runtime (denort) from the internet unless DENORT_BIN names a local copy. Where
 * neither is possible the command stops with one line saying so and exit code 1; the code stays
 * compile-ready (static imports only, WGSL embedded through text imports; tests/compile/ checks it).
 */
import { type CommandSpec, parseCommand } from "../lib/cli/args.ts";
import { emitJson } from "../lib/cli/json.ts";
import { runMain } from "../lib/cli/main.ts";

export const compileSpec = {
  name: "compile",
  summary: "Build one executable that runs every command (gpt2 <command> [flags]) with deno compile.",
  usage: "deno task compile [--output FILE] [--target TRIPLE] [--no-check] [--json]",
  flags: {
    output: {
      type: "string",
      description: "the executable to write",
      default: "dist/gpt2",
      placeholder: "FILE",
    },
    target: {
      type: "string",
      description: "target triple for deno compile (default: this machine's)",
      placeholder: "TRIPLE",
    },
    "no-check": { type: "boolean", description: "skip type checking (deno task check does it)" },
    json: { type: "boolean", description: 'print {"output", "bytes", "seconds"} as JSON' },
  },
  examples: [
    "deno task compile",
    "deno task compile --output dist/gpt2-linux --target x86_64-unknown-linux-gnu",
    "DENORT_BIN=/path/to/denort deno task compile   # offline, with a local runtime",
  ],
} satisfies CommandSpec;

/** Modules loaded at run time that `deno compile` cannot see from the static graph (Web Workers). */
export const COMPILE_INCLUDES = ["lib/onnx/teacher_worker.ts"];

/** The permissions baked into the executable: those of the tasks, together. */
export const COMPILE_PERMISSIONS = [
  "--allow-read",
  "--allow-write=./runs,./.cache",
  "--allow-env=GPT2_DEBUG",
  "--allow-ffi",
];

/** The `deno compile` arguments for an output file and optional target. */
export function compileArgs(output: string, target?: string, noCheck = false): string[] {
  return [
    "compile",
    ...(noCheck ? ["--no-check"] : []),
    ...COMPILE_PERMISSIONS,
    ...COMPILE_INCLUDES.flatMap((f) => ["--include", f]),
    ...(target ? ["--target", target] : []),
    "--output",
    output,
    "tasks/main.ts",
  ];
}

/**
 * The one-line reason a failed `deno compile` gives, from its stderr: the runtime download, or the first
 * error line.
 */
export function compileFailure(stderr: string): string {
  // deno's error output is coloured and spread over several "Caused by" lines.
  // deno-lint-ignore no-control-regex
  const text = stderr.replace(/\x1b\[[0-9;]*m/g, "");
  const missing = /Could not find denort at '([^']*)'/.exec(text);
  if (missing) {
    return `deno compile failed: DENORT_BIN=${missing[1]} does not exist (unset it to download denort)`;
  }
  if (/dl\.deno\.land|error sending request|dns error|failed to lookup address/i.test(text)) {
    return "deno compile must download its runtime (denort) and this machine cannot reach the internet; " +
      "set DENORT_BIN to a local denort binary of the same Deno version, or compile elsewhere (the code is " +
      "compile-ready: `deno check tasks/main.ts` passes)";
  }
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const first = lines.find((l) => /^error\b/i.test(l)) ?? lines[0] ?? "no output";
  return `deno compile failed: ${first.replace(/^error:\s*/i, "")}`;
}

/** Builds the executable; see the module doc. */
export async function main(argv: readonly string[] = Deno.args): Promise<void> {
  const { values: f } = parseCommand(compileSpec, argv);
  const t0 = performance.now();
  const out = await new Deno.Command("deno", {
    args: compileArgs(f.output, f.target, f.noCheck),
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) throw new Error(compileFailure(new TextDecoder().decode(out.stderr)));
  const bytes = (await Deno.stat(f.output)).size;
  const seconds = (performance.now() - t0) / 1000;
  if (f.json) emitJson({ output: f.output, bytes, seconds });
  else console.log(`wrote ${f.output} (${(bytes / 2 ** 20).toFixed(0)} MiB) in ${seconds.toFixed(0)} s`);
}

/** How a denied permission is explained (this task's sandbox is in deno.json). */
export const compilePermissionHints = {
  run: "compile runs `deno compile` and needs `deno` on PATH; run it through `deno task compile`",
  write: "compile writes only under dist/; pick --output inside it",
};

if (import.meta.main) await runMain(() => main(), { permissionHints: compilePermissionHints });
