/**
 * Resumable stages: each stage's result is a JSON file OUT/stages/<name>.json written atomically when the
 * stage finishes, so a rerun of the demo skips every finished stage and starts again at the first
 * unfinished one. A stage interrupted half-way simply runs again.
 *
 * @module
 */
import { writeFileAtomic } from "../io/atomic.ts";

/** How long a stage took, or that it was skipped because an earlier run finished it. */
export interface StageTiming {
  name: string;
  /** Seconds of this run (0 when skipped). */
  seconds: number;
  /** Seconds recorded when the stage originally ran. */
  originalSeconds: number;
  skipped: boolean;
}

interface StageFile<T> {
  name: string;
  seconds: number;
  finished: string;
  result: T;
}

/** Runs named stages once per output folder; see the module doc. */
export class StageStore {
  readonly dir: string;
  readonly #log: (line: string) => void;
  readonly #timings: StageTiming[] = [];
  #index = 0;
  readonly #total: number;

  /**
   * @param out the demo's output folder (results go to OUT/stages/)
   * @param total number of stages, for the "[3/20]" counter
   * @param log where progress lines go (stderr)
   */
  constructor(out: string, total: number, log: (line: string) => void) {
    this.dir = `${out}/stages`;
    this.#total = total;
    this.#log = log;
  }

  #path(name: string): string {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new Error(`bad stage name '${name}'`);
    return `${this.dir}/${name}.json`;
  }

  /** The stored result of a finished stage, or undefined. */
  async stored<T>(name: string): Promise<T | undefined> {
    const text = await Deno.readTextFile(this.#path(name)).catch((e) => {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    });
    if (text === undefined) return undefined;
    return (JSON.parse(text) as StageFile<T>).result;
  }

  /** Runs `fn` unless stage `name` already finished; returns its (stored) result. */
  async run<T>(name: string, title: string, fn: () => Promise<T>): Promise<T> {
    this.#index++;
    const counter = `[${this.#index}/${this.#total}]`;
    const path = this.#path(name);
    const text = await Deno.readTextFile(path).catch(() => undefined);
    if (text !== undefined) {
      const done = JSON.parse(text) as StageFile<T>;
      this.#timings.push({ name, seconds: 0, originalSeconds: done.seconds, skipped: true });
      this.#log(`${counter} ${title}: done earlier (${done.seconds.toFixed(1)} s), skipped`);
      return done.result;
    }
    this.#log(`${counter} ${title}…`);
    const t0 = performance.now();
    const result = await fn();
    const seconds = (performance.now() - t0) / 1000;
    const file: StageFile<T> = { name, seconds, finished: new Date().toISOString(), result };
    await writeFileAtomic(path, JSON.stringify(file, null, 2) + "\n");
    this.#timings.push({ name, seconds, originalSeconds: seconds, skipped: false });
    this.#log(`${counter} ${title}: ${seconds.toFixed(1)} s`);
    return result;
  }

  /** Every stage run or skipped so far, in order. */
  timings(): StageTiming[] {
    return [...this.#timings];
  }
}
