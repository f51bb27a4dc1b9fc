import assert from "node:assert/strict";
import {
  breakProgressLine,
  formatBar,
  formatCount,
  formatDuration,
  formatProgressLine,
  formatRate,
  formatValue,
  Progress,
} from "../../lib/cli/progress.ts";

Deno.test("formatCount() keeps three significant digits with k/M/G suffixes", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [7, "7"],
    [999, "999"],
    [0.25, "0.25"],
    [3.14159, "3.1"],
    [12.34, "12.3"],
    [99.97, "100"],
    [999.7, "1.0k"],
    [1000, "1.0k"],
    [1234, "1.2k"],
    [56_700, "56.7k"],
    [99_960, "100k"],
    [999_960, "1.0M"],
    [1_234_567, "1.2M"],
    [3.5e9, "3.5G"],
    [-2500, "-2.5k"],
    [NaN, "?"],
  ];
  for (const [n, expected] of cases) assert.equal(formatCount(n), expected, `formatCount(${n})`);
});

Deno.test("formatRate() shows units per second, or seconds per unit below one per second", () => {
  assert.equal(formatRate(1234, "tok"), "1.2k tok/s");
  assert.equal(formatRate(3.4, "step"), "3.4 step/s");
  assert.equal(formatRate(0.08, "step"), "12.5 s/step");
  assert.equal(formatRate(0.001, "step"), "1.0k s/step");
  assert.equal(formatRate(NaN, "tok"), "? tok/s");
  assert.equal(formatRate(0, "tok"), "? tok/s");
});

Deno.test("formatDuration() writes seconds, minutes, hours and days compactly", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [7.4, "7s"],
    [59.6, "1m00s"],
    [192, "3m12s"],
    [3599, "59m59s"],
    [3900, "1h05m"],
    [200_000, "2d07h"],
    [Infinity, "?"],
    [NaN, "?"],
    [-1, "?"],
  ];
  for (const [s, expected] of cases) assert.equal(formatDuration(s), expected, `formatDuration(${s})`);
});

Deno.test("formatBar() fills proportionally with eighth blocks or ASCII, clamped to [0, 1]", () => {
  assert.equal(formatBar(0.5, 4, true), "[##--]");
  assert.equal(formatBar(1.5, 4, true), "[####]");
  assert.equal(formatBar(-1, 4, true), "[----]");
  assert.equal(formatBar(0.5, 4), "│██  │");
  assert.equal(formatBar(0.5625, 2), "│█▏│");
  assert.equal(formatBar(1, 3), "│███│");
  for (const f of [0, 0.1, 0.33, 0.999, 1]) assert.equal([...formatBar(f, 10)].length, 12, `width at ${f}`);
});

Deno.test("formatValue() prints losses with 4 significant digits and small rates in exponent form", () => {
  assert.equal(formatValue(3.214159), "3.214");
  assert.equal(formatValue(6e-4), "6e-4");
  assert.equal(formatValue(6.25e-5), "6.25e-5");
  assert.equal(formatValue(0.001), "0.001");
  assert.equal(formatValue(3.2), "3.2");
  assert.equal(formatValue(1.25e7 + 0.5), "1.25e+7");
  assert.equal(formatValue(1.5e7), "15000000");
  assert.equal(formatValue(42), "42");
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue("warmup"), "warmup");
});

Deno.test("formatProgressLine() shows percent, bar, counts, rate, ETA and extra fields", () => {
  const line = formatProgressLine({
    label: "train",
    unit: "step",
    done: 42,
    total: 100,
    rate: 0.5,
    elapsedS: 84,
    extra: { loss: 3.21415, lr: 6e-4 },
    barWidth: 10,
    ascii: true,
  });
  assert.equal(
    line,
    "train   42%  [####------]  42/100 step  2.0 s/step  ETA 1m56s  loss 3.214  lr 6e-4",
  );
  const unknownTotal = formatProgressLine({
    unit: "tok",
    done: 12_345,
    rate: 2500,
    elapsedS: 5,
    barWidth: 10,
    ascii: true,
  });
  assert.equal(unknownTotal, "12.3k tok  2.5k tok/s");
  const finished = formatProgressLine({
    unit: "tok",
    done: 1000,
    total: 1000,
    rate: 100,
    elapsedS: 10,
    barWidth: 0,
    ascii: true,
    finished: true,
  });
  assert.equal(finished, "100%  1.0k/1.0k tok  100 tok/s  in 10s");
});

/** A Progress with a fake clock and captured output. */
function fake(tty: boolean, options: { intervalS?: number; smoothingS?: number } = {}) {
  let t = 0;
  const out: string[] = [];
  const progress = new Progress({
    total: 1000,
    label: "tok",
    unit: "tok",
    tty,
    barWidth: 4,
    write: (s) => out.push(s),
    now: () => t,
    ...options,
  });
  return { progress, out, advance: (ms: number) => (t += ms) };
}

Deno.test("Progress prints plain lines at most every intervalS seconds when not a terminal", () => {
  const { progress, out, advance } = fake(false, { intervalS: 10 });
  for (let i = 1; i <= 100; i++) {
    advance(1000); // one step per second, 10 tokens per step
    progress.update(i * 10, { loss: 5 - i / 100 });
  }
  // First update, then every 10 s: t = 1, 11, 21, ..., 91 → 10 lines.
  assert.equal(out.length, 10);
  assert.ok(out.every((l) => l.endsWith("\n") && !l.includes("\r")), "plain lines only");
  assert.equal(out[1], "tok   11%  [----]  110/1.0k tok  10 tok/s  ETA 1m29s  loss 4.89\n");
  progress.done();
  assert.equal(out.at(-2), "tok  100%  [####]  1.0k/1.0k tok  10 tok/s  in 1m40s  loss 4");
  assert.equal(out.at(-1), "\n");
  progress.update(5);
  progress.done();
  assert.equal(out.length, 12, "nothing after done()");
});

Deno.test("Progress redraws in place on a terminal, throttled, and log() keeps the line", () => {
  const { progress, out, advance } = fake(true);
  for (let i = 1; i <= 20; i++) {
    advance(30);
    progress.update(i * 10);
  }
  // Redraws at t = 30 and then whenever 100 ms have passed: 30, 150, 270, 390, 510 → 5 draws of 20 updates.
  assert.equal(out.length, 5);
  assert.ok(out.every((l) => l.startsWith("\r") && l.endsWith("\x1b[K") && !l.includes("\n")));
  progress.log("checkpoint saved");
  assert.equal(out[5], "\r\x1b[Kcheckpoint saved\n");
  assert.ok(out[6].startsWith("\r"), "line redrawn under the message");
  progress.done();
  assert.equal(out.at(-1), "\n");
});

Deno.test("Progress smooths the rate with a time-weighted EMA", () => {
  const { progress, advance } = fake(false, { smoothingS: 5 });
  advance(1000);
  progress.update(100);
  assert.equal(progress.unitsPerSecond, 100);
  // Calling more often must not change the estimate: 10 updates of 0.1 s ≈ 1 update of 1 s.
  const a = fake(false, { smoothingS: 5 });
  const b = fake(false, { smoothingS: 5 });
  for (const f of [a, b]) {
    f.advance(1000);
    f.progress.update(100);
  }
  for (let i = 1; i <= 10; i++) {
    a.advance(100);
    a.progress.update(100 + i * 20);
  }
  b.advance(1000);
  b.progress.update(300);
  const expected = 100 + (1 - Math.exp(-1 / 5)) * (200 - 100);
  assert.ok(Math.abs(b.progress.unitsPerSecond - expected) < 1e-9, `${b.progress.unitsPerSecond}`);
  assert.ok(Math.abs(a.progress.unitsPerSecond - expected) < 1e-9, `${a.progress.unitsPerSecond}`);
  // After many time constants the old rate is forgotten.
  for (let i = 1; i <= 60; i++) {
    advance(1000);
    progress.update(100 + i * 1000);
  }
  assert.ok(Math.abs(progress.unitsPerSecond - 1000) < 1, `${progress.unitsPerSecond}`);
});

Deno.test("breakProgressLine() ends a terminal line left open, once, and not after done()", () => {
  const { progress, out, advance } = fake(true);
  advance(10);
  progress.update(1);
  breakProgressLine();
  assert.equal(out.at(-1), "\n");
  breakProgressLine();
  assert.equal(out.length, 2, "a second call writes nothing");
  advance(200);
  progress.update(2);
  progress.done();
  const before = out.length;
  breakProgressLine();
  assert.equal(out.length, before);
});

Deno.test("Progress does nothing when disabled", () => {
  const out: string[] = [];
  const progress = new Progress({ total: 10, enabled: false, tty: false, write: (s) => out.push(s) });
  progress.update(5);
  progress.log("x");
  progress.done();
  assert.deepEqual(out, []);
});

Deno.test("Progress.update() is cheap enough to call every step", () => {
  const progress = new Progress({ total: 1e6, tty: false, write: () => {}, intervalS: 1e9 });
  const start = performance.now();
  for (let i = 0; i < 100_000; i++) progress.update(i, { loss: 1 });
  const perCallUs = (performance.now() - start) * 1000 / 100_000;
  assert.ok(perCallUs < 20, `${perCallUs.toFixed(2)} µs per update`);
});
