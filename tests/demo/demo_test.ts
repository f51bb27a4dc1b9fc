import assert from "node:assert/strict";
import { resolveDemoData } from "../../lib/demo/data.ts";
import { checkDemoSettings, DEMO_DEFAULTS, resultSettings } from "../../lib/demo/settings.ts";
import { StageStore } from "../../lib/demo/stages.ts";
import { STUDENT_ARMS } from "../../lib/demo/arms.ts";

Deno.test("StageStore runs a stage once: a second store over the same folder returns the stored result without running it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "demo-stages-" });
  try {
    const lines: string[] = [];
    let runs = 0;
    const first = new StageStore(dir, 2, (l) => lines.push(l));
    const a = await first.run("teacher", "train the teacher", () => Promise.resolve({ steps: ++runs }));
    assert.deepEqual(a, { steps: 1 });
    // An interrupted stage leaves no result file and runs again.
    await assert.rejects(
      first.run("student-kd-s0", "distil", () => Promise.reject(new Error("killed"))),
      /killed/,
    );

    const second = new StageStore(dir, 2, (l) => lines.push(l));
    const b = await second.run("teacher", "train the teacher", () => Promise.resolve({ steps: ++runs }));
    assert.deepEqual(b, { steps: 1 });
    assert.equal(runs, 1);
    const c = await second.run("student-kd-s0", "distil", () => Promise.resolve("ran"));
    assert.equal(c, "ran");
    assert.deepEqual(second.timings().map((t) => [t.name, t.skipped]), [["teacher", true], [
      "student-kd-s0",
      false,
    ]]);
    assert.ok(
      lines.some((l) => /^\[1\/2\] train the teacher: done earlier \(\d+\.\d s\), skipped$/.test(l)),
      lines.join("\n"),
    );
    assert.equal(await second.stored("nothing"), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveDemoData() trains on valid and scores test in a folder without a train split", async () => {
  const dir = await Deno.makeTempDir({ prefix: "demo-data-" });
  try {
    await Deno.writeTextFile(`${dir}/valid.txt`, "valid text\n");
    await Deno.writeTextFile(`${dir}/test.txt`, "test text\n");
    const d = await resolveDemoData(dir);
    assert.equal(d.train, `${dir}/valid.txt`);
    assert.equal(d.valData, `${dir}/test.txt`);
    assert.deepEqual(d.test, { path: dir, split: "test" });
    assert.match(d.description, /no train split/);

    // With a train split, the folder's own splits are used.
    await Deno.writeTextFile(`${dir}/train.txt`, "train text\n");
    const full = await resolveDemoData(dir);
    assert.equal(full.train, dir);
    assert.equal(full.valData, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const embedded = await resolveDemoData("embedded");
  assert.deepEqual(embedded.test, { path: "embedded", split: "test" });
  await assert.rejects(resolveDemoData("/nonexistent/demo-data"), /not found/);
});

Deno.test("demo settings: the defaults pass their checks, and the recorded settings leave out only --out", () => {
  checkDemoSettings(DEMO_DEFAULTS);
  assert.throws(() => checkDemoSettings({ ...DEMO_DEFAULTS, evalTokens: 10 }), /--eval-tokens/);
  assert.throws(() => checkDemoSettings({ ...DEMO_DEFAULTS, prompt: " " }), /--prompt/);
  const r = resultSettings(DEMO_DEFAULTS) as Record<string, unknown>;
  assert.equal(r.out, undefined);
  assert.equal(Object.keys(r).length, Object.keys(DEMO_DEFAULTS).length - 1);
  assert.deepEqual(STUDENT_ARMS.map((a) => a.id), ["clm", "kd", "kd-mse", "kd-wd"]);
  assert.equal(STUDENT_ARMS[0].loss.alphaCe, 0, "the causal-LM student uses no teacher loss");
});
