/**
 * Typed command-line flags for every `deno task`: a declarative spec per command, strict parsing on top of
 * `node:util` parseArgs (unknown flags, bad numbers, out-of-range values and invalid choices are one-line
 * {@link UsageError}s), and a generated `--help` text.
 *
 * Flags are declared in kebab-case (`"batch-size"`) and come back in camelCase (`values.batchSize`), so the
 * values can be merged straight into a config object (see config.ts).
 *
 * @example
 * ```ts
 * const spec = {
 *   name: "train",
 *   summary: "Train GPT-2 on a tokenized dataset.",
 *   usage: "deno task train [flags]",
 *   flags: {
 *     steps: { type: "int", description: "optimizer steps", default: 100, min: 1 },
 *     lr: { type: "float", description: "learning rate", default: 3e-4, min: 0, exclusiveMin: true },
 *     "no-shuffle": { type: "boolean", description: "read batches in file order" },
 *   },
 *   examples: ["deno task train --steps 10 --lr 1e-3"],
 * } satisfies CommandSpec;
 * const { values } = parseCommand(spec); // values.steps: number, values.noShuffle: boolean
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";

/** One flag: its type, the help description, an optional default and the values it accepts. */
export type FlagSpec =
  | {
    type: "string";
    description: string;
    default?: string;
    /** The only accepted values; shown in --help. */
    choices?: readonly string[];
    /** Name of the value in --help, e.g. "FILE" (default "VALUE", or the choices joined by "|"). */
    placeholder?: string;
  }
  | {
    type: "int";
    description: string;
    default?: number;
    min?: number;
    max?: number;
    placeholder?: string;
  }
  | {
    type: "float";
    description: string;
    default?: number;
    min?: number;
    max?: number;
    /** When true the value must be strictly greater than `min` (e.g. a learning rate > 0). */
    exclusiveMin?: boolean;
    placeholder?: string;
  }
  | { type: "boolean"; description: string; default?: boolean };

/** Positional arguments a command accepts (rejected when a spec has none). */
export interface PositionalSpec {
  /** Name in --help, e.g. "FILE...". */
  name: string;
  /** What the arguments are, shown in --help. */
  description: string;
  /** Fewest positionals accepted (default 0). */
  min?: number;
  /** Most positionals accepted (default unlimited). */
  max?: number;
}

/** Everything `parseFlags` and `helpText` need to know about one command. */
export interface CommandSpec {
  /** Command name used in messages, e.g. "train". */
  name: string;
  /** One or two sentences shown under the usage line. */
  summary: string;
  /** The usage line, e.g. "deno task train [flags]". */
  usage: string;
  /** Flags by kebab-case name (without the leading "--"). "help" is reserved. */
  flags: Record<string, FlagSpec>;
  /** Complete example command lines, shown at the end of --help. */
  examples: readonly string[];
  /** Accepted positional arguments; without this any positional argument is a UsageError. */
  positionals?: PositionalSpec;
}

/** A mistake in the command line. Its message is one line; `runMain` prints it and exits with code 2. */
export class UsageError extends Error {
  /** A usage error with a one-line message, e.g. "--steps expects an integer, got 'abc'". */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** kebab-case → camelCase at the type level: "batch-size" → "batchSize". */
export type CamelCase<S extends string> = S extends `${infer Head}-${infer Rest}`
  ? `${Head}${Capitalize<CamelCase<Rest>>}`
  : S;

/** The value type a flag spec parses to, before defaults are considered. */
export type FlagValueType<F> = F extends { type: "string"; choices: readonly (infer C extends string)[] } ? C
  : F extends { type: "string" } ? string
  : F extends { type: "int" | "float" } ? number
  : F extends { type: "boolean" } ? boolean
  : never;

/** The parsed value of one flag: booleans are always set; other flags are `undefined` without a default. */
export type FlagValue<F> = F extends { type: "boolean" } ? boolean
  : F extends { default: unknown } ? FlagValueType<F>
  : FlagValueType<F> | undefined;

/** Parsed values keyed by camelCase flag name, typed from the spec (declare specs with `satisfies CommandSpec`). */
export type FlagValues<Flags extends Record<string, FlagSpec>> = {
  [K in keyof Flags & string as CamelCase<K>]: FlagValue<Flags[K]>;
};

/** What `parseFlags` returns. */
export interface ParsedFlags<S extends CommandSpec> {
  /** True when --help or -h was given; `values` then holds only the defaults. */
  help: boolean;
  /** Every flag's value (camelCase keys): given, else its default, else false for booleans / undefined. */
  values: FlagValues<S["flags"]>;
  /** camelCase names of the flags given explicitly on the command line (config.ts layers only these). */
  given: Set<string>;
  /** Positional arguments, in order (always empty unless `spec.positionals`). */
  positionals: string[];
}

/** "batch-size" → "batchSize". */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const FLAG_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Decimal or scientific notation; Number() alone would also accept "", "0x10" and "Infinity". */
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/** Throws a plain Error (a bug in the task, not the user's fault) when a spec is inconsistent. */
function checkSpec(spec: CommandSpec): void {
  for (const [name, flag] of Object.entries(spec.flags)) {
    if (!FLAG_NAME.test(name)) throw new Error(`${spec.name}: flag name '${name}' is not kebab-case`);
    if (name === "help") throw new Error(`${spec.name}: flag name 'help' is reserved`);
    if (flag.default !== undefined) {
      checkFlagValue(name, flag, flag.default, `${spec.name}: default of --${name}`);
    }
  }
}

/**
 * Checks an already-typed value against a flag's spec (type, integer, range, choices) and returns it.
 * Used for command-line values and, by config.ts, for values from config files.
 *
 * @param name kebab-case flag name, used in messages ("--lr must be > 0, got -1")
 * @param what how to name the value in messages (default "--<name>")
 * @throws UsageError with a one-line message
 */
export function checkFlagValue(name: string, flag: FlagSpec, value: unknown, what = `--${name}`): unknown {
  switch (flag.type) {
    case "boolean":
      if (typeof value !== "boolean") {
        throw new UsageError(`${what} expects true or false, got ${show(value)}`);
      }
      return value;
    case "string":
      if (typeof value !== "string") throw new UsageError(`${what} expects a string, got ${show(value)}`);
      if (flag.choices && !flag.choices.includes(value)) {
        throw new UsageError(`${what} must be one of ${flag.choices.join(", ")}; got '${value}'`);
      }
      return value;
    case "int":
    case "float": {
      const kind = flag.type === "int" ? "an integer" : "a number";
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw new UsageError(`${what} expects ${kind}, got ${show(value)}`);
      }
      if (flag.type === "int" && !Number.isSafeInteger(value)) {
        throw new UsageError(`${what} expects ${kind}, got ${show(value)}`);
      }
      const exclusive = flag.type === "float" && flag.exclusiveMin === true;
      if (flag.min !== undefined && (exclusive ? value <= flag.min : value < flag.min)) {
        throw new UsageError(`${what} must be ${exclusive ? ">" : ">="} ${flag.min}, got ${value}`);
      }
      if (flag.max !== undefined && value > flag.max) {
        throw new UsageError(`${what} must be <= ${flag.max}, got ${value}`);
      }
      return value;
    }
  }
}

function show(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : JSON.stringify(value) ?? String(value);
}

/** Converts the text of one command-line value to its flag's type, then range/choice-checks it. */
function convert(name: string, flag: FlagSpec, text: string): unknown {
  const what = `--${name}`;
  switch (flag.type) {
    case "string":
      return checkFlagValue(name, flag, text);
    case "boolean": {
      // Only reached for an inline value (--flag=false): lets a default-true switch be turned off.
      const lower = text.toLowerCase();
      if (lower === "true" || lower === "1") return true;
      if (lower === "false" || lower === "0") return false;
      throw new UsageError(`${what} is a switch; give it alone or as ${what}=true/false, got '${text}'`);
    }
    case "int": {
      // Scientific notation is accepted when it denotes an integer (--tokens 1e9).
      const n = NUMBER.test(text.trim()) ? Number(text) : NaN;
      if (!Number.isSafeInteger(n)) throw new UsageError(`${what} expects an integer, got '${text}'`);
      return checkFlagValue(name, flag, n);
    }
    case "float": {
      const x = NUMBER.test(text.trim()) ? Number(text) : NaN;
      if (!Number.isFinite(x)) throw new UsageError(`${what} expects a number, got '${text}'`);
      return checkFlagValue(name, flag, x);
    }
  }
}

/**
 * Edit distance counting a swap of adjacent letters as one edit (optimal string alignment), for "did you
 * mean" hints on misspelt flags and config keys: "stpes" is one edit from "steps".
 */
export function editDistance(a: string, b: string): number {
  const d = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i + j),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

function unknownFlag(spec: CommandSpec, rawName: string): UsageError {
  const name = rawName.replace(/^-+/, "");
  let best = "";
  let bestDistance = Infinity;
  for (const candidate of Object.keys(spec.flags)) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  const hint = bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? ` (did you mean --${best}?)` : "";
  return new UsageError(`unknown flag ${rawName} for ${spec.name}${hint}; see --help`);
}

/**
 * Parses argv against a command spec.
 *
 * Rejects unknown flags ("unknown flag --foo for train; see --help"), wrong types ("--steps expects an
 * integer, got 'abc'"), out-of-range values ("--lr must be > 0, got -1"), invalid choices, missing values
 * and positional arguments (unless `spec.positionals`). `--help`/`-h` anywhere returns `{ help: true }`
 * with the defaults. Numeric flags accept negative values (`--shift -1`); a string value that starts with
 * "-" must be written inline (`--out=-x`). A flag given twice keeps the last value. Config files are the
 * caller's business (config.ts).
 *
 * @throws UsageError (one-line message) for any mistake in argv; a plain Error for an invalid spec
 */
export function parseFlags<S extends CommandSpec>(spec: S, argv: readonly string[]): ParsedFlags<S> {
  checkSpec(spec);
  const { tokens } = parseArgs({
    args: [...argv],
    // Declaring only the value-taking flags as strings makes parseArgs consume their values; booleans and
    // unknown names come back as bare option tokens, which are checked below with our own messages.
    options: Object.fromEntries(
      Object.entries(spec.flags).map((
        [name, f],
      ) => [name, { type: f.type === "boolean" ? "boolean" : "string" }]),
    ) as Record<string, { type: "string" | "boolean" }>,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });

  const values: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(spec.flags)) {
    values[camelCase(name)] = flag.default ?? (flag.type === "boolean" ? false : undefined);
  }
  const given = new Set<string>();
  const positionals: string[] = [];

  // Help wins over every other mistake, so `train --bad --help` still shows the help.
  const wantsHelp = tokens.some((t) =>
    (t.kind === "option" && (t.name === "help" || t.name === "h")) ||
    (t.kind === "option" && !t.inlineValue && (t.value === "--help" || t.value === "-h"))
  );
  if (wantsHelp) return { help: true, values: values as FlagValues<S["flags"]>, given, positionals };

  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    const flag = Object.hasOwn(spec.flags, token.name) ? spec.flags[token.name] : undefined;
    // Short options other than -h are not supported: `-s` is never a spelling of `--s`.
    if (!flag || !token.rawName.startsWith("--")) throw unknownFlag(spec, token.rawName);
    let value: unknown;
    if (flag.type === "boolean") {
      value = token.value === undefined ? true : convert(token.name, flag, token.value);
    } else {
      const text = token.value;
      const numeric = flag.type !== "string" && text !== undefined && NUMBER.test(text);
      if (text === undefined || (!token.inlineValue && text.startsWith("-") && !numeric)) {
        const placeholder = placeholderOf(flag) ?? "VALUE";
        throw new UsageError(`--${token.name} expects a value (--${token.name} ${placeholder}); see --help`);
      }
      value = convert(token.name, flag, text);
    }
    values[camelCase(token.name)] = value;
    given.add(camelCase(token.name));
  }

  const p = spec.positionals;
  if (!p && positionals.length > 0) {
    throw new UsageError(`unexpected argument '${positionals[0]}' for ${spec.name}; see --help`);
  }
  if (p && positionals.length < (p.min ?? 0)) {
    throw new UsageError(
      `${spec.name} needs at least ${p.min} ${p.name} argument(s), got ${positionals.length}`,
    );
  }
  if (p && p.max !== undefined && positionals.length > p.max) {
    throw new UsageError(
      `${spec.name} takes at most ${p.max} ${p.name} argument(s), got ${positionals.length}`,
    );
  }
  return { help: false, values: values as FlagValues<S["flags"]>, given, positionals };
}

/**
 * `parseFlags` for a task's entry point: prints the help to stdout and exits 0 on --help, otherwise
 * returns the parsed flags (a UsageError propagates to `runMain`, which prints it and exits 2).
 */
export function parseCommand<S extends CommandSpec>(
  spec: S,
  argv: readonly string[] = Deno.args,
): Omit<ParsedFlags<S>, "help"> {
  const parsed = parseFlags(spec, argv);
  if (parsed.help) {
    console.log(helpText(spec));
    Deno.exit(0);
  }
  return parsed;
}

function placeholderOf(flag: FlagSpec): string | undefined {
  switch (flag.type) {
    case "boolean":
      return undefined;
    case "string":
      return flag.placeholder ?? (flag.choices ? flag.choices.join("|") : "VALUE");
    case "int":
      return flag.placeholder ?? "N";
    case "float":
      return flag.placeholder ?? "X";
  }
}

/** "(default 100; 1 ≤ N ≤ 10)" and the like, for the help table. */
function flagNotes(flag: FlagSpec): string {
  const notes: string[] = [];
  if (flag.default !== undefined && !(flag.type === "boolean" && flag.default === false)) {
    notes.push(`default ${flag.type === "string" ? JSON.stringify(flag.default) : flag.default}`);
  }
  if (flag.type === "int" || flag.type === "float") {
    const v = placeholderOf(flag);
    const lt = flag.type === "float" && flag.exclusiveMin ? "<" : "≤";
    const gt = lt === "<" ? ">" : "≥";
    if (flag.min !== undefined && flag.max !== undefined) notes.push(`${flag.min} ${lt} ${v} ≤ ${flag.max}`);
    else if (flag.min !== undefined) notes.push(`${v} ${gt} ${flag.min}`);
    else if (flag.max !== undefined) notes.push(`${v} ≤ ${flag.max}`);
  }
  return notes.length ? ` (${notes.join("; ")})` : "";
}

/** Greedy word wrap of `text` to lines of at most `width` characters (long words stay whole). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.length ? lines : [""];
}

/**
 * The --help text: usage line, summary, a flags table (value placeholders, defaults, ranges, choices) and the
 * examples. Ends without a trailing newline.
 */
export function helpText(spec: CommandSpec): string {
  const rows: [string, string][] = Object.entries(spec.flags).map(([name, flag]) => {
    const placeholder = placeholderOf(flag);
    return [`--${name}${placeholder ? ` ${placeholder}` : ""}`, `${flag.description}${flagNotes(flag)}`];
  });
  rows.push(["-h, --help", "show this help and exit"]);
  const left = Math.min(32, Math.max(...rows.map(([l]) => l.length)));
  const width = Math.max(40, 108 - left - 4);
  const out = [`Usage: ${spec.usage}`, "", ...wrap(spec.summary, 108), ""];
  if (spec.positionals) {
    out.push("Arguments:", `  ${spec.positionals.name.padEnd(left)}  ${spec.positionals.description}`, "");
  }
  out.push("Flags:");
  for (const [l, r] of rows) {
    const [first, ...rest] = wrap(r, width);
    // A flag wider than the column gets its description on the next line rather than a ragged table.
    if (l.length > left) out.push(`  ${l}`, `  ${"".padEnd(left)}  ${first}`);
    else out.push(`  ${l.padEnd(left)}  ${first}`);
    for (const more of rest) out.push(`  ${"".padEnd(left)}  ${more}`);
  }
  if (spec.examples.length) {
    out.push("", "Examples:");
    for (const example of spec.examples) out.push(`  ${example}`);
  }
  return out.join("\n");
}
