/**
 * A progress line for long work (tokenizing, training, evaluation): percent, bar, smoothed rate, ETA and
 * extra fields such as loss and lr.
 *
 * On a terminal it redraws one line in place with "\r" (at most every `redrawMs`); in logs (stderr not a
 * TTY) it prints a plain line at most every `intervalS` seconds so the log stays readable. `update()` is cheap
 * enough to call every step: it reads the clock, updates the rate estimate and returns unless it is time
 * to draw.
 *
 * The formatting helpers (`formatCount`, `formatRate`, `formatDuration`, `formatBar`, `formatValue`,
 * `formatProgressLine`) are pure and exported for tests and for callers that print their own lines.
 *
 * @example
 * ```ts
 * const progress = new Progress({ total: steps, label: "train", unit: "step" });
 * for (let step = 1; step <= steps; step++) {
 *   // ... one optimizer step ...
 *   progress.update(step, { loss, lr });
 * }
 * progress.done();
 * ```
 *
 * @module
 */

/** Options of a {@link Progress} line. */
export interface ProgressOptions {
  /** Amount of work in `unit`s; 0 or undefined when unknown (no percent, bar or ETA). */
  total?: number;
  /** Printed first, e.g. "train". */
  label?: string;
  /** Unit of `done`, e.g. "tok", "step", "B" (default "it"). */
  unit?: string;
  /** Where to draw (default "stderr", so stdout stays free for results and --json lines). */
  stream?: "stderr" | "stdout";
  /** False makes every method a no-op (e.g. for --quiet or --json). Default true. */
  enabled?: boolean;
  /** Seconds between plain lines when the stream is not a terminal (default 10). */
  intervalS?: number;
  /** Milliseconds between in-place redraws on a terminal (default 100). */
  redrawMs?: number;
  /** Time constant of the rate's exponential moving average, in seconds (default 5). */
  smoothingS?: number;
  /** Bar width in characters (default 24). */
  barWidth?: number;
  /** Overrides terminal detection (default: `isTerminal()` of the stream). */
  tty?: boolean;
  /** Overrides where text goes (default: the stream); for tests. */
  write?: (text: string) => void;
  /** Overrides the clock, in milliseconds (default `performance.now`); for tests. */
  now?: () => number;
}

/** Extra fields shown after the ETA, e.g. `{ loss: 3.21, lr: 6e-4 }`. */
export type ProgressExtra = Record<string, string | number>;

const SI = ["", "k", "M", "G", "T", "P"];

/**
 * Short human count: 999 → "999", 1234 → "1.2k", 56_700 → "56.7k", 1_234_567 → "1.2M", 0.25 → "0.25".
 * Three significant digits at most; non-finite → "?".
 */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return "?";
  const sign = n < 0 ? "-" : "";
  let a = Math.abs(n);
  if (Number.isInteger(a) && a < 1000) return `${sign}${a}`;
  if (a < 999.5) {
    // Thresholds sit at the rounding points so 99.97 prints "100", not "100.0".
    return `${sign}${a >= 99.5 ? a.toFixed(0) : a >= 9.95 ? a.toFixed(1) : Number(a.toPrecision(2))}`;
  }
  let i = 0;
  do {
    a /= 1000;
    i++;
  } while (a >= 999.95 && i < SI.length - 1);
  return `${sign}${a >= 99.95 ? a.toFixed(0) : a.toFixed(1)}${SI[i]}`;
}

/**
 * Rate per second with unit: "1.2k tok/s", "3.4 step/s"; rates below one per second flip to seconds per
 * unit ("12.5 s/step"), which reads better for slow steps. Unknown (non-finite or 0) → "? unit/s".
 */
export function formatRate(perSecond: number, unit: string): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return `? ${unit}/s`;
  if (perSecond < 1) {
    const s = 1 / perSecond;
    return `${s >= 100 ? formatCount(Math.round(s)) : s.toFixed(1)} s/${unit}`;
  }
  return `${formatCount(perSecond)} ${unit}/s`;
}

/** Duration in seconds: 7 → "7s", 192 → "3m12s", 3900 → "1h05m", 200000 → "2d07h"; unknown → "?". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor(s / 3600) % 24).padStart(2, "0")}h`;
}

const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/**
 * A bar of `width` characters for a fraction in [0, 1] (clamped): unicode eighth blocks for terminals,
 * "#" and "-" for logs, e.g. formatBar(0.5, 4, true) → "[##--]".
 */
export function formatBar(fraction: number, width: number, ascii = false): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  if (ascii) {
    const full = Math.floor(f * width);
    return `[${"#".repeat(full)}${"-".repeat(width - full)}]`;
  }
  const eighths = Math.floor(f * width * 8);
  const full = Math.floor(eighths / 8);
  const part = full < width ? EIGHTHS[eighths % 8] : "";
  return `│${"█".repeat(full)}${part}${" ".repeat(width - full - (part ? 1 : 0))}│`;
}

/**
 * An extra field's value: integers as is, other numbers with at most 4 significant digits (exponent
 * notation below 1e-3, e.g. a learning rate "6e-4"), NaN/Infinity spelt out, strings as is.
 */
export function formatValue(v: string | number): string {
  if (typeof v === "string") return v;
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  // Trailing zeros are dropped so a learning rate reads "6e-4" and a loss "3.21", not "3.210".
  return a < 1e-3 || a >= 1e6 ? v.toExponential(3).replace(/\.?0+e/, "e") : String(Number(v.toPrecision(4)));
}

/** Everything one progress line shows. */
export interface ProgressState {
  /** Printed first, e.g. "train". */
  label?: string;
  /** Unit of `done` and `total`, e.g. "tok". */
  unit: string;
  /** Units completed. */
  done: number;
  /** Units in all; 0 or undefined when unknown. */
  total?: number;
  /** Smoothed rate in units per second (NaN when not yet known). */
  rate: number;
  /** Seconds since the start. */
  elapsedS: number;
  /** Fields shown last, e.g. loss and lr. */
  extra?: ProgressExtra;
  /** Bar width in characters; 0 for no bar. */
  barWidth: number;
  /** ASCII bar (for logs) instead of unicode blocks. */
  ascii: boolean;
  /** True for the final line: shows the elapsed time instead of the ETA. */
  finished?: boolean;
}

/**
 * One progress line, e.g.
 * `train  42% │██████████▏            │ 4.2k/10.0k step  1.2k step/s  ETA 3m12s  loss 3.214  lr 6e-4`.
 */
export function formatProgressLine(s: ProgressState): string {
  const parts: string[] = [];
  if (s.label) parts.push(s.label);
  const known = s.total !== undefined && s.total > 0;
  if (known) {
    const fraction = s.done / s.total!;
    parts.push(`${(Math.min(1, Math.max(0, fraction)) * 100).toFixed(0).padStart(3)}%`);
    if (s.barWidth > 0) parts.push(formatBar(fraction, s.barWidth, s.ascii));
    parts.push(`${formatCount(s.done)}/${formatCount(s.total!)} ${s.unit}`);
  } else {
    parts.push(`${formatCount(s.done)} ${s.unit}`);
  }
  parts.push(formatRate(s.rate, s.unit));
  if (s.finished) parts.push(`in ${formatDuration(s.elapsedS)}`);
  else if (known) parts.push(`ETA ${formatDuration(Math.max(0, s.total! - s.done) / s.rate)}`);
  for (const [key, value] of Object.entries(s.extra ?? {})) parts.push(`${key} ${formatValue(value)}`);
  return parts.join("  ");
}

const encoder = new TextEncoder();

function streamWriter(stream: "stderr" | "stdout"): (text: string) => void {
  const target = stream === "stdout" ? Deno.stdout : Deno.stderr;
  return (text) => {
    const bytes = encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += target.writeSync(bytes.subarray(written));
  };
}

/** The terminal progress line drawn last and not yet ended, so an error message can start on a fresh line. */
let openLine: ((text: string) => void) | null = null;

/**
 * Ends a progress line left open on a terminal (a task failing mid-bar), so that what is printed next
 * starts on its own line. `runMain` calls this before printing an error. No-op when no line is open.
 */
export function breakProgressLine(): void {
  if (openLine) openLine("\n");
  openLine = null;
}

/** A progress line; see the module documentation. */
export class Progress {
  /** False when constructed with `enabled: false`: every method is then a no-op. */
  readonly enabled: boolean;
  /** Whether the line is redrawn in place (terminal) rather than printed as plain lines. */
  readonly tty: boolean;
  private readonly opts: ProgressOptions;
  private readonly write: (text: string) => void;
  private readonly now: () => number;
  private readonly start: number;
  private lastSampleTime: number;
  private lastSampleDone = 0;
  private rate = NaN;
  private lastDrawTime = -Infinity;
  private drawnWidth = 0;
  private current = 0;
  private extra: ProgressExtra | undefined;
  private finished = false;

  /** Starts the clock; nothing is drawn until the first `update`. */
  constructor(options: ProgressOptions = {}) {
    this.opts = options;
    this.enabled = options.enabled ?? true;
    const stream = options.stream ?? "stderr";
    let tty = options.tty;
    if (tty === undefined) {
      try {
        tty = (stream === "stdout" ? Deno.stdout : Deno.stderr).isTerminal();
      } catch {
        tty = false;
      }
    }
    this.tty = tty;
    this.write = options.write ?? streamWriter(stream);
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
    this.lastSampleTime = this.start;
  }

  /** Total work, changeable when it becomes known late (0 or undefined = unknown). */
  get total(): number | undefined {
    return this.opts.total;
  }
  set total(total: number | undefined) {
    this.opts.total = total;
  }

  /** Smoothed rate in units per second (NaN until the clock has advanced past the first update). */
  get unitsPerSecond(): number {
    return this.rate;
  }

  /**
   * Records that `done` units are complete (absolute, not an increment) and redraws when due.
   * @param extra fields shown after the ETA; kept until the next update that passes them
   */
  update(done: number, extra?: ProgressExtra): void {
    if (!this.enabled || this.finished) return;
    const t = this.now();
    this.sample(t, done);
    this.current = done;
    if (extra) this.extra = extra;
    const due = this.tty
      ? t - this.lastDrawTime >= (this.opts.redrawMs ?? 100)
      : t - this.lastDrawTime >= (this.opts.intervalS ?? 10) * 1000;
    if (due) this.draw(t, false);
  }

  /**
   * Prints a message on its own line without breaking the progress line (which is redrawn below it on a
   * terminal).
   */
  log(message: string): void {
    if (!this.enabled) return;
    if (this.tty && this.drawnWidth > 0) {
      this.write(`\r\x1b[K${message}\n`);
      this.draw(this.now(), false);
    } else {
      this.write(`${message}\n`);
    }
  }

  /** Draws the final line (elapsed time instead of ETA) and ends it with a newline. Idempotent. */
  done(extra?: ProgressExtra): void {
    if (!this.enabled || this.finished) return;
    if (extra) this.extra = extra;
    this.draw(this.now(), true);
    this.write("\n");
    if (openLine === this.write) openLine = null;
    this.finished = true;
  }

  /**
   * Time-weighted EMA of the rate: each sample's weight is 1 − exp(−dt/τ), so the estimate does not depend
   * on how often `update` is called, and a slow first step (shader compilation) is forgotten after a few τ.
   */
  private sample(t: number, done: number): void {
    const dt = (t - this.lastSampleTime) / 1000;
    if (dt <= 0) return;
    const instant = (done - this.lastSampleDone) / dt;
    if (Number.isNaN(this.rate)) this.rate = instant;
    else this.rate += (1 - Math.exp(-dt / (this.opts.smoothingS ?? 5))) * (instant - this.rate);
    this.lastSampleTime = t;
    this.lastSampleDone = done;
  }

  /** Formats the line and writes it: redrawn in place on a terminal, a plain line otherwise. */
  private draw(t: number, finished: boolean): void {
    const elapsedS = (t - this.start) / 1000;
    // The final line reports the average over the whole run, which is what a log reader wants.
    const rate = finished && elapsedS > 0 ? this.current / elapsedS : this.rate;
    let line = formatProgressLine({
      label: this.opts.label,
      unit: this.opts.unit ?? "it",
      done: this.current,
      total: this.opts.total,
      rate,
      elapsedS,
      extra: this.extra,
      barWidth: this.opts.barWidth ?? 24,
      ascii: !this.tty,
      finished,
    });
    this.lastDrawTime = t;
    if (!this.tty) {
      if (!finished) this.write(`${line}\n`);
      else this.write(line);
      return;
    }
    // A line wider than the terminal would wrap, and "\r" would then redraw only its last row.
    const columns = terminalColumns();
    if (columns > 0 && line.length >= columns) line = line.slice(0, columns - 1);
    this.write(`\r${line}\x1b[K`);
    this.drawnWidth = line.length;
    openLine = this.write;
  }
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 0;
  }
}
