/**
 * The code stays ready for `deno compile`: tasks/main.ts reaches every command, nothing under lib/ or
 * tasks/ reads code (.ts, .wgsl) from disk at run time or imports a module by a computed name, every
 * Web Worker module is passed to `deno compile --include`, and `deno task compile` fails with one line
 * where the runtime cannot be had.
 */
import assert from "node:assert/strict";
import { walk } from "./_walk.ts";
import { COMPILE_INCLUDES, compileFailure } from "../../tasks/compile.ts";
import { COMMANDS } from "../../tasks/main.ts";
import { denoRunTasks, importGraph, ROOT, runTask, task } from "../sandbox/_tasks.ts";

/** Every .ts file under `dirs` (default lib/ and tasks/), with its text. */
async function sources(dirs = ["lib", "tasks"]): Promise<{ path: string; text: string }[]> {
  const out = [];
  for (const dir of dirs) {
    for await (const path of walk(`${ROOT}/${dir}`, ".ts")) {
      out.push({ path, text: await Deno.readTextFile(path) });
    }
  }
  return out;
}

Deno.test("lib/ and tasks/ never load code at run time: no computed dynamic imports, no reads of .ts/.wgsl files", async () => {
  const files = await sources();
  assert.ok(files.length > 50, `only ${files.length} source files found`);
  const problems: string[] = [];
  for (const { path, text } of files) {
    const rel = path.slice(ROOT.length + 1);
    // Strip comments so that documentation may mention anything.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
    for (const m of code.matchAll(/\bimport\s*\(\s*([^)\s][^)]*)\)/g)) {
      if (!/^"[^"]+"$/.test(m[1].trim())) problems.push(`${rel}: import(${m[1]}) is not a string literal`);
    }
    for (
      const m of code.matchAll(
        /\b(?:readTextFile|readFile|readTextFileSync|readFileSync|open|openSync|fetch)\s*\(([^;]*)/g,
      )
    ) {
      if (/\.wgsl|\.ts\b|import\.meta\.(url|resolve|dirname|filename)/.test(m[1])) {
        problems.push(`${rel}: reads code at run time: ${m[0].slice(0, 80)}`);
      }
    }
    for (
      const m of code.matchAll(/new\s+Worker\s*\(\s*new\s+URL\s*\(\s*"([^"]+)"\s*,\s*import\.meta\.url/g)
    ) {
      const target = new URL(m[1], `file://${path}`).pathname.slice(ROOT.length + 1);
      if (!COMPILE_INCLUDES.includes(target)) {
        problems.push(`${rel}: worker ${target} is not in COMPILE_INCLUDES`);
      }
    }
    for (const m of code.matchAll(/new\s+Worker\s*\(\s*(?!new\s+URL\s*\(\s*")/g)) {
      problems.push(`${rel}: a Worker whose module is not a literal URL (offset ${m.index})`);
    }
    for (const m of code.matchAll(/from\s+"([^"]+\.wgsl)"(\s*with\s*\{\s*type:\s*"text"\s*\})?/g)) {
      if (!m[2]) problems.push(`${rel}: ${m[1]} is imported without { type: "text" }`);
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("every WGSL kernel is embedded through a static text import (bench/ holds the retired versions)", async () => {
  const imported = new Set<string>();
  for (const { path, text } of await sources(["lib", "tasks", "bench"])) {
    for (const m of text.matchAll(/from\s+"([^"]+\.wgsl)"\s*with\s*\{\s*type:\s*"text"\s*\}/g)) {
      imported.add(new URL(m[1], `file://${path}`).pathname);
    }
  }
  const kernels: string[] = [];
  for await (const path of walk(`${ROOT}/lib/gpu/kernels`, ".wgsl")) kernels.push(path);
  assert.ok(kernels.length > 10);
  for (const k of kernels) {
    assert.ok(imported.has(k), `${k.slice(ROOT.length + 1)} is never imported as text`);
  }
});

Deno.test("tasks/main.ts reaches every command that deno.json runs, under the same name", async () => {
  const { files } = await importGraph("tasks/main.ts");
  for (const t of await denoRunTasks()) {
    if (t.name === "gpt2" || t.name === "compile") continue;
    assert.ok(files.has(`${ROOT}/${t.script}`), `tasks/main.ts does not import ${t.script}`);
    assert.ok(Object.hasOwn(COMMANDS, t.name), `tasks/main.ts has no command '${t.name}'`);
  }
  for (const worker of COMPILE_INCLUDES) assert.ok(Deno.statSync(`${ROOT}/${worker}`).isFile, worker);
});

Deno.test("deno task gpt2 lists every command in --help and rejects an unknown one in one line", async () => {
  const gpt2 = await task("gpt2");
  const help = await runTask(gpt2, ["--help"]);
  assert.equal(help.code, 0, help.stderr);
  for (const name of Object.keys(COMMANDS)) assert.match(help.stdout, new RegExp(`^  ${name} `, "m"));
  const sub = await runTask(gpt2, ["generate", "--help"]);
  assert.equal(sub.code, 0, sub.stderr);
  assert.match(sub.stdout, /^Usage: deno task generate/);
  const bad = await runTask(gpt2, ["trian", "--steps", "1"]);
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr.trim(),
    "error: unknown command 'trian' (did you mean 'train'?); commands: " +
      Object.keys(COMMANDS).join(", "),
  );
});

Deno.test("deno task compile stops with one line and exit 1 when the runtime cannot be had", async () => {
  const compile = await task("compile");
  const out = `dist/compile-test-${Deno.pid}`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: [...compile.words.slice(1), "--no-check", "--output", out],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { XDG_RUNTIME_DIR: "/tmp", DENORT_BIN: "/nonexistent/denort" },
  }).output();
  const stderr = new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 1, stderr);
  assert.equal(
    stderr.trim(),
    "error: deno compile failed: DENORT_BIN=/nonexistent/denort does not exist (unset it to download denort)",
  );
  assert.equal(await Deno.stat(`${ROOT}/${out}`).then(() => true, () => false), false);
});

Deno.test("compileFailure() turns deno compile's failed runtime download into one line", () => {
  const stderr = "\x1b[0m\x1b[32mCompile\x1b[0m tasks/main.ts to dist/gpt2\n" +
    "\x1b[0m\x1b[32mDownload\x1b[0m https://dl.deno.land/release/v2.9.5/denort-x86_64-unknown-linux-gnu.zip\n" +
    "\x1b[0m\x1b[1m\x1b[31merror\x1b[0m: Writing deno compile executable to temporary file 'dist/gpt2.tmp'\n\n" +
    "Caused by:\n    0: Setting up base binary.\n    1: error sending request for url (https://dl.deno.land/x): " +
    "client error (Connect): dns error: failed to lookup address information\n";
  const line = compileFailure(stderr);
  assert.ok(!line.includes("\n"));
  assert.match(line, /^deno compile must download its runtime \(denort\)/);
  assert.match(line, /DENORT_BIN/);
  assert.equal(
    compileFailure('error: Module not found "file:///x.ts".\n'),
    'deno compile failed: Module not found "file:///x.ts".',
  );
});
