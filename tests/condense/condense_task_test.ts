/**
 * `deno task condense` as a process: a run writes the file and prints the sidecar with --json, and bad
 * input exits with one `error:` line (code 1) or a usage error (code 2). Needs --allow-run (deno task
 * test grants it); skipped otherwise.
 */
import assert from "node:assert/strict";
import { topicCorpus, workspace } from "./_helpers.ts";
import { type DenoRun, denoRun } from "../_deno_run.ts";

const TASK = new URL("../../tasks/condense.ts", import.meta.url).pathname;
const canRun = Deno.permissions.querySync({ name: "run" }).state === "granted";

async function run(args: string[]): Promise<DenoRun> {
  return await denoRun(["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", TASK, ...args]);
}

Deno.test({
  name: "condense task writes k examples, reports timings as JSON, and fails bad input in one line",
  ignore: !canRun,
  async fn() {
    const ws = await workspace(topicCorpus(60));
    try {
      const common = ["--data", ws.data, "--seq", "16", "--cache-dir", ws.cache, "--out", ws.out];
      const ok = await run([...common, "--k", "4", "--json"]);
      assert.equal(ok.code, 0, ok.stderr);
      const meta = JSON.parse(ok.stdout.trim());
      assert.equal(meta.method, "kmeans");
      assert.equal(meta.k, 4);
      assert.ok(meta.timings.embed_ms >= 0 && meta.timings.cluster_ms >= 0);
      assert.equal((await Deno.readTextFile(ws.out)).trim().split("\n").length, 4);

      const tooMany = await run([...common, "--k", "100000"]);
      assert.equal(tooMany.code, 1);
      const lines = tooMany.stderr.trim().split("\n").filter((l) => l.startsWith("error:"));
      assert.equal(lines.length, 1, tooMany.stderr);
      assert.match(lines[0], /^error: k = 100000 is larger than the number of 16-token blocks/);

      const usage = await run([...common, "--method", "best"]);
      assert.equal(usage.code, 2, usage.stderr);
      assert.match(usage.stderr, /--method/);
    } finally {
      await Deno.remove(ws.dir, { recursive: true });
    }
  },
});
