/**
 * Config layering as in nanoGPT's configurator: a preset (a plain object whose values fix each key's type)
 * → an optional JSON file (`--config FILE.json`) → the flags given explicitly on the command line.
 * Later layers win. Unknown keys and wrongly typed values in the file are one-line {@link UsageError}s.
 *
 * @example
 * ```ts
 * const { values, given } = parseCommand(spec);
 * const file = values.config ? await loadConfigFile(values.config) : undefined;
 * const cfg = mergeConfig(PRESETS[values.preset], file, values, given, { flags: spec.flags });
 * printConfig(cfg);
 * await Deno.writeTextFile(`${cfg.out}/config.json`, JSON.stringify(cfg, null, 2));
 * ```
 *
 * @module
 */
import { camelCase, checkFlagValue, editDistance, type FlagSpec, UsageError } from "./args.ts";

/** A parsed config file: where it came from (for messages) and its top-level object. */
export interface ConfigFile {
  /** The file's path, as given (used in error messages). */
  path: string;
  /** The file's top-level JSON object. */
  values: Record<string, unknown>;
}

/** Options of {@link mergeConfig}. */
export interface MergeOptions {
  /**
   * The command's flag specs (kebab-case names, as in `CommandSpec.flags`): file values of keys that are
   * also flags are checked with the same rules as the flag (integer, range, choices). A `CommandSpec`
   * can be passed as the options directly.
   */
  flags?: Record<string, FlagSpec>;
}

/**
 * Reads and parses a JSON config file whose top level must be an object.
 * @throws UsageError when the file is not valid JSON or not an object; Deno.errors.NotFound when missing
 */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  const text = await Deno.readTextFile(path);
  return parseConfigText(text, path);
}

/** Parses the text of a JSON config file (see {@link loadConfigFile}); `path` is only used in messages. */
export function parseConfigText(text: string, path: string): ConfigFile {
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(err as Error).message.split("\n")[0]}`);
  }
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    throw new UsageError(`config file ${path} must contain a JSON object, e.g. {"lr": 0.0003}`);
  }
  return { path, values: values as Record<string, unknown> };
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

/** Whether `value` may replace `preset` in a config: same JSON kind; a null preset accepts any scalar. */
function sameKind(preset: unknown, value: unknown): boolean {
  const p = kindOf(preset);
  const v = kindOf(value);
  if (p === "null" || p === "undefined") return v !== "object" && v !== "array";
  return p === v;
}

/**
 * Merges the three layers into a new config (the preset is not modified).
 *
 * - `file` keys must exist in `base`, spelt in camelCase or as the flag would be (`batch-size`,
 *   `batch_size`); otherwise "unknown key 'lrr' in cfg.json (did you mean 'lr'?)". Keys starting with "//"
 *   are comments and ignored.
 * - Every file value must have the JSON kind of the preset's value (number, string, boolean, array,
 *   object; a null preset accepts any scalar), finite if a number, and pass the flag's checks when
 *   `options.flags` has a flag of that name.
 * - Of `flagValues`, only keys in `given` (the flags given explicitly) that exist in `base` are applied, so
 *   flag defaults never override the preset or the file. Other flags (e.g. --config itself) are ignored.
 *
 * @param base the preset: every key a config may have, with values of the right types
 * @param file the parsed `--config` file, or undefined
 * @param flagValues camelCase flag values from `parseFlags`
 * @param given camelCase names of the flags given explicitly (`parseFlags(...).given`)
 * @throws UsageError with a one-line message naming the key and file
 */
export function mergeConfig<T extends object>(
  base: T,
  file: ConfigFile | undefined,
  flagValues: object,
  given: ReadonlySet<string>,
  options: MergeOptions = {},
): T {
  const out = { ...base } as Record<string, unknown>;
  const keys = Object.keys(base);
  const flagByKey = new Map(
    Object.entries(options.flags ?? {}).map(([name, f]) => [camelCase(name), { name, f }]),
  );

  if (file) {
    for (const [rawKey, value] of Object.entries(file.values)) {
      if (rawKey.startsWith("//")) continue;
      const key = Object.hasOwn(base, rawKey)
        ? rawKey
        : rawKey.replace(/[-_]([a-z0-9])/g, (_, c) => c.toUpperCase());
      if (!Object.hasOwn(base, key)) {
        const hint = closest(rawKey, keys);
        throw new UsageError(
          `unknown key '${rawKey}' in ${file.path}${hint ? ` (did you mean '${hint}'?)` : ""}`,
        );
      }
      const preset = (base as Record<string, unknown>)[key];
      const what = `'${rawKey}' in ${file.path}`;
      if (!sameKind(preset, value)) {
        const expected = preset === null || preset === undefined
          ? "a string, number, boolean or null"
          : `a ${kindOf(preset)} like the preset's ${JSON.stringify(preset)}`;
        throw new UsageError(`${what} must be ${expected}, got ${JSON.stringify(value)}`);
      }
      if (typeof value === "number" && !Number.isFinite(value)) {
        throw new UsageError(`${what} must be a finite number, got ${value}`);
      }
      const flag = flagByKey.get(key);
      if (flag && value !== null) checkFlagValue(flag.name, flag.f, value, what);
      out[key] = value;
    }
  }

  const flags = flagValues as Record<string, unknown>;
  for (const key of given) {
    if (Object.hasOwn(base, key) && Object.hasOwn(flags, key)) out[key] = flags[key];
  }
  return out as T;
}

/** The closest key by edit distance, when close enough to be a likely typo. */
function closest(name: string, keys: string[]): string | undefined {
  const lower = name.toLowerCase().replace(/[-_]/g, "");
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const key of keys) {
    const d = editDistance(lower, key.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [key, d];
  }
  return bestDistance <= Math.max(1, Math.floor(lower.length / 3)) ? best : undefined;
}

/**
 * A readable dump: one `key  value` line per key, aligned, values as compact JSON (strings quoted), under a
 * title line. Ends without a newline.
 */
export function formatConfig(cfg: object, title = "config:"): string {
  const entries = Object.entries(cfg);
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  const lines = entries.map(([k, v]) =>
    `  ${k.padEnd(width)}  ${v === undefined ? "(unset)" : JSON.stringify(v)}`
  );
  return [title, ...lines].join("\n");
}

/**
 * Prints {@link formatConfig} to stdout, or to stderr with `{ stream: "stderr" }` (use that in --json modes
 * so stdout holds only JSON lines).
 */
export function printConfig(
  cfg: object,
  options: { title?: string; stream?: "stdout" | "stderr" } = {},
): void {
  const text = formatConfig(cfg, options.title);
  if (options.stream === "stderr") console.error(text);
  else console.log(text);
}
