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

function args() {
  try {
    return parseArgs({
      options: { iters: { type: "string", default: "8192" }, reps: { type: "string", default: "3" } },
    }).values;
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(2);
  }
}
const values = args();
const ITERS = Number(values.iters);
const REPS = Number(values.reps);
if (!Number.isInteger(ITERS) || ITERS < 1 || !Number.isInteger(REPS) || REPS < 1) {
  console.error("error: --iters and --reps must be positive integers");
  Deno.exit(2);
}

const adapter = await navigator.gpu.requestAdapter();
if (!adapter) {
  console.error("error: no WebGPU adapter (install mesa-vulkan-drivers for lavapipe)");
  Deno.exit(1);
}
const device = await adapter.requestDevice();

/** Invocations per workgroup and workgroups per dispatch. */
const WG_SIZE = 8;
const GROUPS = 64;
/** vec4 loads per loop iteration, each feeding 8 vec4 FMAs. */
const LOADS = 16;
const REGS = [0, 1, 2, 3, 4, 5, 6, 7];

/**
 * The kernel for one load kind. Bindings: 0 u (4096 vec4) uniform; 1 s (4096 vec4) storage; 2 o
 * (GROUPS·WG_SIZE·8 vec4) read_write: each invocation's eight register scalars in, its sum out; 3 p {n}.
 */
function kernel(load: (index: string) => string, unrolled: boolean): string {
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
  return `
@group(0) @binding(0) var<uniform> u: array<vec4<f32>, 4096>;
@group(0) @binding(1) var<storage, read> s: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> o: array<vec4<f32>>;
struct P { n: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(${WG_SIZE})
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  ${REGS.map((j) => `var r${j} = o[g.x * 8u + ${j}u].x; var a${j} = vec4<f32>(0.0);`).join("\n  ")}
  for (var it = 0u; it < p.n; it++) {
    ${body}
  }
  if (g.x == 0xffffffffu) { o[1] = u[0] + s[0]; } // keeps both buffers in the layout
  o[g.x * 8u] = ${REGS.map((j) => `a${j}`).join(" + ")};
}`;
}

const KINDS: Record<string, string> = {
  uniform_loop: kernel((i) => `u[${i}]`, false),
  storage_loop: kernel((i) => `s[${i}]`, false),
  uniform_const: kernel((i) => `u[${i}]`, true),
  uniform_partly_const: kernel((i) => `u[(it * ${LOADS}u + ${i}) % 4096u]`, true),
  storage_partly_const: kernel((i) => `s[(it * ${LOADS}u + ${i}) % 4096u]`, true),
};

const buffer = (size: number, usage: number) => device.createBuffer({ size, usage });
const uniformBuf = buffer(65536, GPUBufferUsage.UNIFORM);
const storageBuf = buffer(65536, GPUBufferUsage.STORAGE);
const outBuf = buffer(GROUPS * WG_SIZE * 8 * 16, GPUBufferUsage.STORAGE);
const paramsBuf = buffer(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);

/** Compiles `code` and returns a function that submits `count` dispatches of `groups` and waits. */
function prepare(code: string, groups: number): (count: number) => Promise<void> {
  const pipeline = device.createComputePipeline({
    layout: "auto",
    compute: { module: device.createShaderModule({ code }), entryPoint: "main" },
  });
  const resources = [uniformBuf, storageBuf, outBuf, paramsBuf];
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: resources.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  return async (count) => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    for (let i = 0; i < count; i++) pass.dispatchWorkgroups(groups);
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
}

/** Best of REPS wall times of `fn`, in ms. */
async function best(fn: () => Promise<void>): Promise<number> {
  let ms = Infinity;
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    await fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

device.queue.writeBuffer(paramsBuf, 0, new Uint32Array([ITERS, 0, 0, 0]));
const flops = GROUPS * WG_SIZE * ITERS * LOADS * 32 * 2;
const gflops: Record<string, number> = {};
for (const [name, code] of Object.entries(KINDS)) {
  device.pushErrorScope("validation");
  const run = prepare(code, GROUPS);
  await run(1); // compiles
  const error = await device.popErrorScope();
  if (error) throw new Error(`${name}: ${error.message}`);
  gflops[name] = Number((flops / (await best(() => run(1))) / 1e6).toFixed(1));
}

device.queue.writeBuffer(paramsBuf, 0, new Uint32Array([0, 0, 0, 0]));
const empty = prepare(KINDS.uniform_loop, 2);
await empty(1);
const DISPATCHES = 1000;
const dispatchUs = (await best(() => empty(DISPATCHES))) * 1000 / DISPATCHES;

console.log(JSON.stringify({
  adapter: adapter.info.description || adapter.info.vendor || "unknown adapter",
  iters: ITERS,
  gflops,
  dispatch_us: Number(dispatchUs.toFixed(1)),
}));
