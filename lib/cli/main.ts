/**
 * Entry-point wrapper for every task: runs its main and turns any error into ONE line on stderr
 * (`error: <message>`) and an exit code (2 for a {@link UsageError}, 1 otherwise). Stack traces are shown
 * only with the environment variable GPT2_DEBUG=1.
 *
 * Deno's permission errors become a line naming what was denied, and NotFound errors name the path:
 * ```
 * error: permission denied: write access to "/etc/x"; this task may only write under runs/
 * error: not found: data/tinyshakespeare/train.bin
 * ```
 *
 * @example
 * ```ts
 * async function main() { ... }
 * if (import.meta.main) runMain(main);
 * ```
 *
 * @module
 */
import { UsageError } from "./args.ts";
import { breakProgressLine } from "./progress.ts";

/** Options of {@link runMain}. */
export interface RunMainOptions {
  /**
   * What to suggest when a Deno permission of a kind ("read", "write", "net", "env", "run", ...) is denied,
   * e.g. `{ write: "this task may only write under runs/; pick --out inside it or run with broader permissions" }`.
   * Without one the line suggests a path the task may use or the `--allow-<kind>` flag.
   */
  permissionHints?: Partial<Record<string, string>>;
  /** Replaces `Deno.exit` (for tests). */
  exit?: (code: number) => void;
  /** Replaces writing to stderr (for tests). */
  writeError?: (text: string) => void;
}

/** How an error is reported: the one-line message (without "error: ") and the exit code. */
export interface ErrorReport {
  /** One line, without the "error: " prefix. */
  message: string;
  /** Process exit code: 2 for a UsageError or a node:util parseArgs error, else 1. */
  code: number;
}

/** Joins a multi-line message into one line, so the report stays one line whatever the error says. */
function oneLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).join("; ");
}

/** The quoted path at the end of Deno's OS error messages: "No such file or directory (os error 2): open '/x'". */
function pathOf(message: string): string | undefined {
  return /'([^']*)'\s*$/.exec(message)?.[1];
}

function describeOne(err: unknown, hints: Partial<Record<string, string>>): string {
  if (!(err instanceof Error)) return oneLine(String(err));
  if (err instanceof Deno.errors.NotCapable) {
    // Deno: 'Requires write access to "/etc/x", run again with the --allow-write flag'.
    const m = /^Requires (\w+) access to (.+?), run again with the (--allow-\w+) flag/.exec(err.message);
    if (!m) return `permission denied: ${oneLine(err.message)}`;
    const [, kind, what, flag] = m;
    const hint = hints[kind] ??
      `the task's permissions do not allow it; use a ${
          kind === "write" || kind === "read" ? "path" : "resource"
        } ` +
        `the task may use, or run with broader permissions (${flag})`;
    return `permission denied: ${kind} access to ${what}; ${hint}`;
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    // The operating system refused (file mode, read-only mount), not Deno's sandbox.
    const path = pathOf(err.message);
    return path !== undefined
      ? `permission denied by the operating system: ${path}`
      : `permission denied: ${oneLine(err.message)}`;
  }
  if (err instanceof Deno.errors.NotFound) {
    const path = pathOf(err.message);
    return path !== undefined ? `not found: ${path}` : `not found: ${oneLine(err.message)}`;
  }
  return oneLine(err.message) || err.name;
}

/**
 * The one-line report and exit code for an error thrown by a task (pure; `runMain` prints it).
 * Causes (`new Error("loading checkpoint", { cause })`) are appended: "loading checkpoint: not found: x.bin".
 */
export function describeError(
  err: unknown,
  options: Pick<RunMainOptions, "permissionHints"> = {},
): ErrorReport {
  const hints = options.permissionHints ?? {};
  let message = describeOne(err, hints);
  const seen = new Set<unknown>([err]);
  let cause = err instanceof Error ? err.cause : undefined;
  while (cause !== undefined && !seen.has(cause)) {
    seen.add(cause);
    const text = describeOne(cause, hints);
    if (text && !message.includes(text)) message = `${message}: ${text}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return { message, code: isUsageError(err) ? 2 : 1 };
}

/** A command-line mistake: a UsageError, or an error of node:util's parseArgs (code ERR_PARSE_ARGS_…). */
function isUsageError(err: unknown): boolean {
  if (err instanceof UsageError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

/**
 * True when GPT2_DEBUG=1. Env access may be denied by the task's permissions: that counts as unset, and
 * the permission is queried first so that Deno never prompts for it.
 */
export function debugEnabled(): boolean {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: "GPT2_DEBUG" }).state !== "granted") return false;
    return Deno.env.get("GPT2_DEBUG") === "1";
  } catch {
    return false;
  }
}

function stackOf(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = err; e !== undefined && !seen.has(e); e = e instanceof Error ? e.cause : undefined) {
    seen.add(e);
    parts.push(e instanceof Error ? (e.stack ?? String(e)) : String(e));
  }
  return parts.join("\ncaused by: ");
}

const encoder = new TextEncoder();

function writeStderr(text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

/**
 * Runs a task's main. On error prints `error: <message>` (one line) to stderr and exits with code 1, or 2
 * for a UsageError; with GPT2_DEBUG=1 the stack trace follows the line. On success it returns normally.
 */
export async function runMain(fn: () => Promise<void> | void, options: RunMainOptions = {}): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const { message, code } = describeError(err, options);
    const write = options.writeError ?? writeStderr;
    breakProgressLine();
    write(`error: ${message}\n`);
    if (debugEnabled()) write(`${stackOf(err)}\n`);
    (options.exit ?? Deno.exit)(code);
  }
}
