import assert from "node:assert/strict";
import { UsageError } from "../../lib/cli/args.ts";
import { describeError, runMain } from "../../lib/cli/main.ts";
import { parseArgs } from "node:util";

Deno.test("describeError() counts node:util parseArgs errors (the benches' flags) as usage errors: exit code 2", () => {
  const thrown = (args: string[]) => {
    try {
      parseArgs({ args, options: { reps: { type: "string" } } });
    } catch (e) {
      return e;
    }
    throw new Error(`parseArgs accepted ${args.join(" ")}`);
  };
  assert.deepEqual(describeError(thrown(["--bogus"])), { message: "Unknown option '--bogus'", code: 2 });
  assert.equal(describeError(thrown(["--reps"])).code, 2);
});

Deno.test("describeError() gives one line and exit code 1, or 2 for a UsageError", () => {
  assert.deepEqual(describeError(new Error("boom")), { message: "boom", code: 1 });
  assert.deepEqual(describeError(new Error("first\n  second\n\n")), { message: "first; second", code: 1 });
  assert.deepEqual(describeError(new UsageError("--steps expects an integer, got 'abc'")), {
    message: "--steps expects an integer, got 'abc'",
    code: 2,
  });
  assert.deepEqual(describeError("a thrown string"), { message: "a thrown string", code: 1 });
  assert.equal(describeError(new TypeError("")).message, "TypeError");
});

Deno.test("describeError() names what a Deno permission error denied, with the task's hint", () => {
  const err = new Deno.errors.NotCapable(
    'Requires write access to "/etc/x", run again with the --allow-write flag',
  );
  assert.equal(
    describeError(err).message,
    'permission denied: write access to "/etc/x"; the task\'s permissions do not allow it; ' +
      "use a path the task may use, or run with broader permissions (--allow-write)",
  );
  const hint = "this task may only write under runs/; pick --out inside it or run with broader permissions";
  assert.equal(
    describeError(err, { permissionHints: { write: hint } }).message,
    `permission denied: write access to "/etc/x"; ${hint}`,
  );
  const os = new Deno.errors.PermissionDenied("Permission denied (os error 13): open '/root/secret'");
  assert.equal(describeError(os).message, "permission denied by the operating system: /root/secret");
});

Deno.test("describeError() turns NotFound into 'not found: <path>' and appends causes", () => {
  let notFound: unknown;
  try {
    Deno.readFileSync("/tmp/gpt2-cli-test-missing/checkpoint.bin");
  } catch (err) {
    notFound = err;
  }
  assert.ok(notFound instanceof Deno.errors.NotFound);
  assert.deepEqual(describeError(notFound), {
    message: "not found: /tmp/gpt2-cli-test-missing/checkpoint.bin",
    code: 1,
  });
  const wrapped = new Error("loading checkpoint", { cause: notFound });
  assert.equal(
    describeError(wrapped).message,
    "loading checkpoint: not found: /tmp/gpt2-cli-test-missing/checkpoint.bin",
  );
});

Deno.test("runMain() prints one error line and exits 1, or 2 for a UsageError, in-process", async () => {
  const lines: string[] = [];
  const codes: number[] = [];
  const opts = { writeError: (t: string) => lines.push(t), exit: (c: number) => codes.push(c) };
  await runMain(() => Promise.reject(new Error("boom\nmore")), opts);
  await runMain(() => {
    throw new UsageError("unknown flag --foo for train; see --help");
  }, opts);
  await runMain(async () => {}, opts);
  assert.deepEqual(codes, [1, 2]);
  // A stack may follow each error line if the environment has GPT2_DEBUG=1 and --allow-env is granted.
  assert.equal(lines[0], "error: boom; more\n");
  assert.equal(lines.filter((l) => l.startsWith("error: ")).length, 2);
  assert.ok(lines.some((l) => l === "error: unknown flag --foo for train; see --help\n"));
});

/** Runs a tiny script that calls runMain in a child Deno with the given permission flags. */
async function runScript(
  dir: string,
  name: string,
  body: string,
  flags: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string; stdout: string }> {
  const lib = new URL("../../lib/cli/", import.meta.url).href;
  const path = `${dir}/${name}.ts`;
  await Deno.writeTextFile(
    path,
    `import { runMain } from "${lib}main.ts";\nimport { parseCommand, parseFlags } from "${lib}args.ts";\n` +
      `void parseCommand; void parseFlags;\n${body}\n`,
  );
  const { code, stderr, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--no-config", ...flags, path],
    env: { GPT2_DEBUG: "0", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr), stdout: new TextDecoder().decode(stdout) };
}

const canRun = Deno.permissions.querySync({ name: "run" }).state === "granted";

Deno.test({
  name:
    "runMain() in a child process: exit codes, one stderr line, stack only with GPT2_DEBUG=1, --help exits 0",
  ignore: !canRun, // needs --allow-run to start the child processes
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "gpt2-cli-main-" });
    try {
      const boom = `runMain(() => { throw new Error("boom\\nsecond line"); });`;
      const denied = `${dir}/outside/x.txt`;
      const missing = `${dir}/missing.bin`;
      const spec = `{ name: "train", summary: "Train.", usage: "deno task train", ` +
        `flags: { steps: { type: "int", description: "steps" } }, examples: ["deno task train --steps 3"] }`;
      const [plain, usage, help, permission, notFound, debug, debugDenied, ok] = await Promise.all([
        runScript(dir, "plain", boom, []),
        runScript(dir, "usage", `runMain(() => { parseCommand(${spec}, ["--steps", "abc"]); });`, []),
        runScript(
          dir,
          "help",
          `runMain(() => { parseCommand(${spec}, ["--help"]); throw new Error("x"); });`,
          [],
        ),
        runScript(
          dir,
          "permission",
          `runMain(() => Deno.writeTextFile(${JSON.stringify(denied)}, "x"), ` +
            `{ permissionHints: { write: "this task may only write under runs/" } });`,
          [],
        ),
        runScript(
          dir,
          "notfound",
          `runMain(() => Deno.readFile(${JSON.stringify(missing)}).then(() => {}));`,
          [
            `--allow-read=${dir}`,
          ],
        ),
        runScript(dir, "debug", boom, ["--allow-env=GPT2_DEBUG"], { GPT2_DEBUG: "1" }),
        runScript(dir, "debugdenied", boom, [], { GPT2_DEBUG: "1" }),
        runScript(dir, "ok", `runMain(async () => { console.log("done"); });`, []),
      ]);
      const errorOnly = (code: number, stderr: string) => ({ code, stderr, stdout: "" });
      assert.deepEqual(plain, errorOnly(1, "error: boom; second line\n"));
      assert.deepEqual(usage, errorOnly(2, "error: --steps expects an integer, got 'abc'\n"));
      assert.equal(help.code, 0, help.stderr);
      assert.equal(help.stderr, "");
      assert.match(
        help.stdout,
        /^Usage: deno task train\n\nTrain\.\n[^]*Examples:\n {2}deno task train --steps 3\n$/,
      );
      assert.deepEqual(
        permission,
        errorOnly(
          1,
          `error: permission denied: write access to "${denied}"; this task may only write under runs/\n`,
        ),
      );
      assert.deepEqual(notFound, errorOnly(1, `error: not found: ${missing}\n`));
      assert.equal(debug.code, 1);
      assert.ok(
        debug.stderr.startsWith("error: boom; second line\nError: boom\nsecond line\n    at "),
        debug.stderr,
      );
      assert.deepEqual(debugDenied, errorOnly(1, "error: boom; second line\n"));
      assert.deepEqual(ok, { code: 0, stderr: "", stdout: "done\n" });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
