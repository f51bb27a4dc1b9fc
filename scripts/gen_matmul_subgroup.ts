/**
 * Writes the unrolled part of lib/gpu/kernels/matmul_subgroup.wgsl (between its begin and end markers): the
 * 64-deep slab and the 512 FMAs per row, unrolled because llvmpipe keeps the slab in registers only when
 * every index is a constant. The rest of the kernel is written in the .wgsl file itself.
 *
 *   deno run --allow-read=lib/gpu/kernels --allow-write=lib/gpu/kernels scripts/gen_matmul_subgroup.ts
 *
 * @module
 */
const DEPTH = 64; // k per slab
const COLS = 8; // columns of out per invocation
const C = ["x", "y", "z", "w"];
const BEGIN = "    // ---- unrolled by scripts/gen_matmul_subgroup.ts: begin ----\n";
const END = "    // ---- unrolled by scripts/gen_matmul_subgroup.ts: end ----\n";

/** The unrolled lines: the slab of op(B), then the loop over rows. */
export function unrolledBody(): string {
  const L: string[] = [];
  for (let k = 0; k < DEPTH; k++) {
    L.push(`    let w0_${k} = loadB4(ks + ${k}u, n);`);
    L.push(`    let w1_${k} = loadB4(ks + ${k}u, n + 4u);`);
  }
  L.push(`    for (var m = m0; m < m1; m++) {`);
  L.push(
    `      // Lane i holds op(A)[m, ks + 4i .. +3] in v0 and [m, ks + 32 + 4i .. +3] in v1; qj is lane j's part.`,
  );
  L.push(`      let v0 = loadA4(m, ks + 4u * lane);`);
  L.push(`      let v1 = loadA4(m, ks + 32u + 4u * lane);`);
  for (let q = 0; q < DEPTH / 4; q++) L.push(`      let q${q} = subgroupBroadcast(v${q >> 3}, ${q & 7}u);`);
  for (let c = 0; c < COLS; c++) L.push(`      var s${c} = 0.0;`);
  for (let k = 0; k < DEPTH; k++) {
    const x = `q${k >> 2}.${C[k & 3]}`;
    const parts = Array.from(
      { length: COLS },
      (_, c) => `s${c} = fma(${x}, w${c >> 2}_${k}.${C[c & 3]}, s${c});`,
    );
    L.push(`      ${parts.slice(0, 4).join(" ")}`);
    L.push(`      ${parts.slice(4).join(" ")}`);
  }
  L.push(`      store(m, n, vec4<f32>(s0, s1, s2, s3), first);`);
  L.push(`      store(m, n + 4u, vec4<f32>(s4, s5, s6, s7), first);`);
  L.push(`    }`, ``);
  return L.join("\n");
}

/** `wgsl` with the text between its markers replaced by `unrolledBody()`. */
export function withUnrolledBody(wgsl: string): string {
  const begin = wgsl.indexOf(BEGIN);
  const end = wgsl.indexOf(END);
  if (begin < 0 || end < begin) throw new Error("matmul_subgroup.wgsl: unroll markers not found");
  return wgsl.slice(0, begin + BEGIN.length) + unrolledBody() + wgsl.slice(end);
}

if (import.meta.main) {
  const path = new URL("../lib/gpu/kernels/matmul_subgroup.wgsl", import.meta.url);
  const text = withUnrolledBody(Deno.readTextFileSync(path));
  const tmp = new URL("../lib/gpu/kernels/.matmul_subgroup.wgsl.tmp", import.meta.url);
  Deno.writeTextFileSync(tmp, text);
  Deno.renameSync(tmp, path);
  console.log(`wrote ${path.pathname} (${text.split("\n").length} lines)`);
}
