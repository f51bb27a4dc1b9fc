/**
 * Every task runs in a sandbox (deno.json): read access, writes only under runs/ and .cache/ (compile:
 * dist/), no network, no subprocesses (compile: `deno` only), FFI (scoped to node_modules) exactly where
 * onnxruntime-node is loaded, environment access only to GPT2_DEBUG. The tests read the permissions from
 * deno.json and run tasks through those same command lines.
 */
import assert from "node:assert/strict";
import { saveModelDir } from "../../lib/model/model_dir.ts";
import { initParams, paramLayout } from "../../lib/model/params.ts";
import { validateConfig } from "../../lib/model/config.ts";
import { denoRunTasks, importGraph, runTask, task, type TaskRun } from "./_tasks.ts";

const WRITABLE = new Set(["./runs", "./.cache"]);

Deno.test("deno.json: no task may use the network, run programs, or write outside runs/ and .cache/", async () => {
  const tasks = await denoRunTasks();
  assert.ok(tasks.length >= 10, `only ${tasks.length} tasks found`);
  for (const t of tasks) {
    const allow = t.allow;
    assert.ok(!allow.has("all") && !allow.has("net") && !allow.has("sys"), `${t.name}: ${t.words.join(" ")}`);
    assert.ok(!allow.has("import"), `${t.name} may import from the network`);
    if (allow.has("run")) {
      assert.equal(t.name, "compile", `${t.name} may run programs`);
      assert.equal(allow.get("run"), "deno");
    }
    if (allow.has("write")) {
      const scopes = allow.get("write")!.split(",");
      assert.ok(allow.get("write") !== "", `${t.name} may write anywhere`);
      const allowed = t.name === "compile" ? new Set(["./dist"]) : WRITABLE;
      for (const s of scopes) assert.ok(allowed.has(s), `${t.name} may write to ${s}`);
    }
    if (allow.has("env")) {
      assert.equal(allow.get("env"), "GPT2_DEBUG", `${t.name} reads other environment variables`);
    }
    if (allow.has("ffi")) assert.equal(allow.get("ffi"), "./node_modules", `${t.name}: unscoped --allow-ffi`);
  }
});

Deno.test("deno.json: FFI is granted exactly to the tasks whose code loads onnxruntime-node", async () => {
  for (const t of await denoRunTasks()) {
    assert.ok(t.script, `${t.name} runs no tasks/*.ts script`);
    const { bare } = await importGraph(t.script);
    assert.equal(
      t.allow.has("ffi"),
      bare.has("onnxruntime-node"),
      `${t.name}: --allow-ffi ${t.allow.has("ffi") ? "granted" : "missing"}, onnxruntime-node ${
        bare.has("onnxruntime-node") ? "loaded" : "not loaded"
      }`,
    );
  }
});

/** The only stderr line, checked to be Deno's denied write reported by runMain with the task's hint. */
function deniedWriteLine(r: TaskRun, path: string): string {
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(r.code, 1, r.stderr);
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  const line = lines[0];
  assert.match(line, /^error: permission denied: write access to "/);
  assert.ok(line.includes(path), line);
  assert.match(line, /runs\//, `the line does not say where the task may write: ${line}`);
  return line;
}

Deno.test("deno task train cannot write outside runs/: it stops with one clear line and creates nothing", async () => {
  const outside = await Deno.makeTempDir({ prefix: "sandbox-train-" });
  const target = `${outside}/run`;
  const r = await runTask(await task("train"), [
    "--out",
    target,
    "--steps",
    "1",
    "--batch",
    "1",
    "--seq",
    "8",
  ]);
  const line = deniedWriteLine(r, target);
  assert.match(line, /--out/, line);
  assert.equal(await Deno.stat(target).then(() => true, () => false), false, "the run folder was created");
  await Deno.remove(outside, { recursive: true });
});

Deno.test("deno task demo and deno task export cannot write outside runs/ either", async () => {
  const outside = await Deno.makeTempDir({ prefix: "sandbox-demo-" });
  try {
    const demo = await runTask(await task("demo"), ["--out", `${outside}/demo`]);
    deniedWriteLine(demo, `${outside}/demo`);

    // A model folder outside runs/: export would write onnx/ into it.
    const config = validateConfig({ vocab_size: 67, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 });
    const layout = paramLayout(config);
    await saveModelDir(`${outside}/model`, config, layout, initParams(config, layout, 1));
    const exp = await runTask(await task("export"), ["--model", `${outside}/model`]);
    deniedWriteLine(exp, `${outside}/model`);
    assert.equal(await Deno.stat(`${outside}/model/onnx`).then(() => true, () => false), false);
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});
