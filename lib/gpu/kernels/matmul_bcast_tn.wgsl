// Matrix multiply out = op(A)·B (+ bias), or out += op(A)·B, for CPU adapters (llvmpipe): B read from a
// uniform buffer, A held in registers. op(A) is Aᵀ (TN, the lm_head weight gradient dwte = dlogitsᵀ·x) or,
// with the override A_MK, A itself (NN, the lm_head input gradient dx = dlogits·wte, whose K is the
// vocabulary). The counterpart of matmul_bcast.wgsl (read its header for why a uniform buffer).
//
// A is stored (K, M) row-major with row stride lda (TN), or (M, K) when A_MK (NN); B is (K, N) row-major
// with stride ldb, a window of 64 of its rows copied into a uniform buffer (64·ldb floats, at most 64 KiB);
// out is (M, N), stride ldo. Every stride is a multiple of 4.
//
// Each invocation owns eight consecutive rows of out, keeps op(A)[those rows, k0 .. k0+63] (128 vec4, two
// per k) in registers, and loops over the columns of out four at a time: every vec4 of B read from the
// window is spent on 32 FMAs (a B load is a per-lane gather on llvmpipe and costs more than the FMAs; four
// rows per invocation ran about 1.3× slower on dwte, sixteen rows 16 deep no faster than four), and each
// 4×4 block is transposed into four row vec4s when it is stored.
// With A_MK the four rows of a vec4 are four rows of A, read one float each through `a1`, the same buffer
// as `a` seen as scalars (per-lane loads cost the same per float either way on llvmpipe).
//
// Dispatch: one invocation per 8 rows of out (workgroups of WG along x, ceil(M/(8·WG)) of them) and per
// nq_per vec4 columns of out (along y) for one K slab [k0, k0 + 64). llvmpipe runs one workgroup per
// thread, so a short M, such as the 512 rows of dx, takes smaller workgroups, and if that is not enough a
// split along N, to keep every thread busy. The wrapper (lib/ops/matmul.ts, whose BCAST_ROWS is this
// shader's 8 rows) issues one dispatch per slab (its MATMUL_BCAST_BK is this shader's unrolled depth). init: what the slab's products are added to: 0 nothing, 1 bias, 2 the current
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

// op(A)[4g .. 4g+3, k0 + k] (g counts groups of four rows), zero past K and past M.
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
  let g = wid.x * WG + lid.x; // out rows 8g .. 8g+7
  let a0_0 = loadA(0u, 2u * g + 0u);
  let a0_1 = loadA(1u, 2u * g + 0u);
  let a0_2 = loadA(2u, 2u * g + 0u);
  let a0_3 = loadA(3u, 2u * g + 0u);
  let a0_4 = loadA(4u, 2u * g + 0u);
  let a0_5 = loadA(5u, 2u * g + 0u);
  let a0_6 = loadA(6u, 2u * g + 0u);
  let a0_7 = loadA(7u, 2u * g + 0u);
  let a0_8 = loadA(8u, 2u * g + 0u);
  let a0_9 = loadA(9u, 2u * g + 0u);
  let a0_10 = loadA(10u, 2u * g + 0u);
  let a0_11 = loadA(11u, 2u * g + 0u);
  let a0_12 = loadA(12u, 2u * g + 0u);
  let a0_13 = loadA(13u, 2u * g + 0u);
  let a0_14 = loadA(14u, 2u * g + 0u);
  let a0_15 = loadA(15u, 2u * g + 0u);
  let a0_16 = loadA(16u, 2u * g + 0u);
  let a0_17 = loadA(17u, 2u * g + 0u);
  let a0_18 = loadA(18u, 2u * g + 0u);
  let a0_19 = loadA(19u, 2u * g + 0u);
  let a0_20 = loadA(20u, 2u * g + 0u);
  let a0_21 = loadA(21u, 2u * g + 0u);
  let a0_22 = loadA(22u, 2u * g + 0u);
  let a0_23 = loadA(23u, 2u * g + 0u);
  let a0_24 = loadA(24u, 2u * g + 0u);
  let a0_25 = loadA(25u, 2u * g + 0u);
  let a0_26 = loadA(26u, 2u * g + 0u);
  let a0_27 = loadA(27u, 2u * g + 0u);
  let a0_28 = loadA(28u, 2u * g + 0u);
  let a0_29 = loadA(29u, 2u * g + 0u);
  let a0_30 = loadA(30u, 2u * g + 0u);
  let a0_31 = loadA(31u, 2u * g + 0u);
  let a0_32 = loadA(32u, 2u * g + 0u);
  let a0_33 = loadA(33u, 2u * g + 0u);
  let a0_34 = loadA(34u, 2u * g + 0u);
  let a0_35 = loadA(35u, 2u * g + 0u);
  let a0_36 = loadA(36u, 2u * g + 0u);
  let a0_37 = loadA(37u, 2u * g + 0u);
  let a0_38 = loadA(38u, 2u * g + 0u);
  let a0_39 = loadA(39u, 2u * g + 0u);
  let a0_40 = loadA(40u, 2u * g + 0u);
  let a0_41 = loadA(41u, 2u * g + 0u);
  let a0_42 = loadA(42u, 2u * g + 0u);
  let a0_43 = loadA(43u, 2u * g + 0u);
  let a0_44 = loadA(44u, 2u * g + 0u);
  let a0_45 = loadA(45u, 2u * g + 0u);
  let a0_46 = loadA(46u, 2u * g + 0u);
  let a0_47 = loadA(47u, 2u * g + 0u);
  let a0_48 = loadA(48u, 2u * g + 0u);
  let a0_49 = loadA(49u, 2u * g + 0u);
  let a0_50 = loadA(50u, 2u * g + 0u);
  let a0_51 = loadA(51u, 2u * g + 0u);
  let a0_52 = loadA(52u, 2u * g + 0u);
  let a0_53 = loadA(53u, 2u * g + 0u);
  let a0_54 = loadA(54u, 2u * g + 0u);
  let a0_55 = loadA(55u, 2u * g + 0u);
  let a0_56 = loadA(56u, 2u * g + 0u);
  let a0_57 = loadA(57u, 2u * g + 0u);
  let a0_58 = loadA(58u, 2u * g + 0u);
  let a0_59 = loadA(59u, 2u * g + 0u);
  let a0_60 = loadA(60u, 2u * g + 0u);
  let a0_61 = loadA(61u, 2u * g + 0u);
  let a0_62 = loadA(62u, 2u * g + 0u);
  let a0_63 = loadA(63u, 2u * g + 0u);
  let a1_0 = loadA(0u, 2u * g + 1u);
  let a1_1 = loadA(1u, 2u * g + 1u);
  let a1_2 = loadA(2u, 2u * g + 1u);
  let a1_3 = loadA(3u, 2u * g + 1u);
  let a1_4 = loadA(4u, 2u * g + 1u);
  let a1_5 = loadA(5u, 2u * g + 1u);
  let a1_6 = loadA(6u, 2u * g + 1u);
  let a1_7 = loadA(7u, 2u * g + 1u);
  let a1_8 = loadA(8u, 2u * g + 1u);
  let a1_9 = loadA(9u, 2u * g + 1u);
  let a1_10 = loadA(10u, 2u * g + 1u);
  let a1_11 = loadA(11u, 2u * g + 1u);
  let a1_12 = loadA(12u, 2u * g + 1u);
  let a1_13 = loadA(13u, 2u * g + 1u);
  let a1_14 = loadA(14u, 2u * g + 1u);
  let a1_15 = loadA(15u, 2u * g + 1u);
  let a1_16 = loadA(16u, 2u * g + 1u);
  let a1_17 = loadA(17u, 2u * g + 1u);
  let a1_18 = loadA(18u, 2u * g + 1u);
  let a1_19 = loadA(19u, 2u * g + 1u);
  let a1_20 = loadA(20u, 2u * g + 1u);
  let a1_21 = loadA(21u, 2u * g + 1u);
  let a1_22 = loadA(22u, 2u * g + 1u);
  let a1_23 = loadA(23u, 2u * g + 1u);
  let a1_24 = loadA(24u, 2u * g + 1u);
  let a1_25 = loadA(25u, 2u * g + 1u);
  let a1_26 = loadA(26u, 2u * g + 1u);
  let a1_27 = loadA(27u, 2u * g + 1u);
  let a1_28 = loadA(28u, 2u * g + 1u);
  let a1_29 = loadA(29u, 2u * g + 1u);
  let a1_30 = loadA(30u, 2u * g + 1u);
  let a1_31 = loadA(31u, 2u * g + 1u);
  let a1_32 = loadA(32u, 2u * g + 1u);
  let a1_33 = loadA(33u, 2u * g + 1u);
  let a1_34 = loadA(34u, 2u * g + 1u);
  let a1_35 = loadA(35u, 2u * g + 1u);
  let a1_36 = loadA(36u, 2u * g + 1u);
  let a1_37 = loadA(37u, 2u * g + 1u);
  let a1_38 = loadA(38u, 2u * g + 1u);
  let a1_39 = loadA(39u, 2u * g + 1u);
  let a1_40 = loadA(40u, 2u * g + 1u);
  let a1_41 = loadA(41u, 2u * g + 1u);
  let a1_42 = loadA(42u, 2u * g + 1u);
  let a1_43 = loadA(43u, 2u * g + 1u);
  let a1_44 = loadA(44u, 2u * g + 1u);
  let a1_45 = loadA(45u, 2u * g + 1u);
  let a1_46 = loadA(46u, 2u * g + 1u);
  let a1_47 = loadA(47u, 2u * g + 1u);
  let a1_48 = loadA(48u, 2u * g + 1u);
  let a1_49 = loadA(49u, 2u * g + 1u);
  let a1_50 = loadA(50u, 2u * g + 1u);
  let a1_51 = loadA(51u, 2u * g + 1u);
  let a1_52 = loadA(52u, 2u * g + 1u);
  let a1_53 = loadA(53u, 2u * g + 1u);
  let a1_54 = loadA(54u, 2u * g + 1u);
  let a1_55 = loadA(55u, 2u * g + 1u);
  let a1_56 = loadA(56u, 2u * g + 1u);
  let a1_57 = loadA(57u, 2u * g + 1u);
  let a1_58 = loadA(58u, 2u * g + 1u);
  let a1_59 = loadA(59u, 2u * g + 1u);
  let a1_60 = loadA(60u, 2u * g + 1u);
  let a1_61 = loadA(61u, 2u * g + 1u);
  let a1_62 = loadA(62u, 2u * g + 1u);
  let a1_63 = loadA(63u, 2u * g + 1u);
  let nq0 = wid.y * p.nq_per;
  let nq1 = min(nq0 + p.nq_per, (p.N + 3u) / 4u);
  for (var nq = nq0; nq < nq1; nq++) {
    var c0_0 = vec4<f32>(0.0);
    var c0_1 = vec4<f32>(0.0);
    var c0_2 = vec4<f32>(0.0);
    var c0_3 = vec4<f32>(0.0);
    var c1_0 = vec4<f32>(0.0);
    var c1_1 = vec4<f32>(0.0);
    var c1_2 = vec4<f32>(0.0);
    var c1_3 = vec4<f32>(0.0);
    var q: vec4<f32>;
    q = bq(0u, nq); c0_0 = fma(a0_0, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_0, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_0, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_0, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_0, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_0, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_0, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_0, vec4<f32>(q.w), c1_3);
    q = bq(1u, nq); c0_0 = fma(a0_1, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_1, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_1, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_1, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_1, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_1, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_1, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_1, vec4<f32>(q.w), c1_3);
    q = bq(2u, nq); c0_0 = fma(a0_2, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_2, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_2, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_2, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_2, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_2, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_2, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_2, vec4<f32>(q.w), c1_3);
    q = bq(3u, nq); c0_0 = fma(a0_3, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_3, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_3, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_3, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_3, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_3, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_3, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_3, vec4<f32>(q.w), c1_3);
    q = bq(4u, nq); c0_0 = fma(a0_4, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_4, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_4, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_4, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_4, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_4, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_4, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_4, vec4<f32>(q.w), c1_3);
    q = bq(5u, nq); c0_0 = fma(a0_5, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_5, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_5, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_5, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_5, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_5, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_5, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_5, vec4<f32>(q.w), c1_3);
    q = bq(6u, nq); c0_0 = fma(a0_6, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_6, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_6, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_6, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_6, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_6, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_6, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_6, vec4<f32>(q.w), c1_3);
    q = bq(7u, nq); c0_0 = fma(a0_7, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_7, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_7, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_7, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_7, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_7, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_7, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_7, vec4<f32>(q.w), c1_3);
    q = bq(8u, nq); c0_0 = fma(a0_8, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_8, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_8, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_8, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_8, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_8, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_8, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_8, vec4<f32>(q.w), c1_3);
    q = bq(9u, nq); c0_0 = fma(a0_9, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_9, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_9, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_9, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_9, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_9, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_9, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_9, vec4<f32>(q.w), c1_3);
    q = bq(10u, nq); c0_0 = fma(a0_10, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_10, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_10, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_10, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_10, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_10, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_10, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_10, vec4<f32>(q.w), c1_3);
    q = bq(11u, nq); c0_0 = fma(a0_11, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_11, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_11, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_11, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_11, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_11, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_11, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_11, vec4<f32>(q.w), c1_3);
    q = bq(12u, nq); c0_0 = fma(a0_12, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_12, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_12, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_12, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_12, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_12, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_12, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_12, vec4<f32>(q.w), c1_3);
    q = bq(13u, nq); c0_0 = fma(a0_13, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_13, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_13, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_13, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_13, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_13, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_13, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_13, vec4<f32>(q.w), c1_3);
    q = bq(14u, nq); c0_0 = fma(a0_14, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_14, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_14, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_14, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_14, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_14, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_14, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_14, vec4<f32>(q.w), c1_3);
    q = bq(15u, nq); c0_0 = fma(a0_15, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_15, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_15, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_15, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_15, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_15, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_15, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_15, vec4<f32>(q.w), c1_3);
    q = bq(16u, nq); c0_0 = fma(a0_16, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_16, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_16, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_16, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_16, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_16, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_16, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_16, vec4<f32>(q.w), c1_3);
    q = bq(17u, nq); c0_0 = fma(a0_17, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_17, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_17, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_17, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_17, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_17, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_17, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_17, vec4<f32>(q.w), c1_3);
    q = bq(18u, nq); c0_0 = fma(a0_18, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_18, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_18, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_18, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_18, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_18, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_18, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_18, vec4<f32>(q.w), c1_3);
    q = bq(19u, nq); c0_0 = fma(a0_19, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_19, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_19, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_19, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_19, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_19, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_19, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_19, vec4<f32>(q.w), c1_3);
    q = bq(20u, nq); c0_0 = fma(a0_20, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_20, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_20, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_20, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_20, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_20, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_20, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_20, vec4<f32>(q.w), c1_3);
    q = bq(21u, nq); c0_0 = fma(a0_21, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_21, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_21, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_21, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_21, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_21, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_21, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_21, vec4<f32>(q.w), c1_3);
    q = bq(22u, nq); c0_0 = fma(a0_22, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_22, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_22, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_22, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_22, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_22, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_22, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_22, vec4<f32>(q.w), c1_3);
    q = bq(23u, nq); c0_0 = fma(a0_23, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_23, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_23, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_23, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_23, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_23, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_23, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_23, vec4<f32>(q.w), c1_3);
    q = bq(24u, nq); c0_0 = fma(a0_24, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_24, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_24, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_24, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_24, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_24, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_24, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_24, vec4<f32>(q.w), c1_3);
    q = bq(25u, nq); c0_0 = fma(a0_25, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_25, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_25, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_25, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_25, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_25, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_25, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_25, vec4<f32>(q.w), c1_3);
    q = bq(26u, nq); c0_0 = fma(a0_26, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_26, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_26, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_26, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_26, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_26, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_26, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_26, vec4<f32>(q.w), c1_3);
    q = bq(27u, nq); c0_0 = fma(a0_27, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_27, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_27, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_27, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_27, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_27, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_27, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_27, vec4<f32>(q.w), c1_3);
    q = bq(28u, nq); c0_0 = fma(a0_28, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_28, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_28, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_28, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_28, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_28, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_28, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_28, vec4<f32>(q.w), c1_3);
    q = bq(29u, nq); c0_0 = fma(a0_29, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_29, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_29, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_29, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_29, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_29, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_29, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_29, vec4<f32>(q.w), c1_3);
    q = bq(30u, nq); c0_0 = fma(a0_30, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_30, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_30, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_30, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_30, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_30, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_30, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_30, vec4<f32>(q.w), c1_3);
    q = bq(31u, nq); c0_0 = fma(a0_31, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_31, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_31, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_31, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_31, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_31, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_31, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_31, vec4<f32>(q.w), c1_3);
    q = bq(32u, nq); c0_0 = fma(a0_32, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_32, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_32, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_32, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_32, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_32, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_32, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_32, vec4<f32>(q.w), c1_3);
    q = bq(33u, nq); c0_0 = fma(a0_33, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_33, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_33, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_33, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_33, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_33, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_33, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_33, vec4<f32>(q.w), c1_3);
    q = bq(34u, nq); c0_0 = fma(a0_34, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_34, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_34, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_34, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_34, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_34, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_34, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_34, vec4<f32>(q.w), c1_3);
    q = bq(35u, nq); c0_0 = fma(a0_35, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_35, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_35, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_35, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_35, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_35, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_35, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_35, vec4<f32>(q.w), c1_3);
    q = bq(36u, nq); c0_0 = fma(a0_36, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_36, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_36, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_36, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_36, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_36, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_36, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_36, vec4<f32>(q.w), c1_3);
    q = bq(37u, nq); c0_0 = fma(a0_37, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_37, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_37, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_37, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_37, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_37, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_37, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_37, vec4<f32>(q.w), c1_3);
    q = bq(38u, nq); c0_0 = fma(a0_38, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_38, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_38, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_38, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_38, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_38, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_38, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_38, vec4<f32>(q.w), c1_3);
    q = bq(39u, nq); c0_0 = fma(a0_39, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_39, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_39, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_39, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_39, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_39, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_39, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_39, vec4<f32>(q.w), c1_3);
    q = bq(40u, nq); c0_0 = fma(a0_40, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_40, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_40, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_40, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_40, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_40, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_40, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_40, vec4<f32>(q.w), c1_3);
    q = bq(41u, nq); c0_0 = fma(a0_41, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_41, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_41, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_41, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_41, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_41, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_41, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_41, vec4<f32>(q.w), c1_3);
    q = bq(42u, nq); c0_0 = fma(a0_42, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_42, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_42, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_42, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_42, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_42, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_42, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_42, vec4<f32>(q.w), c1_3);
    q = bq(43u, nq); c0_0 = fma(a0_43, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_43, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_43, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_43, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_43, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_43, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_43, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_43, vec4<f32>(q.w), c1_3);
    q = bq(44u, nq); c0_0 = fma(a0_44, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_44, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_44, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_44, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_44, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_44, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_44, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_44, vec4<f32>(q.w), c1_3);
    q = bq(45u, nq); c0_0 = fma(a0_45, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_45, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_45, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_45, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_45, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_45, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_45, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_45, vec4<f32>(q.w), c1_3);
    q = bq(46u, nq); c0_0 = fma(a0_46, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_46, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_46, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_46, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_46, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_46, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_46, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_46, vec4<f32>(q.w), c1_3);
    q = bq(47u, nq); c0_0 = fma(a0_47, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_47, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_47, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_47, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_47, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_47, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_47, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_47, vec4<f32>(q.w), c1_3);
    q = bq(48u, nq); c0_0 = fma(a0_48, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_48, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_48, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_48, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_48, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_48, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_48, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_48, vec4<f32>(q.w), c1_3);
    q = bq(49u, nq); c0_0 = fma(a0_49, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_49, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_49, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_49, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_49, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_49, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_49, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_49, vec4<f32>(q.w), c1_3);
    q = bq(50u, nq); c0_0 = fma(a0_50, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_50, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_50, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_50, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_50, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_50, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_50, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_50, vec4<f32>(q.w), c1_3);
    q = bq(51u, nq); c0_0 = fma(a0_51, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_51, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_51, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_51, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_51, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_51, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_51, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_51, vec4<f32>(q.w), c1_3);
    q = bq(52u, nq); c0_0 = fma(a0_52, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_52, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_52, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_52, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_52, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_52, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_52, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_52, vec4<f32>(q.w), c1_3);
    q = bq(53u, nq); c0_0 = fma(a0_53, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_53, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_53, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_53, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_53, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_53, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_53, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_53, vec4<f32>(q.w), c1_3);
    q = bq(54u, nq); c0_0 = fma(a0_54, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_54, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_54, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_54, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_54, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_54, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_54, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_54, vec4<f32>(q.w), c1_3);
    q = bq(55u, nq); c0_0 = fma(a0_55, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_55, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_55, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_55, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_55, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_55, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_55, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_55, vec4<f32>(q.w), c1_3);
    q = bq(56u, nq); c0_0 = fma(a0_56, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_56, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_56, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_56, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_56, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_56, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_56, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_56, vec4<f32>(q.w), c1_3);
    q = bq(57u, nq); c0_0 = fma(a0_57, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_57, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_57, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_57, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_57, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_57, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_57, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_57, vec4<f32>(q.w), c1_3);
    q = bq(58u, nq); c0_0 = fma(a0_58, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_58, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_58, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_58, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_58, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_58, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_58, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_58, vec4<f32>(q.w), c1_3);
    q = bq(59u, nq); c0_0 = fma(a0_59, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_59, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_59, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_59, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_59, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_59, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_59, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_59, vec4<f32>(q.w), c1_3);
    q = bq(60u, nq); c0_0 = fma(a0_60, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_60, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_60, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_60, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_60, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_60, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_60, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_60, vec4<f32>(q.w), c1_3);
    q = bq(61u, nq); c0_0 = fma(a0_61, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_61, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_61, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_61, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_61, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_61, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_61, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_61, vec4<f32>(q.w), c1_3);
    q = bq(62u, nq); c0_0 = fma(a0_62, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_62, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_62, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_62, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_62, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_62, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_62, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_62, vec4<f32>(q.w), c1_3);
    q = bq(63u, nq); c0_0 = fma(a0_63, vec4<f32>(q.x), c0_0); c0_1 = fma(a0_63, vec4<f32>(q.y), c0_1); c0_2 = fma(a0_63, vec4<f32>(q.z), c0_2); c0_3 = fma(a0_63, vec4<f32>(q.w), c0_3); c1_0 = fma(a1_63, vec4<f32>(q.x), c1_0); c1_1 = fma(a1_63, vec4<f32>(q.y), c1_1); c1_2 = fma(a1_63, vec4<f32>(q.z), c1_2); c1_3 = fma(a1_63, vec4<f32>(q.w), c1_3);
    let m = g * 8u;
    store(m + 0u, nq, blockRow(c0_0, c0_1, c0_2, c0_3, 0u));
    store(m + 1u, nq, blockRow(c0_0, c0_1, c0_2, c0_3, 1u));
    store(m + 2u, nq, blockRow(c0_0, c0_1, c0_2, c0_3, 2u));
    store(m + 3u, nq, blockRow(c0_0, c0_1, c0_2, c0_3, 3u));
    store(m + 4u, nq, blockRow(c1_0, c1_1, c1_2, c1_3, 0u));
    store(m + 5u, nq, blockRow(c1_0, c1_1, c1_2, c1_3, 1u));
    store(m + 6u, nq, blockRow(c1_0, c1_1, c1_2, c1_3, 2u));
    store(m + 7u, nq, blockRow(c1_0, c1_1, c1_2, c1_3, 3u));
  }
}
