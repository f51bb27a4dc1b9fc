/**
 * Test helpers: a shared GPU device, tolerance checks in the llm.c style (|a − e| ≤ atol + rtol·|e|,
 * printing the first mismatches and the largest difference), and finite differences in float64.
 *
 * @module
 */
import { Gpu } from "../lib/gpu/runtime.ts";

let shared: Promise<Gpu> | null = null;

/** One device for the whole test process; creating a device per test is slow on lavapipe. */
export function testGpu(): Promise<Gpu> {
  shared ??= Gpu.create();
  return shared;
}

/** Tolerances for `assertClose`. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Throws with the first mismatches and the largest difference when any element is out of tolerance. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  label = "tensor",
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length} != expected ${expected.length}`);
  }
  let bad = 0;
  let maxDiff = 0;
  const lines: string[] = [];
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const diff = Math.abs(a - e);
    if (!(diff <= tol.atol + tol.rtol * Math.abs(e))) {
      if (bad < 5) lines.push(`  [${i}] got ${a}, expected ${e} (diff ${diff})`);
      bad++;
    }
    if (diff > maxDiff || Number.isNaN(diff)) maxDiff = Number.isNaN(diff) ? NaN : diff;
  }
  if (bad > 0) {
    throw new Error(
      `${label}: ${bad}/${actual.length} elements outside atol ${tol.atol} + rtol ${tol.rtol}, ` +
        `max diff ${maxDiff}\n${lines.join("\n")}`,
    );
  }
}

/**
 * Central finite difference of a scalar function `f(x)` with respect to every element of `x` in float64,
 * used to check the references' backward passes.
 */
export function finiteDifference(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i];
    x[i] = saved + h;
    const up = f(x);
    x[i] = saved - h;
    const down = f(x);
    x[i] = saved;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}
