/**
 * The tasks of deno.json as the tests run them: each command line split into words, `deno` replaced by
 * the running executable, started in the repository root exactly as `deno task NAME` would.
 *
 * @module
 */

/** The repository root. */
export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** One deno.json task. */
export interface TaskLine {
  name: string;
  /** The command's words, e.g. ["deno", "run", "--allow-read", …, "tasks/train.ts"]. */
  words: string[];
  /** The `--allow-*` flags, by name ("write" → "./runs,./.cache", or "" when unscoped). */
  allow: Map<string, string>;
  /** The tasks/*.ts script it runs, when it is `deno run … tasks/x.ts`. */
  script?: string;
}

/** Every task of deno.json whose command is a single `deno run` (the quality-gate tasks are skipped). */
export async function denoRunTasks(): Promise<TaskLine[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const out: TaskLine[] = [];
  for (const [name, task] of Object.entries(config.tasks as Record<string, { command: string }>)) {
    const words = task.command.trim().split(/\s+/);
    if (words[0] !== "deno" || words[1] !== "run" || task.command.includes("&&")) continue;
    const allow = new Map<string, string>();
    for (const w of words) {
      const m = /^--allow-([a-z]+)(?:=(.*))?$/.exec(w);
      if (m) allow.set(m[1], m[2] ?? "");
      if (w === "-A" || w === "--allow-all") allow.set("all", "");
    }
    out.push({ name, words, allow, script: words.find((w) => /^tasks\/[\w-]+\.ts$/.test(w)) });
  }
  return out;
}

/** The result of running a task. */
export interface TaskRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs task `t` with extra arguments, as `deno task` would (cwd = repository root). */
export async function runTask(t: TaskLine, args: string[]): Promise<TaskRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...t.words.slice(1), ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { XDG_RUNTIME_DIR: "/tmp", NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The task named `name`; throws when deno.json has none. */
export async function task(name: string): Promise<TaskLine> {
  const t = (await denoRunTasks()).find((x) => x.name === name);
  if (!t) throw new Error(`deno.json has no task ${name}`);
  return t;
}

/**
 * The local modules reachable from `entry` by static imports, and the bare (npm, import-map) specifiers
 * they import. Follows `import … from "./x.ts"`, `export … from`, `import("./x.ts")` and text imports.
 */
export async function importGraph(entry: string): Promise<{ files: Set<string>; bare: Set<string> }> {
  const files = new Set<string>();
  const bare = new Set<string>();
  const queue = [new URL(entry, `file://${ROOT}/`).pathname];
  const spec = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)"([^"]+)"/g;
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    if (!file.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(spec)) {
      const s = m[1];
      if (s.startsWith(".")) queue.push(new URL(s, `file://${file}`).pathname);
      else bare.add(s.replace(/^npm:/, "").replace(/^(@[^/]+\/[^/@]+|[^/@]+).*$/, "$1"));
    }
  }
  return { files, bare };
}
