// Matrix multiply out = op(A)·B (+ bias), or out += op(A)·B, for CPU adapters (llvmpipe): B read from a
// uniform buffer, A held in registers. op(A) is Aᵀ (TN, the lm_head weight gradient dwte = dlogitsᵀ·x) or,
// with the override A_MK, A itself (NN, the lm_head input gradient dx = dlogits·wte, whose K is the
// vocabulary). The counterpart of matmul_bcast.wgsl (read its header for why a uniform buffer).
//
// A is stored (K, M) row-major with row stride lda (TN), or (M, K) when A_MK (NN); B is (K, N) row-major
// with stride ldb, a window of 64 of its rows copied into a uniform buffer (64·ldb floats, at most 64 KiB);
// out is (M, N), stride ldo. Every stride is a multiple of 4.
//
// Each invocation owns four consecutive rows of out, keeps op(A)[those rows, k0 .. k0+63] (64 vec4, one
// per k) in registers, and loops over the columns of out four at a time: every vec4 of B read from the
// window is spent on 16 FMAs, and each 4×4 block is transposed into four row vec4s when it is stored.
// With A_MK the four rows of a vec4 are four rows of A, read one float each through `a1`, the same buffer
// as `a` seen as scalars (per-lane loads cost the same per float either way on llvmpipe).
//
// Dispatch: one invocation per 4 rows of out (workgroups of WG along x, ceil(M/(4·WG)) of them) and per
// nq_per vec4 columns of out (along y) for one K slab [k0, k0 + 64). llvmpipe runs one workgroup per
// thread, so a short M, such as the 256 rows of dx, takes smaller workgroups, and if that is not enough
// a split along N, to keep every thread busy; the wrapper (lib/ops/matmul.ts) issues one dispatch per slab (its MATMUL_BCAST_BK is this
// shader's unrolled depth). init: what the slab's products are added to: 0 nothing, 1 bias, 2 the current
// out. A vec4 of out that crosses N keeps its old values past N.
//
// Bindings: 0 Params; 1 out (M, N) read_write; 2 b (window rows, N) uniform; 3 a as vec4s; 4 bias (N) (any
// readable view when init != 1); 5 a as floats (the same view as binding 3).

struct Params {
  M: u32,
  N: u32,
  K: u32,
  lda4: u32,  // row strides in vec4 units
  ldb4: u32,
  ldo4: u32,
  k0: u32,    // first k of the slab (row 0 of the window)
  init: u32,
  nq_per: u32, // vec4 columns of out per workgroup along y
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> bw: array<vec4<f32>, 4096>;
@group(0) @binding(3) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> a1: array<f32>;

// A is stored (M, K) (NN) instead of (K, M) (TN).
override A_MK: bool = false;

const LANE4 = vec4<u32>(0u, 1u, 2u, 3u);

// The four consecutive indices i .. i+3 that are below `end`, as a mask.
fn below(i: u32, end: u32) -> vec4<bool> {
  return (vec4<u32>(i) + LANE4) < vec4<u32>(end);
}

// op(A)[4g .. 4g+3, k0 + k], zero past K and past M.
fn loadA(k: u32, g: u32) -> vec4<f32> {
  let kk = p.k0 + k;
  if (A_MK) {
    let lda = p.lda4 * 4u;
    let m = g * 4u;
    let ok = below(m, p.M) & vec4<bool>(kk < p.K);
    let i = select(vec4<u32>(0u), (vec4<u32>(m) + LANE4) * lda + kk, ok);
    return select(vec4<f32>(0.0), vec4<f32>(a1[i.x], a1[i.y], a1[i.z], a1[i.w]), ok);
  }
  let ok = kk < p.K && g * 4u < p.M;
  let v = a[select(0u, kk * p.lda4 + g, ok)];
  return select(vec4<f32>(0.0), v, below(g * 4u, p.M) & vec4<bool>(ok));
}

// B[k0 + k, 4nq .. 4nq+3] from the window, zero past K (so stale window rows never reach the sum).
fn bq(k: u32, nq: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), bw[min(k * p.ldb4 + nq, 4095u)], p.k0 + k < p.K);
}

// Row i of the 4×4 block whose columns are c0 .. c3.
fn blockRow(c0: vec4<f32>, c1: vec4<f32>, c2: vec4<f32>, c3: vec4<f32>, i: u32) -> vec4<f32> {
  return vec4<f32>(c0[i], c1[i], c2[i], c3[i]);
}

// Stores row vector v of out (row m, vec4 column nq) after adding the starting value.
fn store(m: u32, nq: u32, v: vec4<f32>) {
  if (m >= p.M) {
    return;
  }
  let n = nq * 4u;
  let oi = m * p.ldo4 + nq;
  var r = v;
  if (p.init == 1u) {
    r += bias[nq];
  }
  if (p.init == 2u || n + 3u >= p.N) {
    let old = out[oi];
    r = select(old, r + select(vec4<f32>(0.0), old, p.init == 2u), below(n, p.N));
  }
  out[oi] = r;
}

// Invocations per workgroup: 64, or fewer when M is short (llvmpipe runs one workgroup per thread).
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = wid.x * WG + lid.x; // out rows 4g .. 4g+3
  let a0 = loadA(0u, g);
  let a1 = loadA(1u, g);
  let a2 = loadA(2u, g);
  let a3 = loadA(3u, g);
  let a4 = loadA(4u, g);
  let a5 = loadA(5u, g);
  let a6 = loadA(6u, g);
  let a7 = loadA(7u, g);
  let a8 = loadA(8u, g);
  let a9 = loadA(9u, g);
  let a10 = loadA(10u, g);
  let a11 = loadA(11u, g);
  let a12 = loadA(12u, g);
  let a13 = loadA(13u, g);
  let a14 = loadA(14u, g);
  let a15 = loadA(15u, g);
  let a16 = loadA(16u, g);
  let a17 = loadA(17u, g);
  let a18 = loadA(18u, g);
  let a19 = loadA(19u, g);
  let a20 = loadA(20u, g);
  let a21 = loadA(21u, g);
  let a22 = loadA(22u, g);
  let a23 = loadA(23u, g);
  let a24 = loadA(24u, g);
  let a25 = loadA(25u, g);
  let a26 = loadA(26u, g);
  let a27 = loadA(27u, g);
  let a28 = loadA(28u, g);
  let a29 = loadA(29u, g);
  let a30 = loadA(30u, g);
  let a31 = loadA(31u, g);
  let a32 = loadA(32u, g);
  let a33 = loadA(33u, g);
  let a34 = loadA(34u, g);
  let a35 = loadA(35u, g);
  let a36 = loadA(36u, g);
  let a37 = loadA(37u, g);
  let a38 = loadA(38u, g);
  let a39 = loadA(39u, g);
  let a40 = loadA(40u, g);
  let a41 = loadA(41u, g);
  let a42 = loadA(42u, g);
  let a43 = loadA(43u, g);
  let a44 = loadA(44u, g);
  let a45 = loadA(45u, g);
  let a46 = loadA(46u, g);
  let a47 = loadA(47u, g);
  let a48 = loadA(48u, g);
  let a49 = loadA(49u, g);
  let a50 = loadA(50u, g);
  let a51 = loadA(51u, g);
  let a52 = loadA(52u, g);
  let a53 = loadA(53u, g);
  let a54 = loadA(54u, g);
  let a55 = loadA(55u, g);
  let a56 = loadA(56u, g);
  let a57 = loadA(57u, g);
  let a58 = loadA(58u, g);
  let a59 = loadA(59u, g);
  let a60 = loadA(60u, g);
  let a61 = loadA(61u, g);
  let a62 = loadA(62u, g);
  let a63 = loadA(63u, g);
  let nq0 = wid.y * p.nq_per;
  let nq1 = min(nq0 + p.nq_per, (p.N + 3u) / 4u);
  for (var nq = nq0; nq < nq1; nq++) {
    var c0 = vec4<f32>(0.0);
    var c1 = vec4<f32>(0.0);
    var c2 = vec4<f32>(0.0);
    var c3 = vec4<f32>(0.0);
    var q: vec4<f32>;
    q = bq(0u, nq); c0 = fma(a0, vec4<f32>(q.x), c0); c1 = fma(a0, vec4<f32>(q.y), c1); c2 = fma(a0, vec4<f32>(q.z), c2); c3 = fma(a0, vec4<f32>(q.w), c3);
    q = bq(1u, nq); c0 = fma(a1, vec4<f32>(q.x), c0); c1 = fma(a1, vec4<f32>(q.y), c1); c2 = fma(a1, vec4<f32>(q.z), c2); c3 = fma(a1, vec4<f32>(q.w), c3);
    q = bq(2u, nq); c0 = fma(a2, vec4<f32>(q.x), c0); c1 = fma(a2, vec4<f32>(q.y), c1); c2 = fma(a2, vec4<f32>(q.z), c2); c3 = fma(a2, vec4<f32>(q.w), c3);
    q = bq(3u, nq); c0 = fma(a3, vec4<f32>(q.x), c0); c1 = fma(a3, vec4<f32>(q.y), c1); c2 = fma(a3, vec4<f32>(q.z), c2); c3 = fma(a3, vec4<f32>(q.w), c3);
    q = bq(4u, nq); c0 = fma(a4, vec4<f32>(q.x), c0); c1 = fma(a4, vec4<f32>(q.y), c1); c2 = fma(a4, vec4<f32>(q.z), c2); c3 = fma(a4, vec4<f32>(q.w), c3);
    q = bq(5u, nq); c0 = fma(a5, vec4<f32>(q.x), c0); c1 = fma(a5, vec4<f32>(q.y), c1); c2 = fma(a5, vec4<f32>(q.z), c2); c3 = fma(a5, vec4<f32>(q.w), c3);
    q = bq(6u, nq); c0 = fma(a6, vec4<f32>(q.x), c0); c1 = fma(a6, vec4<f32>(q.y), c1); c2 = fma(a6, vec4<f32>(q.z), c2); c3 = fma(a6, vec4<f32>(q.w), c3);
    q = bq(7u, nq); c0 = fma(a7, vec4<f32>(q.x), c0); c1 = fma(a7, vec4<f32>(q.y), c1); c2 = fma(a7, vec4<f32>(q.z), c2); c3 = fma(a7, vec4<f32>(q.w), c3);
    q = bq(8u, nq); c0 = fma(a8, vec4<f32>(q.x), c0); c1 = fma(a8, vec4<f32>(q.y), c1); c2 = fma(a8, vec4<f32>(q.z), c2); c3 = fma(a8, vec4<f32>(q.w), c3);
    q = bq(9u, nq); c0 = fma(a9, vec4<f32>(q.x), c0); c1 = fma(a9, vec4<f32>(q.y), c1); c2 = fma(a9, vec4<f32>(q.z), c2); c3 = fma(a9, vec4<f32>(q.w), c3);
    q = bq(10u, nq); c0 = fma(a10, vec4<f32>(q.x), c0); c1 = fma(a10, vec4<f32>(q.y), c1); c2 = fma(a10, vec4<f32>(q.z), c2); c3 = fma(a10, vec4<f32>(q.w), c3);
    q = bq(11u, nq); c0 = fma(a11, vec4<f32>(q.x), c0); c1 = fma(a11, vec4<f32>(q.y), c1); c2 = fma(a11, vec4<f32>(q.z), c2); c3 = fma(a11, vec4<f32>(q.w), c3);
    q = bq(12u, nq); c0 = fma(a12, vec4<f32>(q.x), c0); c1 = fma(a12, vec4<f32>(q.y), c1); c2 = fma(a12, vec4<f32>(q.z), c2); c3 = fma(a12, vec4<f32>(q.w), c3);
    q = bq(13u, nq); c0 = fma(a13, vec4<f32>(q.x), c0); c1 = fma(a13, vec4<f32>(q.y), c1); c2 = fma(a13, vec4<f32>(q.z), c2); c3 = fma(a13, vec4<f32>(q.w), c3);
    q = bq(14u, nq); c0 = fma(a14, vec4<f32>(q.x), c0); c1 = fma(a14, vec4<f32>(q.y), c1); c2 = fma(a14, vec4<f32>(q.z), c2); c3 = fma(a14, vec4<f32>(q.w), c3);
    q = bq(15u, nq); c0 = fma(a15, vec4<f32>(q.x), c0); c1 = fma(a15, vec4<f32>(q.y), c1); c2 = fma(a15, vec4<f32>(q.z), c2); c3 = fma(a15, vec4<f32>(q.w), c3);
    q = bq(16u, nq); c0 = fma(a16, vec4<f32>(q.x), c0); c1 = fma(a16, vec4<f32>(q.y), c1); c2 = fma(a16, vec4<f32>(q.z), c2); c3 = fma(a16, vec4<f32>(q.w), c3);
    q = bq(17u, nq); c0 = fma(a17, vec4<f32>(q.x), c0); c1 = fma(a17, vec4<f32>(q.y), c1); c2 = fma(a17, vec4<f32>(q.z), c2); c3 = fma(a17, vec4<f32>(q.w), c3);
    q = bq(18u, nq); c0 = fma(a18, vec4<f32>(q.x), c0); c1 = fma(a18, vec4<f32>(q.y), c1); c2 = fma(a18, vec4<f32>(q.z), c2); c3 = fma(a18, vec4<f32>(q.w), c3);
    q = bq(19u, nq); c0 = fma(a19, vec4<f32>(q.x), c0); c1 = fma(a19, vec4<f32>(q.y), c1); c2 = fma(a19, vec4<f32>(q.z), c2); c3 = fma(a19, vec4<f32>(q.w), c3);
    q = bq(20u, nq); c0 = fma(a20, vec4<f32>(q.x), c0); c1 = fma(a20, vec4<f32>(q.y), c1); c2 = fma(a20, vec4<f32>(q.z), c2); c3 = fma(a20, vec4<f32>(q.w), c3);
    q = bq(21u, nq); c0 = fma(a21, vec4<f32>(q.x), c0); c1 = fma(a21, vec4<f32>(q.y), c1); c2 = fma(a21, vec4<f32>(q.z), c2); c3 = fma(a21, vec4<f32>(q.w), c3);
    q = bq(22u, nq); c0 = fma(a22, vec4<f32>(q.x), c0); c1 = fma(a22, vec4<f32>(q.y), c1); c2 = fma(a22, vec4<f32>(q.z), c2); c3 = fma(a22, vec4<f32>(q.w), c3);
    q = bq(23u, nq); c0 = fma(a23, vec4<f32>(q.x), c0); c1 = fma(a23, vec4<f32>(q.y), c1); c2 = fma(a23, vec4<f32>(q.z), c2); c3 = fma(a23, vec4<f32>(q.w), c3);
    q = bq(24u, nq); c0 = fma(a24, vec4<f32>(q.x), c0); c1 = fma(a24, vec4<f32>(q.y), c1); c2 = fma(a24, vec4<f32>(q.z), c2); c3 = fma(a24, vec4<f32>(q.w), c3);
    q = bq(25u, nq); c0 = fma(a25, vec4<f32>(q.x), c0); c1 = fma(a25, vec4<f32>(q.y), c1); c2 = fma(a25, vec4<f32>(q.z), c2); c3 = fma(a25, vec4<f32>(q.w), c3);
    q = bq(26u, nq); c0 = fma(a26, vec4<f32>(q.x), c0); c1 = fma(a26, vec4<f32>(q.y), c1); c2 = fma(a26, vec4<f32>(q.z), c2); c3 = fma(a26, vec4<f32>(q.w), c3);
    q = bq(27u, nq); c0 = fma(a27, vec4<f32>(q.x), c0); c1 = fma(a27, vec4<f32>(q.y), c1); c2 = fma(a27, vec4<f32>(q.z), c2); c3 = fma(a27, vec4<f32>(q.w), c3);
    q = bq(28u, nq); c0 = fma(a28, vec4<f32>(q.x), c0); c1 = fma(a28, vec4<f32>(q.y), c1); c2 = fma(a28, vec4<f32>(q.z), c2); c3 = fma(a28, vec4<f32>(q.w), c3);
    q = bq(29u, nq); c0 = fma(a29, vec4<f32>(q.x), c0); c1 = fma(a29, vec4<f32>(q.y), c1); c2 = fma(a29, vec4<f32>(q.z), c2); c3 = fma(a29, vec4<f32>(q.w), c3);
    q = bq(30u, nq); c0 = fma(a30, vec4<f32>(q.x), c0); c1 = fma(a30, vec4<f32>(q.y), c1); c2 = fma(a30, vec4<f32>(q.z), c2); c3 = fma(a30, vec4<f32>(q.w), c3);
    q = bq(31u, nq); c0 = fma(a31, vec4<f32>(q.x), c0); c1 = fma(a31, vec4<f32>(q.y), c1); c2 = fma(a31, vec4<f32>(q.z), c2); c3 = fma(a31, vec4<f32>(q.w), c3);
    q = bq(32u, nq); c0 = fma(a32, vec4<f32>(q.x), c0); c1 = fma(a32, vec4<f32>(q.y), c1); c2 = fma(a32, vec4<f32>(q.z), c2); c3 = fma(a32, vec4<f32>(q.w), c3);
    q = bq(33u, nq); c0 = fma(a33, vec4<f32>(q.x), c0); c1 = fma(a33, vec4<f32>(q.y), c1); c2 = fma(a33, vec4<f32>(q.z), c2); c3 = fma(a33, vec4<f32>(q.w), c3);
    q = bq(34u, nq); c0 = fma(a34, vec4<f32>(q.x), c0); c1 = fma(a34, vec4<f32>(q.y), c1); c2 = fma(a34, vec4<f32>(q.z), c2); c3 = fma(a34, vec4<f32>(q.w), c3);
    q = bq(35u, nq); c0 = fma(a35, vec4<f32>(q.x), c0); c1 = fma(a35, vec4<f32>(q.y), c1); c2 = fma(a35, vec4<f32>(q.z), c2); c3 = fma(a35, vec4<f32>(q.w), c3);
    q = bq(36u, nq); c0 = fma(a36, vec4<f32>(q.x), c0); c1 = fma(a36, vec4<f32>(q.y), c1); c2 = fma(a36, vec4<f32>(q.z), c2); c3 = fma(a36, vec4<f32>(q.w), c3);
    q = bq(37u, nq); c0 = fma(a37, vec4<f32>(q.x), c0); c1 = fma(a37, vec4<f32>(q.y), c1); c2 = fma(a37, vec4<f32>(q.z), c2); c3 = fma(a37, vec4<f32>(q.w), c3);
    q = bq(38u, nq); c0 = fma(a38, vec4<f32>(q.x), c0); c1 = fma(a38, vec4<f32>(q.y), c1); c2 = fma(a38, vec4<f32>(q.z), c2); c3 = fma(a38, vec4<f32>(q.w), c3);
    q = bq(39u, nq); c0 = fma(a39, vec4<f32>(q.x), c0); c1 = fma(a39, vec4<f32>(q.y), c1); c2 = fma(a39, vec4<f32>(q.z), c2); c3 = fma(a39, vec4<f32>(q.w), c3);
    q = bq(40u, nq); c0 = fma(a40, vec4<f32>(q.x), c0); c1 = fma(a40, vec4<f32>(q.y), c1); c2 = fma(a40, vec4<f32>(q.z), c2); c3 = fma(a40, vec4<f32>(q.w), c3);
    q = bq(41u, nq); c0 = fma(a41, vec4<f32>(q.x), c0); c1 = fma(a41, vec4<f32>(q.y), c1); c2 = fma(a41, vec4<f32>(q.z), c2); c3 = fma(a41, vec4<f32>(q.w), c3);
    q = bq(42u, nq); c0 = fma(a42, vec4<f32>(q.x), c0); c1 = fma(a42, vec4<f32>(q.y), c1); c2 = fma(a42, vec4<f32>(q.z), c2); c3 = fma(a42, vec4<f32>(q.w), c3);
    q = bq(43u, nq); c0 = fma(a43, vec4<f32>(q.x), c0); c1 = fma(a43, vec4<f32>(q.y), c1); c2 = fma(a43, vec4<f32>(q.z), c2); c3 = fma(a43, vec4<f32>(q.w), c3);
    q = bq(44u, nq); c0 = fma(a44, vec4<f32>(q.x), c0); c1 = fma(a44, vec4<f32>(q.y), c1); c2 = fma(a44, vec4<f32>(q.z), c2); c3 = fma(a44, vec4<f32>(q.w), c3);
    q = bq(45u, nq); c0 = fma(a45, vec4<f32>(q.x), c0); c1 = fma(a45, vec4<f32>(q.y), c1); c2 = fma(a45, vec4<f32>(q.z), c2); c3 = fma(a45, vec4<f32>(q.w), c3);
    q = bq(46u, nq); c0 = fma(a46, vec4<f32>(q.x), c0); c1 = fma(a46, vec4<f32>(q.y), c1); c2 = fma(a46, vec4<f32>(q.z), c2); c3 = fma(a46, vec4<f32>(q.w), c3);
    q = bq(47u, nq); c0 = fma(a47, vec4<f32>(q.x), c0); c1 = fma(a47, vec4<f32>(q.y), c1); c2 = fma(a47, vec4<f32>(q.z), c2); c3 = fma(a47, vec4<f32>(q.w), c3);
    q = bq(48u, nq); c0 = fma(a48, vec4<f32>(q.x), c0); c1 = fma(a48, vec4<f32>(q.y), c1); c2 = fma(a48, vec4<f32>(q.z), c2); c3 = fma(a48, vec4<f32>(q.w), c3);
    q = bq(49u, nq); c0 = fma(a49, vec4<f32>(q.x), c0); c1 = fma(a49, vec4<f32>(q.y), c1); c2 = fma(a49, vec4<f32>(q.z), c2); c3 = fma(a49, vec4<f32>(q.w), c3);
    q = bq(50u, nq); c0 = fma(a50, vec4<f32>(q.x), c0); c1 = fma(a50, vec4<f32>(q.y), c1); c2 = fma(a50, vec4<f32>(q.z), c2); c3 = fma(a50, vec4<f32>(q.w), c3);
    q = bq(51u, nq); c0 = fma(a51, vec4<f32>(q.x), c0); c1 = fma(a51, vec4<f32>(q.y), c1); c2 = fma(a51, vec4<f32>(q.z), c2); c3 = fma(a51, vec4<f32>(q.w), c3);
    q = bq(52u, nq); c0 = fma(a52, vec4<f32>(q.x), c0); c1 = fma(a52, vec4<f32>(q.y), c1); c2 = fma(a52, vec4<f32>(q.z), c2); c3 = fma(a52, vec4<f32>(q.w), c3);
    q = bq(53u, nq); c0 = fma(a53, vec4<f32>(q.x), c0); c1 = fma(a53, vec4<f32>(q.y), c1); c2 = fma(a53, vec4<f32>(q.z), c2); c3 = fma(a53, vec4<f32>(q.w), c3);
    q = bq(54u, nq); c0 = fma(a54, vec4<f32>(q.x), c0); c1 = fma(a54, vec4<f32>(q.y), c1); c2 = fma(a54, vec4<f32>(q.z), c2); c3 = fma(a54, vec4<f32>(q.w), c3);
    q = bq(55u, nq); c0 = fma(a55, vec4<f32>(q.x), c0); c1 = fma(a55, vec4<f32>(q.y), c1); c2 = fma(a55, vec4<f32>(q.z), c2); c3 = fma(a55, vec4<f32>(q.w), c3);
    q = bq(56u, nq); c0 = fma(a56, vec4<f32>(q.x), c0); c1 = fma(a56, vec4<f32>(q.y), c1); c2 = fma(a56, vec4<f32>(q.z), c2); c3 = fma(a56, vec4<f32>(q.w), c3);
    q = bq(57u, nq); c0 = fma(a57, vec4<f32>(q.x), c0); c1 = fma(a57, vec4<f32>(q.y), c1); c2 = fma(a57, vec4<f32>(q.z), c2); c3 = fma(a57, vec4<f32>(q.w), c3);
    q = bq(58u, nq); c0 = fma(a58, vec4<f32>(q.x), c0); c1 = fma(a58, vec4<f32>(q.y), c1); c2 = fma(a58, vec4<f32>(q.z), c2); c3 = fma(a58, vec4<f32>(q.w), c3);
    q = bq(59u, nq); c0 = fma(a59, vec4<f32>(q.x), c0); c1 = fma(a59, vec4<f32>(q.y), c1); c2 = fma(a59, vec4<f32>(q.z), c2); c3 = fma(a59, vec4<f32>(q.w), c3);
    q = bq(60u, nq); c0 = fma(a60, vec4<f32>(q.x), c0); c1 = fma(a60, vec4<f32>(q.y), c1); c2 = fma(a60, vec4<f32>(q.z), c2); c3 = fma(a60, vec4<f32>(q.w), c3);
    q = bq(61u, nq); c0 = fma(a61, vec4<f32>(q.x), c0); c1 = fma(a61, vec4<f32>(q.y), c1); c2 = fma(a61, vec4<f32>(q.z), c2); c3 = fma(a61, vec4<f32>(q.w), c3);
    q = bq(62u, nq); c0 = fma(a62, vec4<f32>(q.x), c0); c1 = fma(a62, vec4<f32>(q.y), c1); c2 = fma(a62, vec4<f32>(q.z), c2); c3 = fma(a62, vec4<f32>(q.w), c3);
    q = bq(63u, nq); c0 = fma(a63, vec4<f32>(q.x), c0); c1 = fma(a63, vec4<f32>(q.y), c1); c2 = fma(a63, vec4<f32>(q.z), c2); c3 = fma(a63, vec4<f32>(q.w), c3);
    let m = g * 4u;
    store(m, nq, blockRow(c0, c1, c2, c3, 0u));
    store(m + 1u, nq, blockRow(c0, c1, c2, c3, 1u));
    store(m + 2u, nq, blockRow(c0, c1, c2, c3, 2u));
    store(m + 3u, nq, blockRow(c0, c1, c2, c3, 3u));
  }
}
