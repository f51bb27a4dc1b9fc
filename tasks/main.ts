/**
 * One entry point for every command: `deno task gpt2 <command> [flags]` (and the single binary built by
 * `deno task compile`, `gpt2 <command> [flags]`). Each command is the same function its own task runs, with
 * the same flags, help and one-line errors.
 *
 * Everything is imported statically (WGSL through text imports), so `deno compile` embeds all code.
 */
import { type CommandSpec, editDistance, UsageError } from "../lib/cli/args.ts";
import { runMain } from "../lib/cli/main.ts";
import * as bench from "./bench.ts";
import * as compare from "./compare.ts";
import * as condense from "./condense.ts";
import * as condenseCompare from "./condense_compare.ts";
import * as demo from "./demo.ts";
import * as distill from "./distill.ts";
import * as evaluate from "./eval.ts";
import * as exportTask from "./export.ts";
import * as generate from "./generate.ts";
import * as train from "./train.ts";

/** A command of the single entry point. */
export interface Command {
  spec: CommandSpec;
  main: (argv: readonly string[]) => Promise<void>;
  permissionHints: Partial<Record<string, string>>;
}

/** Every command, in the order `--help` lists them. */
export const COMMANDS: Record<string, Command> = {
  demo: { spec: demo.demoSpec, main: demo.main, permissionHints: demo.demoPermissionHints },
  train: { spec: train.trainTaskSpec, main: train.main, permissionHints: train.trainPermissionHints },
  eval: { spec: evaluate.evalSpec, main: evaluate.main, permissionHints: evaluate.evalPermissionHints },
  generate: {
    spec: generate.generateSpec,
    main: generate.main,
    permissionHints: generate.generatePermissionHints,
  },
  export: {
    spec: exportTask.exportSpec,
    main: exportTask.main,
    permissionHints: exportTask.exportPermissionHints,
  },
  distill: { spec: distill.distillSpec, main: distill.main, permissionHints: distill.distillPermissionHints },
  condense: {
    spec: condense.condenseSpec,
    main: condense.main,
    permissionHints: condense.condensePermissionHints,
  },
  "condense-compare": {
    spec: condenseCompare.condenseCompareSpec,
    main: condenseCompare.main,
    permissionHints: condenseCompare.condenseComparePermissionHints,
  },
  compare: { spec: compare.compareSpec, main: compare.main, permissionHints: compare.comparePermissionHints },
  bench: { spec: bench.benchSpec, main: bench.main, permissionHints: bench.benchPermissionHints },
};

/** The top-level help: usage, the commands with their summaries' first sentence, examples. */
export function mainHelp(program = "deno task gpt2"): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = [
    `Usage: ${program} <command> [flags]`,
    "",
    "GPT-2 training, distillation, condensation and evaluation on WebGPU. Commands:",
    "",
    ...Object.entries(COMMANDS).map(([name, c]) =>
      `  ${name.padEnd(width)}  ${c.spec.summary.split(/(?<=\.)\s/)[0]}`
    ),
    "",
    `Run '${program} <command> --help' for a command's flags and examples.`,
    "",
    "Examples:",
    `  ${program} demo`,
    `  ${program} train --config tiny --steps 50 --out runs/tiny`,
    `  ${program} generate --model runs/tiny/model --prompt "The river"`,
  ];
  return lines.join("\n");
}

/** Picks the command named by argv[0] and runs it with the rest of argv. */
export async function dispatch(argv: readonly string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(mainHelp());
    return;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    const names = Object.keys(COMMANDS);
    const close = names.find((n) => editDistance(name, n) <= 2);
    throw new UsageError(
      `unknown command '${name}'${close ? ` (did you mean '${close}'?)` : ""}; commands: ${names.join(", ")}`,
    );
  }
  await command.main(rest);
}

if (import.meta.main) {
  const command = Object.hasOwn(COMMANDS, Deno.args[0] ?? "") ? COMMANDS[Deno.args[0]] : undefined;
  await runMain(() => dispatch(Deno.args), { permissionHints: command?.permissionHints });
}
