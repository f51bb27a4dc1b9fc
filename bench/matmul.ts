/**
 * Matrix-multiply benchmark: numbered kernel versions (like llm.c's dev/cuda) on the shapes GPT-2 training
 * uses, printed as JSON (one object with every measurement).
 *
 *   deno run -A bench/matmul.ts [--shapes a,b] [--versions v1,v5] [--reps 3] [--block T,C] [--list]
 *
 * By default every shape with v2–v7 and the default choice; v1 (naive) is slow, ask for it explicitly.
 *
 * Versions:
 * - v1 naive: one output per invocation, scalar loads (lib/gpu/kernels/matmul_naive.wgsl).
 * - v2 register tile: 8 rows × 4 columns per invocation, A and B read as vec4, k unrolled by 4, no
 *   workgroup memory (the first lavapipe probe; NN with aligned shapes only, defined below).
 * - v3 tiled, looped, scalar access: the product kernel (64×64 tiles, 8×8 per invocation, K slabs of 32
 *   in workgroup memory) with one float per global access (lib/gpu/kernels/matmul_scalar.wgsl).
 * - v4 tiled, looped, vec4 access: the product's GPU variant (lib/gpu/kernels/matmul.wgsl `looped`).
 * - v5 tiled, chunked, vec4 access: one K slab per dispatch (lib/gpu/kernels/matmul.wgsl `chunk`), the
 *   product's default on llvmpipe.
 * - v6 bcast, vec4 access: A through a uniform buffer, a 64-deep slab of four rows of B in registers per
 *   invocation (lib/gpu/kernels/matmul_bcast.wgsl), and for TN and NN its mirror image with B in the
 *   uniform buffer (matmul_bcast_tn.wgsl).
 * - v7 subgroup, vec4 access: each lane loads an eighth of the broadcast row and subgroupBroadcast hands
 *   it to the others; a 64-deep slab of eight columns of op(B) in registers per invocation
 *   (lib/gpu/kernels/matmul_subgroup.wgsl). Needs the `subgroups` feature.
 * - default: whatever `matmul()` picks (`matmulVariant`).
 *
 * GFLOP/s counts 2·M·N·K per product. `cpuGflops` divides by the CPU time the process used instead of wall
 * time: on a shared CPU (lavapipe) it is the steadier number; per core, multiply by the thread count for
 * an idle machine. The lm_head shapes run the way lib/model/gpt2.ts does: the tied embedding wte (V, C)
 * bound in row parts and the logits (rows, Vp) in row chunks that fit one binding.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "../lib/cli/args.ts";
import { runMain } from "../lib/cli/main.ts";
import naiveCode from "../lib/gpu/kernels/matmul_naive.wgsl" with { type: "text" };
import { Gpu, type Kernel, rowParts, Uniforms, type View } from "../lib/gpu/runtime.ts";
import {
  type MatmulAccess,
  type MatmulArgs,
  matmulFlops,
  type MatmulVariant,
  matmulVariant,
  matmulWith,
} from "../lib/ops/matmul.ts";

/**
 * v2: the register-tiled kernel of the first lavapipe probe. out (M, N) = A (M, K) · B (K, N); requires
 * M % 8 == 0, N % 4 == 0, K % 4 == 0 and strides that are multiples of 4. Invocation: 8 rows × one vec4
 * column. Bindings: 0 params {M, N, K, lda4, ldb4, ldo4}, 1 out, 2 a, 3 b. Dispatch
 * (ceil(N/4/64), M/8).
 */
const REGTILE_WGSL = `
struct Params { M: u32, N: u32, K: u32, lda4: u32, ldb4: u32, ldo4: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> o: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let col = w.x * 64u + lid.x;
  let m0 = w.y * 8u;
  if (col >= p.N / 4u) { return; }
  var acc: array<vec4<f32>, 8>;
  for (var k = 0u; k < p.K; k += 4u) {
    let b0 = b[(k + 0u) * p.ldb4 + col];
    let b1 = b[(k + 1u) * p.ldb4 + col];
    let b2 = b[(k + 2u) * p.ldb4 + col];
    let b3 = b[(k + 3u) * p.ldb4 + col];
    for (var r = 0u; r < 8u; r++) {
      let av = a[(m0 + r) * p.lda4 + k / 4u];
      acc[r] += av.x * b0 + av.y * b1 + av.z * b2 + av.w * b3;
    }
  }
  for (var r = 0u; r < 8u; r++) { o[(m0 + r) * p.ldo4 + col] = acc[r]; }
}
`;

const naive: Kernel = { name: "bench_matmul_v1", code: naiveCode };
const regtile: Kernel = { name: "bench_matmul_v2", code: REGTILE_WGSL };

type Version = "v1" | "v2" | "v3" | "v4" | "v5" | "v6" | "v7" | "default";
const VERSIONS: Version[] = ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "default"];

/** Records one matmul with the given version; false when the version cannot run these arguments. */
function runVersion(gpu: Gpu, version: Version, args: MatmulArgs): boolean {
  const { M, N, K } = args;
  const transA = args.transA ?? false;
  const transB = args.transB ?? false;
  const ldOut = args.ldOut ?? N;
  const ldA = args.ldA ?? (transA ? M : K);
  const ldB = args.ldB ?? (transB ? K : N);
  switch (version) {
    case "v1": {
      const u = new Uniforms().u32(M).u32(N).u32(K).u32(ldA).u32(ldB).u32(ldOut)
        .u32(transA ? 1 : 0).u32(transB ? 1 : 0).u32(args.accumulate ? 1 : 0).u32(args.bias ? 1 : 0);
      gpu.dispatch(naive, u, [args.out, args.a, args.b, args.bias ?? args.a], [
        Math.ceil(N / 16),
        Math.ceil(M / 16),
      ]);
      return true;
    }
    case "v2": {
      const aligned = [N, K, ldA, ldB, ldOut].every((x) => x % 4 === 0) && M % 8 === 0;
      if (transA || transB || args.accumulate || args.bias || !aligned) return false;
      const u = new Uniforms().u32(M).u32(N).u32(K).u32(ldA / 4).u32(ldB / 4).u32(ldOut / 4);
      gpu.dispatch(regtile, u, [args.out, args.a, args.b], [Math.ceil(N / 4 / 64), M / 8]);
      return true;
    }
    case "v7":
      if (!gpu.hasSubgroups) return false;
      try {
        matmulWith(gpu, args, "subgroup", "vec4");
      } catch {
        return false; // vec4 access impossible for these strides
      }
      return true;
    case "v3":
    case "v4":
    case "v5":
    case "v6": {
      const variant: MatmulVariant = version === "v6" ? "bcast" : version === "v5" ? "chunked" : "looped";
      const access: MatmulAccess = version === "v3" ? "scalar" : "vec4";
      try {
        matmulWith(gpu, args, variant, access);
      } catch {
        return false; // vec4 access impossible for these strides
      }
      return true;
    }
    case "default":
      matmulWith(gpu, args, matmulVariant(gpu, M, N, K, transA, transB));
      return true;
  }
}

/** A benchmark problem: records its matmuls with a version; flops per run. */
interface Shape {
  name: string;
  flops: number;
  /** Records every matmul of one run; false when the version cannot run it. */
  run(gpu: Gpu, version: Version): boolean;
}

/** One plain matmul with freshly allocated operands (filled with a constant so NaNs cannot slow anything). */
function plain(
  gpu: Gpu,
  name: string,
  args: Omit<MatmulArgs, "out" | "a" | "b" | "bias"> & { bias?: boolean },
): Shape {
  const { M, N, K } = args;
  const [rowsA, colsA] = args.transA ? [K, M] : [M, K];
  const [rowsB, colsB] = args.transB ? [N, K] : [K, N];
  const full: MatmulArgs = {
    ...args,
    out: filled(gpu, M * (args.ldOut ?? N)),
    a: filled(gpu, rowsA * (args.ldA ?? colsA)),
    b: filled(gpu, rowsB * (args.ldB ?? colsB)),
    bias: args.bias ? filled(gpu, N) : null,
  };
  return { name, flops: matmulFlops(M, N, K), run: (g, v) => runVersion(g, v, full) };
}

function filled(gpu: Gpu, floats: number): View {
  const view = gpu.tensor(floats);
  gpu.write(view, new Float32Array(floats).fill(0.01));
  return view;
}

/**
 * The three lm_head products for `rows` tokens, as lib/model/gpt2.ts issues them: wte (V, C) in row parts,
 * logits (rows, Vp) in row chunks that fit one binding.
 */
function lmHead(gpu: Gpu, kind: "NT" | "NN" | "TN", rows: number, C: number): Shape {
  const V = 50257;
  const Vp = 50304;
  const wte = filled(gpu, V * C);
  const parts = rowParts(gpu, wte, V, C);
  const dwte = filled(gpu, V * C);
  const dparts = rowParts(gpu, dwte, V, C);
  const chunkRows = Math.min(rows, Math.floor(gpu.maxBinding / (Vp * 4) / 64) * 64);
  const logits = filled(gpu, chunkRows * Vp);
  const x = filled(gpu, rows * C);
  const dx = filled(gpu, rows * C);
  const name = {
    NT: `lm_head NT logits = x·wteᵀ (M=${rows} N=${V} K=${C})`,
    NN: `lm_head NN dx = dlogits·wte (M=${rows} N=${C} K=${V})`,
    TN: `lm_head TN dwte += dlogitsᵀ·x (M=${V} N=${C} K=${rows})`,
  }[kind];
  const run = (g: Gpu, version: Version) => {
    for (let r0 = 0; r0 < rows; r0 += chunkRows) {
      const n = Math.min(chunkRows, rows - r0);
      const xs = g.slice(x, r0 * C, n * C);
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i];
        const cols = g.slice(logits, part.row0, (n - 1) * Vp + part.rows);
        const args: MatmulArgs = kind === "NT"
          ? { out: cols, a: xs, b: part.view, M: n, N: part.rows, K: C, transB: true, ldOut: Vp }
          : kind === "NN"
          ? {
            out: g.slice(dx, r0 * C, n * C),
            a: cols,
            b: part.view,
            M: n,
            N: C,
            K: part.rows,
            ldA: Vp,
            accumulate: i > 0,
          }
          : {
            out: dparts[i].view,
            a: cols,
            b: xs,
            M: part.rows,
            N: C,
            K: n,
            transA: true,
            ldA: Vp,
            accumulate: true,
          };
        if (!runVersion(g, version, args)) return false;
      }
    }
    return true;
  };
  return { name, flops: matmulFlops(rows, V, C), run };
}

/**
 * Every benchmark shape, by key. The block shapes are those of a model of width C trained on T tokens per
 * step (B·T): by default the tiny preset's 512 and 128, `--block 1024,256` for the small preset.
 */
function shapes(gpu: Gpu, T = 512, C = 128): Record<string, () => Shape> {
  return {
    "lm_nt": () => lmHead(gpu, "NT", 512, 128),
    "lm_nn": () => lmHead(gpu, "NN", 512, 128),
    "lm_tn": () => lmHead(gpu, "TN", 512, 128),
    "lm_nt_1024": () => lmHead(gpu, "NT", 1024, 256),
    "lm_nn_1024": () => lmHead(gpu, "NN", 1024, 256),
    "lm_tn_1024": () => lmHead(gpu, "TN", 1024, 256),
    "qkv": () =>
      plain(gpu, `block qkv NN + bias (M=${T} N=${3 * C} K=${C})`, { M: T, N: 3 * C, K: C, bias: true }),
    "fc": () =>
      plain(gpu, `block fc NN + bias (M=${T} N=${4 * C} K=${C})`, { M: T, N: 4 * C, K: C, bias: true }),
    "fcproj": () =>
      plain(gpu, `block fcproj NN + bias (M=${T} N=${C} K=${4 * C})`, { M: T, N: C, K: 4 * C, bias: true }),
    "attproj": () => plain(gpu, `block attproj NN (M=${T} N=${C} K=${C})`, { M: T, N: C, K: C }),
    "qkv_dinp": () =>
      plain(gpu, `block qkv dinp NT (M=${T} N=${C} K=${3 * C})`, { M: T, N: C, K: 3 * C, transB: true }),
    "qkv_dw": () =>
      plain(gpu, `block qkv dW TN += (M=${C} N=${3 * C} K=${T})`, {
        M: C,
        N: 3 * C,
        K: T,
        transA: true,
        accumulate: true,
      }),
    "fc_dw": () =>
      plain(gpu, `block fc dW TN += (M=${C} N=${4 * C} K=${T})`, {
        M: C,
        N: 4 * C,
        K: T,
        transA: true,
        accumulate: true,
      }),
    "gpt2_768": () => plain(gpu, "GPT-2 124M attproj NN (M=1024 N=768 K=768)", { M: 1024, N: 768, K: 768 }),
  };
}

/** Process CPU seconds (user + system) where /proc exists, else NaN. */
function cpuSeconds(): number {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      shapes: { type: "string" },
      versions: { type: "string" },
      reps: { type: "string", default: "3" },
      block: { type: "string", default: "512,128" },
      list: { type: "boolean", default: false },
    },
  });
  const block = values.block.split(",").map(Number);
  const [T, C] = block;
  if (block.length !== 2 || !block.every((v) => Number.isInteger(v) && v >= 4)) {
    throw new UsageError(`--block wants two integers T,C (at least 4 each), got "${values.block}"`);
  }
  const gpu = await Gpu.create();
  const all = shapes(gpu, T, C);
  if (values.list) {
    console.log(JSON.stringify({ shapes: Object.keys(all), versions: VERSIONS }));
    return;
  }
  const keys = values.shapes ? values.shapes.split(",") : Object.keys(all);
  const versions =
    (values.versions
      ? values.versions.split(",")
      : ["v2", "v3", "v4", "v5", "v6", "v7", "default"]) as Version[];
  const reps = Number(values.reps);
  for (const k of keys) if (!all[k]) throw new UsageError(`unknown shape ${k}; --list shows them`);
  for (const v of versions) if (!VERSIONS.includes(v)) throw new UsageError(`unknown version ${v}`);
  const results = [];
  for (const key of keys) {
    const shape = all[key]();
    for (const version of versions) {
      // Warm-up: compiles the pipelines (seconds on llvmpipe the first time; Mesa caches them on disk).
      if (!shape.run(gpu, version)) {
        results.push({ shape: key, name: shape.name, version, supported: false });
        continue;
      }
      await gpu.sync();
      // One timed run sizes the measurement: at least `reps` runs and at least ~0.5 s.
      const probe = performance.now();
      shape.run(gpu, version);
      await gpu.sync();
      const runs = Math.min(100, Math.max(reps, Math.ceil(500 / (performance.now() - probe))));
      const cpu0 = cpuSeconds();
      const t0 = performance.now();
      for (let r = 0; r < runs; r++) shape.run(gpu, version);
      await gpu.sync();
      const ms = (performance.now() - t0) / runs;
      const cpu = (cpuSeconds() - cpu0) / runs;
      results.push({
        shape: key,
        name: shape.name,
        version,
        runs,
        ms: round(ms),
        gflops: round(shape.flops / ms / 1e6),
        cpuGflops: round(shape.flops / cpu / 1e9),
      });
    }
  }
  const load = (() => {
    try {
      return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).map(Number);
    } catch {
      return null;
    }
  })();
  console.log(JSON.stringify(
    { adapter: gpu.adapterName, fallback: gpu.isFallbackAdapter, reps, loadavg: load, results },
    null,
    1,
  ));
}

function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 100) / 100 : x;
}

if (import.meta.main) await runMain(main);
