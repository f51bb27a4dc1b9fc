// Matrix multiply out = A·Bᵀ (+ bias), or out += A·Bᵀ, for CPU adapters (llvmpipe): A read from a uniform
// buffer, B held in registers.
//
// A is (M, K) row-major with row stride lda (a window of rows copied into a uniform buffer, at most 64 KiB);
// B is stored (N, K) row-major, stride ldb; out is (M, N), stride ldo. Every stride is a multiple of 4.
//
// Why this shape: llvmpipe runs 8 invocations as one SIMD vector, and inside a loop it compiles every
// memory load into one bounds-checked scalar load per lane. The cheapest of those is a uniform-buffer
// load (a branch-free gather), about three times cheaper than a storage load (bench/matmul.ts v6). So each
// invocation keeps a 64-deep slab of four rows of B in registers (loaded once per dispatch), and the loop
// over the rows of A reads each vec4 of A once per invocation and spends it on 16 FMAs.
//
// Dispatch: one invocation per 4 columns of out (workgroups of 64 along x, ceil(N/256) of them) for one
// window of A rows [m0, m0 + M) and one K slab [k0, k0 + 64); the wrapper (lib/ops/matmul.ts) issues a
// dispatch per window and slab (its MATMUL_BCAST_BK is this shader's unrolled depth, 16 vec4s). init: what
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

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = wid.x * 64u + lid.x; // out vec4 column: columns 4g .. 4g+3
  let n = g * 4u;
  // Rows of B past N are clamped to the last row: their columns are never stored.
  let r0 = min(n, p.N - 1u);
  let r1 = min(n + 1u, p.N - 1u);
  let r2 = min(n + 2u, p.N - 1u);
  let r3 = min(n + 3u, p.N - 1u);
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
  var base = vec4<f32>(0.0);
  if (p.init == 1u && n < p.N) {
    base = bias[g];
  }
  let keep = below(n, p.N);
  let tail = n + 3u >= p.N;
  for (var m = 0u; m < p.M; m++) {
    let xb = m * p.lda4;
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    var q: vec4<f32>;
    q = xq(0u, xb); a0 = fma(q, w0_0, a0); a1 = fma(q, w1_0, a1); a2 = fma(q, w2_0, a2); a3 = fma(q, w3_0, a3);
    q = xq(1u, xb); a0 = fma(q, w0_1, a0); a1 = fma(q, w1_1, a1); a2 = fma(q, w2_1, a2); a3 = fma(q, w3_1, a3);
    q = xq(2u, xb); a0 = fma(q, w0_2, a0); a1 = fma(q, w1_2, a1); a2 = fma(q, w2_2, a2); a3 = fma(q, w3_2, a3);
    q = xq(3u, xb); a0 = fma(q, w0_3, a0); a1 = fma(q, w1_3, a1); a2 = fma(q, w2_3, a2); a3 = fma(q, w3_3, a3);
    q = xq(4u, xb); a0 = fma(q, w0_4, a0); a1 = fma(q, w1_4, a1); a2 = fma(q, w2_4, a2); a3 = fma(q, w3_4, a3);
    q = xq(5u, xb); a0 = fma(q, w0_5, a0); a1 = fma(q, w1_5, a1); a2 = fma(q, w2_5, a2); a3 = fma(q, w3_5, a3);
    q = xq(6u, xb); a0 = fma(q, w0_6, a0); a1 = fma(q, w1_6, a1); a2 = fma(q, w2_6, a2); a3 = fma(q, w3_6, a3);
    q = xq(7u, xb); a0 = fma(q, w0_7, a0); a1 = fma(q, w1_7, a1); a2 = fma(q, w2_7, a2); a3 = fma(q, w3_7, a3);
    q = xq(8u, xb); a0 = fma(q, w0_8, a0); a1 = fma(q, w1_8, a1); a2 = fma(q, w2_8, a2); a3 = fma(q, w3_8, a3);
    q = xq(9u, xb); a0 = fma(q, w0_9, a0); a1 = fma(q, w1_9, a1); a2 = fma(q, w2_9, a2); a3 = fma(q, w3_9, a3);
    q = xq(10u, xb); a0 = fma(q, w0_10, a0); a1 = fma(q, w1_10, a1); a2 = fma(q, w2_10, a2); a3 = fma(q, w3_10, a3);
    q = xq(11u, xb); a0 = fma(q, w0_11, a0); a1 = fma(q, w1_11, a1); a2 = fma(q, w2_11, a2); a3 = fma(q, w3_11, a3);
    q = xq(12u, xb); a0 = fma(q, w0_12, a0); a1 = fma(q, w1_12, a1); a2 = fma(q, w2_12, a2); a3 = fma(q, w3_12, a3);
    q = xq(13u, xb); a0 = fma(q, w0_13, a0); a1 = fma(q, w1_13, a1); a2 = fma(q, w2_13, a2); a3 = fma(q, w3_13, a3);
    q = xq(14u, xb); a0 = fma(q, w0_14, a0); a1 = fma(q, w1_14, a1); a2 = fma(q, w2_14, a2); a3 = fma(q, w3_14, a3);
    q = xq(15u, xb); a0 = fma(q, w0_15, a0); a1 = fma(q, w1_15, a1); a2 = fma(q, w2_15, a2); a3 = fma(q, w3_15, a3);
    if (n < p.N) {
      let oi = (p.m0 + m) * p.ldo4 + g;
      var v = vec4<f32>(a0.x + a0.y + a0.z + a0.w, a1.x + a1.y + a1.z + a1.w, a2.x + a2.y + a2.z + a2.w,
        a3.x + a3.y + a3.z + a3.w) + base;
      if (p.init == 2u || tail) {
        let old = out[oi];
        v = select(old, v + select(vec4<f32>(0.0), old, p.init == 2u), keep);
      }
      out[oi] = v;
    }
  }
}
