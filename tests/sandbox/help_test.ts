/**
 * The CLI contract of every task, through deno.json's own command lines (so the sandbox is the real one):
 * `--help` exits 0 and shows at least one example of that task, and flags with one meaning have one name
 * everywhere.
 */
import assert from "node:assert/strict";
import { COMMANDS } from "../../tasks/main.ts";
import { compileSpec } from "../../tasks/compile.ts";
import { denoRunTasks, runTask } from "./_tasks.ts";

Deno.test("every task's --help exits 0 and shows usage and an example of that task", async () => {
  const tasks = await denoRunTasks();
  // Two at a time: each start loads the task's whole module graph.
  for (let i = 0; i < tasks.length; i += 2) {
    await Promise.all(
      tasks.slice(i, i + 2).map(async (t) => {
        const r = await runTask(t, ["--help"]);
        assert.equal(r.code, 0, `${t.name} --help: exit ${r.code}\n${r.stderr}`);
        assert.match(r.stdout, /^Usage: /, `${t.name} --help has no usage line`);
        const examples = r.stdout.split("\nExamples:\n")[1];
        assert.ok(examples, `${t.name} --help shows no examples`);
        assert.ok(
          examples.includes(`deno task ${t.name}`),
          `${t.name}'s examples do not run deno task ${t.name}`,
        );
      }),
    );
  }
});

Deno.test("flags that mean the same thing have the same name in every command", () => {
  const specs = [...Object.values(COMMANDS).map((c) => c.spec), compileSpec];
  for (const spec of specs) {
    const flags = Object.keys(spec.flags);
    assert.ok(flags.includes("json"), `${spec.name} has no --json`);
    for (
      const bad of [
        "output-dir",
        "outdir",
        "out-dir",
        "dataset",
        "data-dir",
        "model-dir",
        "random-seed",
        "verbose",
      ]
    ) {
      assert.ok(!flags.includes(bad), `${spec.name} spells a common flag as --${bad}`);
    }
    // Output folders are --out, data --data, token caches --cache-dir, seeds --seed.
    for (const f of flags) {
      if (/^(output|dest)/.test(f) && spec.name !== "compile") {
        assert.fail(`${spec.name}: --${f} (use --out)`);
      }
      if (/cache$/.test(f) && !["cache-dir", "teacher-cache", "onnx-cache"].includes(f)) {
        assert.fail(`${spec.name}: --${f} (use --cache-dir)`);
      }
    }
  }
});
