import assert from "node:assert/strict";
import { type DenoRun, denoRun } from "../_deno_run.ts";

const TRAIN = new URL("../../tasks/train.ts", import.meta.url).pathname;
const EVAL = new URL("../../tasks/eval.ts", import.meta.url).pathname;
const PERMS = ["--allow-read", "--allow-write", "--allow-env"];
/** A small, fast run: the tiny preset on the embedded corpus. */
const BASE = [
  "--config",
  "tiny",
  "--batch",
  "2",
  "--seq",
  "16",
  "--eval-every",
  "0",
  "--eval-batches",
  "2",
  "--json",
];

async function run(script: string, args: string[]): Promise<DenoRun> {
  return await denoRun([...PERMS, script, ...args]);
}

function stepLosses(stdout: string): Map<number, number> {
  const losses = new Map<number, number>();
  for (const line of stdout.split("\n").filter((l) => l.startsWith("{"))) {
    const j = JSON.parse(line);
    if (j.loss !== undefined && j.step !== undefined && j.event === undefined) losses.set(j.step, j.loss);
  }
  return losses;
}

Deno.test("train: two --no-shuffle runs with the same seed give identical losses, and the loss falls", async () => {
  const dir = await Deno.makeTempDir();
  const args = [...BASE, "--steps", "8", "--no-shuffle", "--lr", "3e-3", "--warmup", "0", "--seed", "3"];
  const a = await run(TRAIN, [...args, "--out", `${dir}/a`]);
  assert.equal(a.code, 0, a.stderr);
  const b = await run(TRAIN, [...args, "--out", `${dir}/b`]);
  assert.equal(b.code, 0, b.stderr);
  const la = stepLosses(a.stdout);
  const lb = stepLosses(b.stdout);
  assert.equal(la.size, 8);
  assert.deepEqual([...la.entries()], [...lb.entries()]);
  assert.ok(la.get(8)! < la.get(1)! - 0.5, `loss did not fall: ${la.get(1)} → ${la.get(8)}`);
  // Every step line carries the contract's fields.
  const first = JSON.parse(a.stdout.split("\n").find((l) => l.includes('"step"'))!);
  for (const k of ["step", "loss", "lr", "tokens_per_s"]) assert.ok(k in first, `missing ${k}`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train: a run killed mid-way and resumed gives the same losses as one that was not", async () => {
  const dir = await Deno.makeTempDir();
  const args = [
    ...BASE,
    "--steps",
    "6",
    "--save-every",
    "2",
    "--seed",
    "5",
    "--schedule",
    "cosine",
    "--warmup",
    "2",
  ];
  const whole = await run(TRAIN, [...args, "--out", `${dir}/whole`]);
  assert.equal(whole.code, 0, whole.stderr);

  // Start the same run, kill it (SIGKILL, no cleanup) once a checkpoint exists, then resume.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, TRAIN, ...args, "--out", `${dir}/cut`],
    stdout: "null",
    stderr: "null",
    env: { XDG_RUNTIME_DIR: "/tmp" },
  }).spawn();
  const state = `${dir}/cut/checkpoint/state.json`;
  for (let i = 0; i < 600; i++) {
    const exists = await Deno.stat(state).then(() => true, () => false);
    if (exists) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  await child.status;
  const savedStep = JSON.parse(await Deno.readTextFile(state)).step;
  assert.ok(savedStep >= 2 && savedStep < 6, `checkpoint at step ${savedStep}`);

  const resumed = await run(TRAIN, [...args, "--out", `${dir}/cut`, "--resume"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const lw = stepLosses(whole.stdout);
  const lr = stepLosses(resumed.stdout);
  assert.equal(Math.min(...lr.keys()), savedStep + 1);
  for (const [step, loss] of lr) assert.equal(loss, lw.get(step), `step ${step}`);
  // The metrics file holds every step exactly once.
  const metrics = (await Deno.readTextFile(`${dir}/cut/metrics.jsonl`)).split("\n").filter(Boolean).map((l) =>
    JSON.parse(l)
  ).filter((m) => m.event === "step");
  assert.deepEqual(metrics.map((m) => m.step), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(metrics.map((m) => m.loss), [...lw.values()]);

  // A saved model evaluates identically twice (load → eval is deterministic and equals itself).
  const e1 = await run(EVAL, ["--model", `${dir}/cut/model`, "--seq", "16", "--json"]);
  const e2 = await run(EVAL, ["--model", `${dir}/whole/model`, "--seq", "16", "--json"]);
  assert.equal(e1.code, 0, e1.stderr);
  assert.deepEqual(JSON.parse(e1.stdout).nll, JSON.parse(e2.stdout).nll);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train: bad input fails with one line and a non-zero exit before writing anything", async () => {
  const dir = await Deno.makeTempDir();
  const empty = `${dir}/empty.txt`;
  await Deno.writeTextFile(empty, "");
  const cases: [string[], RegExp][] = [
    [["--stpes", "3"], /unknown flag --stpes/],
    [["--steps", "0"], /--steps/],
    [["--lr", "-1"], /--lr/],
    [["--seq", "4096"], /n_positions/],
    [["--config", "nope"], /neither a preset/],
    [["--data", empty], /no text|empty/],
    [["--data", `${dir}/missing.txt`], /not found/],
    [["--init", dir], /config\.json|not found/],
    [["--resume"], /no checkpoint/],
  ];
  for (const [args, pattern] of cases) {
    const r = await run(TRAIN, ["--out", `${dir}/out`, "--steps", "2", ...args]);
    assert.notEqual(r.code, 0, args.join(" "));
    const lines = r.stderr.split("\n").filter((l) => l.trim() && !l.includes("XDG_RUNTIME_DIR"));
    assert.equal(lines.length, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(lines[0], pattern, args.join(" "));
    assert.ok(!lines[0].includes("    at "), "no stack trace");
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("eval and generate: bad input fails with one line and a non-zero exit", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/m`);
  await Deno.writeTextFile(
    `${dir}/m/config.json`,
    JSON.stringify({
      model_type: "gpt2",
      vocab_size: 50257,
      n_positions: 64,
      n_embd: 32,
      n_layer: 1,
      n_head: 2,
    }),
  );
  await Deno.writeFile(`${dir}/m/model.safetensors`, new Uint8Array([1, 2, 3]));
  const GENERATE = new URL("../../tasks/generate.ts", import.meta.url).pathname;
  const cases: [string, string[], RegExp][] = [
    [EVAL, [], /--model/],
    [EVAL, ["--model", `${dir}/nope`], /not found|nope/],
    [EVAL, ["--model", `${dir}/m`], /safetensors/],
    [EVAL, ["--model", `${dir}/m`, "--seq", "0"], /--seq/],
    [GENERATE, ["--model", `${dir}/m`, "--prompt", ""], /prompt/],
    [GENERATE, ["--model", `${dir}/m`, "--prompt", "x", "--top-p", "1.5"], /--top-p/],
    [GENERATE, ["--model", `${dir}/m`, "--prompt", "x", "--temprature", "1"], /unknown flag/],
  ];
  for (const [script, args, pattern] of cases) {
    const r = await run(script, args);
    assert.notEqual(r.code, 0, args.join(" "));
    const lines = r.stderr.split("\n").filter((l) => l.trim() && !l.includes("XDG_RUNTIME_DIR"));
    assert.equal(lines.length, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(lines[0], pattern, args.join(" "));
  }
  await Deno.remove(dir, { recursive: true });
});
