/**
 * What a broadcast load costs on this adapter: the inner loop of a register-blocked matmul (every vec4 read
 * from memory feeds 32 FMAs: eight per-invocation scalars times four components) with the vec4 read five
 * ways, and the fixed cost of one dispatch. Prints one JSON object.
 *
 *   deno run -A bench/uniform_loads.ts [--iters 8192] [--reps 3]
 *
 * Load kinds (the address is the same for every invocation in all five; only how the compiler can see that
 * differs):
 * - `uniform_loop`: uniform buffer, index from the loop counter (how matmul_bcast*.wgsl read their window).
 * - `storage_loop`: storage buffer, same index.
 * - `uniform_const`: uniform buffer, compile-time-constant index (the block is unrolled; every iteration
 *   reads the same 16 vec4s).
 * - `uniform_partly_const`: uniform buffer, loop counter plus an unrolled constant.
 * - `storage_partly_const`: storage buffer, the same.
 *
 * On llvmpipe (Mesa 25.0) only the constant-index uniform load becomes one scalar load per SIMD vector; the
 * others are per-lane loads or gathers, and the FMAs wait on them. `dispatch_us` is the wall time of one
 * near-empty dispatch when a thousand are submitted at once: the floor on any kernel that is split into
 * many dispatches. Keep --iters large: waiting for a submission to finish costs about 10 ms on lavapipe, so
 * a dispatch must run far longer than that to be timed (8192 iterations take 40–120 ms here).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "../lib/cli/args.ts";
import { runMain } from "../lib/cli/main.ts";
import { Gpu, type Kernel, Uniforms, type View } from "../lib/gpu/runtime.ts";

/** Invocations per workgroup and workgroups per dispatch. */
const WG_SIZE = 8;
const GROUPS = 64;
/** vec4 loads per loop iteration, each feeding 8 vec4 FMAs. */
const LOADS = 16;
const REGS = [0, 1, 2, 3, 4, 5, 6, 7];
/** Dispatches submitted at once to time one. */
const DISPATCHES = 1000;

/**
 * The kernel for one load kind. Bindings: 0 p {n}; 1 u (4096 vec4) uniform; 2 s (4096 vec4) storage; 3 o
 * (GROUPS·WG_SIZE·8 vec4) read_write: each invocation's eight register scalars in, its sum out.
 */
function kernel(name: string, load: (index: string) => string, unrolled: boolean): Kernel {
  // acc_j += v · r_{(j+q) mod 8}: no two loads share a multiplier pattern, so no sum can be factored out.
  const fmas = (q: string | number) =>
    REGS.map((j) =>
      typeof q === "number" ? `a${j} += v * r${(j + q) % 8};` : `a${j} += v * r${j}; r${j} = r${(j + 1) % 8};`
    ).join(" ");
  const body = unrolled
    ? Array.from({ length: LOADS }, (_, q) => `{ let v = ${load(`${q}u`)}; ${fmas(q)} }`).join("\n    ")
    : `for (var q = 0u; q < ${LOADS}u; q++) { let v = ${load(`(it * ${LOADS}u + q) % 4096u`)}; ${
      fmas("q")
    } }`;
  const code = `
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<uniform> u: array<vec4<f32>, 4096>;
@group(0) @binding(2) var<storage, read> s: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> o: array<vec4<f32>>;
@compute @workgroup_size(${WG_SIZE})
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  ${REGS.map((j) => `var r${j} = o[g.x * 8u + ${j}u].x; var a${j} = vec4<f32>(0.0);`).join("\n  ")}
  for (var it = 0u; it < p.n; it++) {
    ${body}
  }
  if (g.x == 0xffffffffu) { o[1] = u[0] + s[0]; } // keeps both buffers in the layout
  o[g.x * 8u] = ${REGS.map((j) => `a${j}`).join(" + ")};
}`;
  return { name: `bench_uniform_loads_${name}`, code };
}

const KINDS: Kernel[] = [
  kernel("uniform_loop", (i) => `u[${i}]`, false),
  kernel("storage_loop", (i) => `s[${i}]`, false),
  kernel("uniform_const", (i) => `u[${i}]`, true),
  kernel("uniform_partly_const", (i) => `u[(it * ${LOADS}u + ${i}) % 4096u]`, true),
  kernel("storage_partly_const", (i) => `s[(it * ${LOADS}u + ${i}) % 4096u]`, true),
];

/** Best of `reps` wall times of `fn`, in ms. */
async function best(reps: number, fn: () => Promise<void>): Promise<number> {
  let ms = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { iters: { type: "string", default: "8192" }, reps: { type: "string", default: "3" } },
  });
  const iters = Number(values.iters);
  const reps = Number(values.reps);
  if (!Number.isInteger(iters) || iters < 1 || !Number.isInteger(reps) || reps < 1) {
    throw new UsageError("--iters and --reps must be positive integers");
  }
  const gpu = await Gpu.create();
  const views: View[] = [
    { buffer: gpu.uniformBuffer(65536, "broadcast block"), offset: 0, size: 65536 },
    gpu.tensor(4096 * 4, "broadcast block"),
    gpu.tensor(GROUPS * WG_SIZE * 8 * 4, "registers and sums"),
  ];
  /** Records `count` dispatches of `k` with p.n = n over `groups` workgroups, then waits for them. */
  const run = async (k: Kernel, n: number, groups: number, count: number) => {
    for (let i = 0; i < count; i++) gpu.dispatch(k, new Uniforms().u32(n), views, [groups]);
    await gpu.sync();
  };

  const flops = GROUPS * WG_SIZE * iters * LOADS * 32 * 2;
  const gflops: Record<string, number> = {};
  for (const k of KINDS) {
    // The first run compiles; a shader the device rejects must not be timed as if it ran.
    gpu.device.pushErrorScope("validation");
    await run(k, iters, GROUPS, 1);
    const error = await gpu.device.popErrorScope();
    if (error) throw new Error(`${k.name}: ${error.message}`);
    const ms = await best(reps, () => run(k, iters, GROUPS, 1));
    gflops[k.name.replace("bench_uniform_loads_", "")] = Number((flops / ms / 1e6).toFixed(1));
  }
  const dispatchMs = await best(reps, () => run(KINDS[0], 0, 2, DISPATCHES)) / DISPATCHES;
  console.log(JSON.stringify({
    adapter: gpu.adapterName,
    iters,
    gflops,
    dispatch_us: Number((dispatchMs * 1000).toFixed(1)),
  }));
}

if (import.meta.main) await runMain(main);
