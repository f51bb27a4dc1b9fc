// Matrix multiply out = A·Bᵀ (+ bias), or out += A·Bᵀ, for CPU adapters (llvmpipe): A read from a uniform
// buffer, B held in registers.
//
// A is (M, K) row-major with row stride lda (a window of rows copied into a uniform buffer, at most 64 KiB);
// B is stored (N, K) row-major, stride ldb; out is (M, N), stride ldo. Every stride is a multiple of 4.
//
// Why this shape: llvmpipe runs 8 invocations as one SIMD vector, and inside a loop it compiles every
// memory load into one bounds-checked scalar load per lane. The cheapest of those is a uniform-buffer
// load (a branch-free gather), about three times cheaper than a storage load (bench/matmul.ts v6), and still
// dearer than the FMAs it feeds. So each invocation keeps a 64-deep slab of eight rows of B in registers
// (loaded once per dispatch), and the loop over the rows of A reads each vec4 of A once per invocation and
// spends it on 32 FMAs (four rows, 16 FMAs, ran about 1.3× slower).
//
// Dispatch: one invocation per 8 columns of out (workgroups of 64 along x, ceil(N/512) of them) for one
// window of A rows [m0, m0 + M) and one K slab [k0, k0 + 64); the wrapper (lib/ops/matmul.ts, whose
// BCAST_ROWS is this shader's 8 columns) issues a dispatch per window and slab (its MATMUL_BCAST_BK is this
// shader's unrolled depth, 16 vec4s). init: what
// the slab's products are added to: 0 nothing, 1 bias, 2 the current out (every slab after the first, or
// accumulate). A vec4 of out that crosses N keeps its old values past N (they lie in the row padding).
//
// Bindings: 0 Params; 1 out (rows m0.., N) read_write; 2 a (window rows, K) uniform; 3 b (N, K); 4 bias (N)
// (any readable view when init != 1).

struct Params {
  M: u32,     // rows in this window
  N: u32,
  K: u32,
  lda4: u32,  // row strides in vec4 units
  ldb4: u32,
  ldo4: u32,
  m0: u32,    // first row of the window in out
  k0q: u32,   // first vec4 of the slab along K
  init: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> a: array<vec4<f32>, 4096>;
@group(0) @binding(3) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>;

const LANE4 = vec4<u32>(0u, 1u, 2u, 3u);

// The four consecutive indices i .. i+3 that are below `end`, as a mask.
fn below(i: u32, end: u32) -> vec4<bool> {
  return (vec4<u32>(i) + LANE4) < vec4<u32>(end);
}

// B[row, 4(k0q + q) .. +3], zero past K.
fn loadB(row: u32, q: u32) -> vec4<f32> {
  let kq = p.k0q + q;
  return select(vec4<f32>(0.0), b[row * p.ldb4 + min(kq, p.ldb4 - 1u)], below(kq * 4u, p.K));
}

// A[m, 4(k0q + q) .. +3] for the row starting at vec4 xb of the window, zero past K (so padding or the
// next row never reaches the sum, whatever it holds).
fn xq(q: u32, xb: u32) -> vec4<f32> {
  let kq = p.k0q + q;
  return select(vec4<f32>(0.0), a[min(xb + kq, 4095u)], below(kq * 4u, p.K));
}

// The sum of v's four components.
fn hsum(v: vec4<f32>) -> f32 {
  return v.x + v.y + v.z + v.w;
}

// Stores v at out vec4 oi, whose first column is n: nothing when n ≥ N; columns past N keep their old
// values; with init 2 the old values are added.
fn store(oi: u32, n: u32, v: vec4<f32>) {
  if (n >= p.N) {
    return;
  }
  var r = v;
  if (p.init == 2u || n + 3u >= p.N) {
    let old = out[oi];
    r = select(old, v + select(vec4<f32>(0.0), old, p.init == 2u), below(n, p.N));
  }
  out[oi] = r;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = wid.x * 64u + lid.x; // out vec4 columns 2g and 2g+1: columns 8g .. 8g+7
  let n = g * 8u;
  // Rows of B past N are clamped to the last row: their columns are never stored.
  let r0 = min(n + 0u, p.N - 1u);
  let r1 = min(n + 1u, p.N - 1u);
  let r2 = min(n + 2u, p.N - 1u);
  let r3 = min(n + 3u, p.N - 1u);
  let r4 = min(n + 4u, p.N - 1u);
  let r5 = min(n + 5u, p.N - 1u);
  let r6 = min(n + 6u, p.N - 1u);
  let r7 = min(n + 7u, p.N - 1u);
  let w0_0 = loadB(r0, 0u);
  let w0_1 = loadB(r0, 1u);
  let w0_2 = loadB(r0, 2u);
  let w0_3 = loadB(r0, 3u);
  let w0_4 = loadB(r0, 4u);
  let w0_5 = loadB(r0, 5u);
  let w0_6 = loadB(r0, 6u);
  let w0_7 = loadB(r0, 7u);
  let w0_8 = loadB(r0, 8u);
  let w0_9 = loadB(r0, 9u);
  let w0_10 = loadB(r0, 10u);
  let w0_11 = loadB(r0, 11u);
  let w0_12 = loadB(r0, 12u);
  let w0_13 = loadB(r0, 13u);
  let w0_14 = loadB(r0, 14u);
  let w0_15 = loadB(r0, 15u);
  let w1_0 = loadB(r1, 0u);
  let w1_1 = loadB(r1, 1u);
  let w1_2 = loadB(r1, 2u);
  let w1_3 = loadB(r1, 3u);
  let w1_4 = loadB(r1, 4u);
  let w1_5 = loadB(r1, 5u);
  let w1_6 = loadB(r1, 6u);
  let w1_7 = loadB(r1, 7u);
  let w1_8 = loadB(r1, 8u);
  let w1_9 = loadB(r1, 9u);
  let w1_10 = loadB(r1, 10u);
  let w1_11 = loadB(r1, 11u);
  let w1_12 = loadB(r1, 12u);
  let w1_13 = loadB(r1, 13u);
  let w1_14 = loadB(r1, 14u);
  let w1_15 = loadB(r1, 15u);
  let w2_0 = loadB(r2, 0u);
  let w2_1 = loadB(r2, 1u);
  let w2_2 = loadB(r2, 2u);
  let w2_3 = loadB(r2, 3u);
  let w2_4 = loadB(r2, 4u);
  let w2_5 = loadB(r2, 5u);
  let w2_6 = loadB(r2, 6u);
  let w2_7 = loadB(r2, 7u);
  let w2_8 = loadB(r2, 8u);
  let w2_9 = loadB(r2, 9u);
  let w2_10 = loadB(r2, 10u);
  let w2_11 = loadB(r2, 11u);
  let w2_12 = loadB(r2, 12u);
  let w2_13 = loadB(r2, 13u);
  let w2_14 = loadB(r2, 14u);
  let w2_15 = loadB(r2, 15u);
  let w3_0 = loadB(r3, 0u);
  let w3_1 = loadB(r3, 1u);
  let w3_2 = loadB(r3, 2u);
  let w3_3 = loadB(r3, 3u);
  let w3_4 = loadB(r3, 4u);
  let w3_5 = loadB(r3, 5u);
  let w3_6 = loadB(r3, 6u);
  let w3_7 = loadB(r3, 7u);
  let w3_8 = loadB(r3, 8u);
  let w3_9 = loadB(r3, 9u);
  let w3_10 = loadB(r3, 10u);
  let w3_11 = loadB(r3, 11u);
  let w3_12 = loadB(r3, 12u);
  let w3_13 = loadB(r3, 13u);
  let w3_14 = loadB(r3, 14u);
  let w3_15 = loadB(r3, 15u);
  let w4_0 = loadB(r4, 0u);
  let w4_1 = loadB(r4, 1u);
  let w4_2 = loadB(r4, 2u);
  let w4_3 = loadB(r4, 3u);
  let w4_4 = loadB(r4, 4u);
  let w4_5 = loadB(r4, 5u);
  let w4_6 = loadB(r4, 6u);
  let w4_7 = loadB(r4, 7u);
  let w4_8 = loadB(r4, 8u);
  let w4_9 = loadB(r4, 9u);
  let w4_10 = loadB(r4, 10u);
  let w4_11 = loadB(r4, 11u);
  let w4_12 = loadB(r4, 12u);
  let w4_13 = loadB(r4, 13u);
  let w4_14 = loadB(r4, 14u);
  let w4_15 = loadB(r4, 15u);
  let w5_0 = loadB(r5, 0u);
  let w5_1 = loadB(r5, 1u);
  let w5_2 = loadB(r5, 2u);
  let w5_3 = loadB(r5, 3u);
  let w5_4 = loadB(r5, 4u);
  let w5_5 = loadB(r5, 5u);
  let w5_6 = loadB(r5, 6u);
  let w5_7 = loadB(r5, 7u);
  let w5_8 = loadB(r5, 8u);
  let w5_9 = loadB(r5, 9u);
  let w5_10 = loadB(r5, 10u);
  let w5_11 = loadB(r5, 11u);
  let w5_12 = loadB(r5, 12u);
  let w5_13 = loadB(r5, 13u);
  let w5_14 = loadB(r5, 14u);
  let w5_15 = loadB(r5, 15u);
  let w6_0 = loadB(r6, 0u);
  let w6_1 = loadB(r6, 1u);
  let w6_2 = loadB(r6, 2u);
  let w6_3 = loadB(r6, 3u);
  let w6_4 = loadB(r6, 4u);
  let w6_5 = loadB(r6, 5u);
  let w6_6 = loadB(r6, 6u);
  let w6_7 = loadB(r6, 7u);
  let w6_8 = loadB(r6, 8u);
  let w6_9 = loadB(r6, 9u);
  let w6_10 = loadB(r6, 10u);
  let w6_11 = loadB(r6, 11u);
  let w6_12 = loadB(r6, 12u);
  let w6_13 = loadB(r6, 13u);
  let w6_14 = loadB(r6, 14u);
  let w6_15 = loadB(r6, 15u);
  let w7_0 = loadB(r7, 0u);
  let w7_1 = loadB(r7, 1u);
  let w7_2 = loadB(r7, 2u);
  let w7_3 = loadB(r7, 3u);
  let w7_4 = loadB(r7, 4u);
  let w7_5 = loadB(r7, 5u);
  let w7_6 = loadB(r7, 6u);
  let w7_7 = loadB(r7, 7u);
  let w7_8 = loadB(r7, 8u);
  let w7_9 = loadB(r7, 9u);
  let w7_10 = loadB(r7, 10u);
  let w7_11 = loadB(r7, 11u);
  let w7_12 = loadB(r7, 12u);
  let w7_13 = loadB(r7, 13u);
  let w7_14 = loadB(r7, 14u);
  let w7_15 = loadB(r7, 15u);
  var base0 = vec4<f32>(0.0);
  var base1 = vec4<f32>(0.0);
  if (p.init == 1u && n < p.N) {
    base0 = bias[2u * g];
  }
  if (p.init == 1u && n + 4u < p.N) {
    base1 = bias[2u * g + 1u];
  }
  for (var m = 0u; m < p.M; m++) {
    let xb = m * p.lda4;
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    var a4 = vec4<f32>(0.0);
    var a5 = vec4<f32>(0.0);
    var a6 = vec4<f32>(0.0);
    var a7 = vec4<f32>(0.0);
    var q: vec4<f32>;
    q = xq(0u, xb); a0 = fma(q, w0_0, a0); a1 = fma(q, w1_0, a1); a2 = fma(q, w2_0, a2); a3 = fma(q, w3_0, a3); a4 = fma(q, w4_0, a4); a5 = fma(q, w5_0, a5); a6 = fma(q, w6_0, a6); a7 = fma(q, w7_0, a7);
    q = xq(1u, xb); a0 = fma(q, w0_1, a0); a1 = fma(q, w1_1, a1); a2 = fma(q, w2_1, a2); a3 = fma(q, w3_1, a3); a4 = fma(q, w4_1, a4); a5 = fma(q, w5_1, a5); a6 = fma(q, w6_1, a6); a7 = fma(q, w7_1, a7);
    q = xq(2u, xb); a0 = fma(q, w0_2, a0); a1 = fma(q, w1_2, a1); a2 = fma(q, w2_2, a2); a3 = fma(q, w3_2, a3); a4 = fma(q, w4_2, a4); a5 = fma(q, w5_2, a5); a6 = fma(q, w6_2, a6); a7 = fma(q, w7_2, a7);
    q = xq(3u, xb); a0 = fma(q, w0_3, a0); a1 = fma(q, w1_3, a1); a2 = fma(q, w2_3, a2); a3 = fma(q, w3_3, a3); a4 = fma(q, w4_3, a4); a5 = fma(q, w5_3, a5); a6 = fma(q, w6_3, a6); a7 = fma(q, w7_3, a7);
    q = xq(4u, xb); a0 = fma(q, w0_4, a0); a1 = fma(q, w1_4, a1); a2 = fma(q, w2_4, a2); a3 = fma(q, w3_4, a3); a4 = fma(q, w4_4, a4); a5 = fma(q, w5_4, a5); a6 = fma(q, w6_4, a6); a7 = fma(q, w7_4, a7);
    q = xq(5u, xb); a0 = fma(q, w0_5, a0); a1 = fma(q, w1_5, a1); a2 = fma(q, w2_5, a2); a3 = fma(q, w3_5, a3); a4 = fma(q, w4_5, a4); a5 = fma(q, w5_5, a5); a6 = fma(q, w6_5, a6); a7 = fma(q, w7_5, a7);
    q = xq(6u, xb); a0 = fma(q, w0_6, a0); a1 = fma(q, w1_6, a1); a2 = fma(q, w2_6, a2); a3 = fma(q, w3_6, a3); a4 = fma(q, w4_6, a4); a5 = fma(q, w5_6, a5); a6 = fma(q, w6_6, a6); a7 = fma(q, w7_6, a7);
    q = xq(7u, xb); a0 = fma(q, w0_7, a0); a1 = fma(q, w1_7, a1); a2 = fma(q, w2_7, a2); a3 = fma(q, w3_7, a3); a4 = fma(q, w4_7, a4); a5 = fma(q, w5_7, a5); a6 = fma(q, w6_7, a6); a7 = fma(q, w7_7, a7);
    q = xq(8u, xb); a0 = fma(q, w0_8, a0); a1 = fma(q, w1_8, a1); a2 = fma(q, w2_8, a2); a3 = fma(q, w3_8, a3); a4 = fma(q, w4_8, a4); a5 = fma(q, w5_8, a5); a6 = fma(q, w6_8, a6); a7 = fma(q, w7_8, a7);
    q = xq(9u, xb); a0 = fma(q, w0_9, a0); a1 = fma(q, w1_9, a1); a2 = fma(q, w2_9, a2); a3 = fma(q, w3_9, a3); a4 = fma(q, w4_9, a4); a5 = fma(q, w5_9, a5); a6 = fma(q, w6_9, a6); a7 = fma(q, w7_9, a7);
    q = xq(10u, xb); a0 = fma(q, w0_10, a0); a1 = fma(q, w1_10, a1); a2 = fma(q, w2_10, a2); a3 = fma(q, w3_10, a3); a4 = fma(q, w4_10, a4); a5 = fma(q, w5_10, a5); a6 = fma(q, w6_10, a6); a7 = fma(q, w7_10, a7);
    q = xq(11u, xb); a0 = fma(q, w0_11, a0); a1 = fma(q, w1_11, a1); a2 = fma(q, w2_11, a2); a3 = fma(q, w3_11, a3); a4 = fma(q, w4_11, a4); a5 = fma(q, w5_11, a5); a6 = fma(q, w6_11, a6); a7 = fma(q, w7_11, a7);
    q = xq(12u, xb); a0 = fma(q, w0_12, a0); a1 = fma(q, w1_12, a1); a2 = fma(q, w2_12, a2); a3 = fma(q, w3_12, a3); a4 = fma(q, w4_12, a4); a5 = fma(q, w5_12, a5); a6 = fma(q, w6_12, a6); a7 = fma(q, w7_12, a7);
    q = xq(13u, xb); a0 = fma(q, w0_13, a0); a1 = fma(q, w1_13, a1); a2 = fma(q, w2_13, a2); a3 = fma(q, w3_13, a3); a4 = fma(q, w4_13, a4); a5 = fma(q, w5_13, a5); a6 = fma(q, w6_13, a6); a7 = fma(q, w7_13, a7);
    q = xq(14u, xb); a0 = fma(q, w0_14, a0); a1 = fma(q, w1_14, a1); a2 = fma(q, w2_14, a2); a3 = fma(q, w3_14, a3); a4 = fma(q, w4_14, a4); a5 = fma(q, w5_14, a5); a6 = fma(q, w6_14, a6); a7 = fma(q, w7_14, a7);
    q = xq(15u, xb); a0 = fma(q, w0_15, a0); a1 = fma(q, w1_15, a1); a2 = fma(q, w2_15, a2); a3 = fma(q, w3_15, a3); a4 = fma(q, w4_15, a4); a5 = fma(q, w5_15, a5); a6 = fma(q, w6_15, a6); a7 = fma(q, w7_15, a7);
    let row = (p.m0 + m) * p.ldo4;
    store(row + 2u * g, n, vec4<f32>(hsum(a0), hsum(a1), hsum(a2), hsum(a3)) + base0);
    store(row + 2u * g + 1u, n + 4u, vec4<f32>(hsum(a4), hsum(a5), hsum(a6), hsum(a7)) + base1);
  }
}
