/**
 * `deno task distill` flags: the DistilGPT2 recipe, explicit flags over the recipe, the optional value of
 * --init-from-teacher and the critic's penalty/clipping choice.
 */
import assert from "node:assert/strict";
import { parseFlags, UsageError } from "../../lib/cli/args.ts";
import { distillOptions, distillSpec, withOptionalValues } from "../../tasks/distill.ts";

function options(argv: string[]) {
  const { values, given } = parseFlags(distillSpec, withOptionalValues(argv));
  return distillOptions(values, given);
}

Deno.test("--preset distilgpt2 sets HF's DistilGPT2 recipe and explicit flags win", () => {
  const o = options(["--teacher", "gpt2", "--preset", "distilgpt2", "--steps", "1000"]);
  assert.deepEqual(
    [o.distill.temperature, o.distill.alphaCe, o.distill.alphaClm, o.distill.alphaCos, o.distill.alphaMse],
    [2, 5, 2, 1, 0],
  );
  const s = o.settings;
  assert.deepEqual([s.lr, s.eps, s.clip, s.weightDecay, s.schedule, s.warmup, s.gradAccum, s.batch], [
    2.5e-4,
    1e-6,
    5,
    0,
    "linear",
    50,
    50,
    5,
  ]);
  assert.equal(o.initFromTeacher, "default");
  const mine = options([
    "--teacher",
    "gpt2",
    "--preset",
    "distilgpt2",
    "--steps",
    "10",
    "--lr",
    "1e-3",
    "--alpha-cos",
    "0",
    "--grad-accum",
    "2",
    "--student",
    "small",
  ]);
  assert.equal(mine.settings.lr, 1e-3);
  assert.equal(mine.settings.gradAccum, 2);
  assert.equal(mine.settings.warmup, 1); // ⌈5% of 10⌉
  assert.equal(mine.distill.alphaCos, 0);
  assert.equal(mine.distill.alphaCe, 5);
  assert.equal(mine.initFromTeacher, undefined);
  // Without the recipe: HF distiller's defaults and the train task's.
  const plain = options(["--teacher", "t", "--student", "tiny"]);
  assert.deepEqual(
    [plain.distill.alphaCe, plain.distill.alphaClm, plain.settings.lr, plain.settings.warmup],
    [
      0.5,
      0.5,
      1e-3,
      10,
    ],
  );
  assert.equal(plain.out, "runs/distill");
});

Deno.test("--init-from-teacher takes an optional block list; critic settings are checked", () => {
  assert.deepEqual(withOptionalValues(["--init-from-teacher"]), ["--init-from-teacher", "default"]);
  assert.deepEqual(withOptionalValues(["--init-from-teacher", "--steps", "3"]), [
    "--init-from-teacher",
    "default",
    "--steps",
    "3",
  ]);
  assert.equal(options(["--teacher", "t", "--init-from-teacher", "0,2"]).initFromTeacher, "0,2");
  assert.equal(options(["--teacher", "t", "--init-from-teacher"]).initFromTeacher, "default");
  assert.equal(options(["--teacher", "t", "--critic-clip", "0.01"]).distill.gpLambda, 0);
  assert.equal(options(["--teacher", "t"]).distill.gpLambda, 10);
  assert.throws(() => options(["--teacher", "t", "--gp-lambda", "1", "--critic-clip", "0.01"]), UsageError);
  assert.throws(() => options(["--student", "tiny"]), /--teacher PATH is required/);
  assert.throws(() => options(["--teacher", "t", "--alpha-ce", "-1"]), /--alpha-ce must be >= 0/);
  assert.throws(() => options(["--teacher", "t", "--preset", "gpt3"]), /--preset must be one of distilgpt2/);
});
