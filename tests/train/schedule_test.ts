import assert from "node:assert/strict";
import { learningRate } from "../../lib/train/schedule.ts";

Deno.test("learningRate() warms up linearly then follows HF's constant, linear and cosine decays", () => {
  const base = { lr: 1e-3, warmup: 10, total: 110 };
  assert.equal(learningRate({ ...base, name: "constant" }, 0), 0);
  assert.equal(learningRate({ ...base, name: "constant" }, 5), 5e-4);
  assert.equal(learningRate({ ...base, name: "constant" }, 50), 1e-3);
  assert.equal(learningRate({ ...base, name: "linear" }, 10), 1e-3);
  assert.ok(Math.abs(learningRate({ ...base, name: "linear" }, 60) - 5e-4) < 1e-12);
  assert.equal(learningRate({ ...base, name: "linear" }, 110), 0);
  assert.ok(Math.abs(learningRate({ ...base, name: "cosine" }, 60) - 5e-4) < 1e-12);
  assert.ok(learningRate({ ...base, name: "cosine" }, 110) < 1e-12);
  assert.equal(learningRate({ ...base, name: "cosine" }, 200), 0);
});
