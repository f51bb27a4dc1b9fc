/**
 * JSON Lines output for --json modes: one JSON object per line on stdout, so results can be piped into
 * `jq` or parsed line by line. Progress and logs go to stderr and never mix in.
 *
 * Values are made JSON-safe: NaN and ±Infinity become null (a diverged loss is reported, not a parse
 * error), typed arrays become arrays, bigints become numbers (strings when beyond 2^53), Maps become
 * objects and Sets arrays.
 *
 * @example
 * ```ts
 * emitJson({ step, loss, lr, tokensPerSecond });
 * ```
 *
 * @module
 */

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  // Typed arrays would otherwise serialize as {"0": …, "1": …}; the replacer then visits each element.
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>);
  }
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}

/** One line of JSON (no trailing newline) for an object, with the conversions described in the module doc. */
export function toJsonLine(obj: Record<string, unknown>): string {
  return JSON.stringify(obj, jsonSafe);
}

const encoder = new TextEncoder();

/** Writes `obj` as one JSON line to stdout (synchronously, so lines are never interleaved or lost at exit). */
export function emitJson(obj: Record<string, unknown>): void {
  const bytes = encoder.encode(toJsonLine(obj) + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}
