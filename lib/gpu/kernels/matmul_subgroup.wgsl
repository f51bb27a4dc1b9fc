// Matrix multiply out = op(A)·op(B) (+ bias), or out += op(A)·op(B), for CPU adapters (llvmpipe), with
// subgroup broadcasts. The unrolled part (between the markers in main) is written by
// scripts/gen_matmul_subgroup.ts; edit that part there.
//
// A is stored (M, K) row-major, or (K, M) with the override A_KM (TN); B is stored (N, K) (NT), or (K, N)
// with B_KN (NN and TN); out is (M, N). Strides lda, ldb and ldo are in floats, multiples of 4.
//
// Why this shape: llvmpipe runs a subgroup of 8 invocations as one SIMD vector and compiles a load whose
// address it cannot prove uniform into one load per lane, even when all lanes read the same address, so a
// loop that broadcasts one operand to every lane pays eight loads per float. Here each lane loads a
// different eighth of the 64 values of op(A)'s row that the slab needs, and subgroupBroadcast (an extract
// and a splat) hands each value to every lane: one load per float per subgroup instead of eight. Each
// invocation keeps a 64-deep slab of eight columns of op(B) in registers (loaded once per slab) and spends
// every broadcast value on eight FMAs into eight scalar accumulators, one per column.
//
// Needs subgroups whose size is a multiple of 8 (lane i reads part i mod 8; lanes 0..7 broadcast).
//
// Dispatch: one invocation per 8 columns of out (workgroups of WG along x) and workgroups along y that
// each take p.m_per rows; the slabs k0, k0+64, .. below k1 run in one dispatch, rows inside slabs, so a
// slab is loaded once per workgroup (the wrapper bounds slabs × rows: llvmpipe before Mesa 23 stops a
// shader's loops after 65535 iterations in all). init: what the product at k = 0 starts from: 0 nothing, 1 bias, 2 the
// current out; later slabs add to out. A vec4 of out that crosses N keeps its old values past N.
//
// Bindings: 0 Params; 1 out (M, N) read_write; 2 a as vec4s; 3 a as floats (the same view); 4 b as vec4s;
// 5 b as floats (the same view); 6 bias (N) (any readable view when init != 1).

struct Params {
  M: u32,
  N: u32,
  K: u32,
  lda: u32,
  ldb: u32,
  ldo: u32,
  k0: u32,     // first k of this dispatch (a multiple of 64)
  k1: u32,     // end of this dispatch's K range
  init: u32,
  m_per: u32,  // rows of out per workgroup along y
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> a1: array<f32>;
@group(0) @binding(4) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> b1: array<f32>;
@group(0) @binding(6) var<storage, read> bias: array<vec4<f32>>;

// A is stored (K, M) (TN) instead of (M, K).
override A_KM: bool = false;
// B is stored (K, N) (NN, TN) instead of (N, K) (NT).
override B_KN: bool = false;
// Invocations per workgroup (a multiple of 8, at most 64): no more than the columns need, since llvmpipe
// runs one workgroup per thread and idle lanes cost as much as busy ones.
override WG: u32 = 64u;

const LANE4 = vec4<u32>(0u, 1u, 2u, 3u);

// The four consecutive indices i .. i+3 that are below `end`, as a mask.
fn below(i: u32, end: u32) -> vec4<bool> {
  return (vec4<u32>(i) + LANE4) < vec4<u32>(end);
}

// op(A)[m, k .. k+3] for a row m < M and k a multiple of 4, zero at k ≥ K: one vec4 load when A is
// (M, K), four floats when it is (K, M).
fn loadA4(m: u32, k: u32) -> vec4<f32> {
  let ok = below(k, p.K);
  if (A_KM) {
    let i = select(vec4<u32>(m), (vec4<u32>(k) + LANE4) * p.lda + m, ok);
    return select(vec4<f32>(0.0), vec4<f32>(a1[i.x], a1[i.y], a1[i.z], a1[i.w]), ok);
  }
  return select(vec4<f32>(0.0), a4[m * (p.lda / 4u) + select(0u, k / 4u, k < p.K)], ok);
}

// op(B)[k, n .. n+3] for n a multiple of 4, zero at k ≥ K or past N: one vec4 load when B is (K, N),
// four floats when it is (N, K).
fn loadB4(k: u32, n: u32) -> vec4<f32> {
  let ok = below(n, p.N) & vec4<bool>(k < p.K);
  if (B_KN) {
    return select(vec4<f32>(0.0), b4[select(0u, k * (p.ldb / 4u) + n / 4u, k < p.K && n < p.N)], ok);
  }
  let i = select(vec4<u32>(0u), (vec4<u32>(n) + LANE4) * p.ldb + k, ok);
  return select(vec4<f32>(0.0), vec4<f32>(b1[i.x], b1[i.y], b1[i.z], b1[i.w]), ok);
}

// Stores v at out[m, n .. n+3] (nothing at n ≥ N; columns past N keep their old values), added to the
// bias or to the old values as init and first say.
fn store(m: u32, n: u32, v: vec4<f32>, first: bool) {
  if (n >= p.N) {
    return;
  }
  let oi = m * (p.ldo / 4u) + n / 4u;
  var r = v;
  if (first && p.init == 1u) {
    r += bias[n / 4u];
  }
  let add = !first || p.init == 2u;
  if (add || n + 3u >= p.N) {
    let old = out[oi];
    r = select(old, r + select(vec4<f32>(0.0), old, add), below(n, p.N));
  }
  out[oi] = r;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(subgroup_invocation_id) sid: u32,
) {
  let n = (wid.x * WG + lid.x) * 8u; // out columns n .. n+7
  let lane = sid % 8u;
  let m0 = wid.y * p.m_per;
  let m1 = min(p.M, m0 + p.m_per);
  // K = 0 still runs one (empty) slab, to write the bias or zeros.
  let kEnd = max(p.k1, p.k0 + 1u);
  for (var ks = p.k0; ks < kEnd; ks += 64u) {
    let first = ks == 0u;
    // The slab: op(B)[ks + k, n + 4h .. n + 4h + 3] as wh_k.
    // ---- unrolled by scripts/gen_matmul_subgroup.ts: begin ----
    let w0_0 = loadB4(ks + 0u, n);
    let w1_0 = loadB4(ks + 0u, n + 4u);
    let w0_1 = loadB4(ks + 1u, n);
    let w1_1 = loadB4(ks + 1u, n + 4u);
    let w0_2 = loadB4(ks + 2u, n);
    let w1_2 = loadB4(ks + 2u, n + 4u);
    let w0_3 = loadB4(ks + 3u, n);
    let w1_3 = loadB4(ks + 3u, n + 4u);
    let w0_4 = loadB4(ks + 4u, n);
    let w1_4 = loadB4(ks + 4u, n + 4u);
    let w0_5 = loadB4(ks + 5u, n);
    let w1_5 = loadB4(ks + 5u, n + 4u);
    let w0_6 = loadB4(ks + 6u, n);
    let w1_6 = loadB4(ks + 6u, n + 4u);
    let w0_7 = loadB4(ks + 7u, n);
    let w1_7 = loadB4(ks + 7u, n + 4u);
    let w0_8 = loadB4(ks + 8u, n);
    let w1_8 = loadB4(ks + 8u, n + 4u);
    let w0_9 = loadB4(ks + 9u, n);
    let w1_9 = loadB4(ks + 9u, n + 4u);
    let w0_10 = loadB4(ks + 10u, n);
    let w1_10 = loadB4(ks + 10u, n + 4u);
    let w0_11 = loadB4(ks + 11u, n);
    let w1_11 = loadB4(ks + 11u, n + 4u);
    let w0_12 = loadB4(ks + 12u, n);
    let w1_12 = loadB4(ks + 12u, n + 4u);
    let w0_13 = loadB4(ks + 13u, n);
    let w1_13 = loadB4(ks + 13u, n + 4u);
    let w0_14 = loadB4(ks + 14u, n);
    let w1_14 = loadB4(ks + 14u, n + 4u);
    let w0_15 = loadB4(ks + 15u, n);
    let w1_15 = loadB4(ks + 15u, n + 4u);
    let w0_16 = loadB4(ks + 16u, n);
    let w1_16 = loadB4(ks + 16u, n + 4u);
    let w0_17 = loadB4(ks + 17u, n);
    let w1_17 = loadB4(ks + 17u, n + 4u);
    let w0_18 = loadB4(ks + 18u, n);
    let w1_18 = loadB4(ks + 18u, n + 4u);
    let w0_19 = loadB4(ks + 19u, n);
    let w1_19 = loadB4(ks + 19u, n + 4u);
    let w0_20 = loadB4(ks + 20u, n);
    let w1_20 = loadB4(ks + 20u, n + 4u);
    let w0_21 = loadB4(ks + 21u, n);
    let w1_21 = loadB4(ks + 21u, n + 4u);
    let w0_22 = loadB4(ks + 22u, n);
    let w1_22 = loadB4(ks + 22u, n + 4u);
    let w0_23 = loadB4(ks + 23u, n);
    let w1_23 = loadB4(ks + 23u, n + 4u);
    let w0_24 = loadB4(ks + 24u, n);
    let w1_24 = loadB4(ks + 24u, n + 4u);
    let w0_25 = loadB4(ks + 25u, n);
    let w1_25 = loadB4(ks + 25u, n + 4u);
    let w0_26 = loadB4(ks + 26u, n);
    let w1_26 = loadB4(ks + 26u, n + 4u);
    let w0_27 = loadB4(ks + 27u, n);
    let w1_27 = loadB4(ks + 27u, n + 4u);
    let w0_28 = loadB4(ks + 28u, n);
    let w1_28 = loadB4(ks + 28u, n + 4u);
    let w0_29 = loadB4(ks + 29u, n);
    let w1_29 = loadB4(ks + 29u, n + 4u);
    let w0_30 = loadB4(ks + 30u, n);
    let w1_30 = loadB4(ks + 30u, n + 4u);
    let w0_31 = loadB4(ks + 31u, n);
    let w1_31 = loadB4(ks + 31u, n + 4u);
    let w0_32 = loadB4(ks + 32u, n);
    let w1_32 = loadB4(ks + 32u, n + 4u);
    let w0_33 = loadB4(ks + 33u, n);
    let w1_33 = loadB4(ks + 33u, n + 4u);
    let w0_34 = loadB4(ks + 34u, n);
    let w1_34 = loadB4(ks + 34u, n + 4u);
    let w0_35 = loadB4(ks + 35u, n);
    let w1_35 = loadB4(ks + 35u, n + 4u);
    let w0_36 = loadB4(ks + 36u, n);
    let w1_36 = loadB4(ks + 36u, n + 4u);
    let w0_37 = loadB4(ks + 37u, n);
    let w1_37 = loadB4(ks + 37u, n + 4u);
    let w0_38 = loadB4(ks + 38u, n);
    let w1_38 = loadB4(ks + 38u, n + 4u);
    let w0_39 = loadB4(ks + 39u, n);
    let w1_39 = loadB4(ks + 39u, n + 4u);
    let w0_40 = loadB4(ks + 40u, n);
    let w1_40 = loadB4(ks + 40u, n + 4u);
    let w0_41 = loadB4(ks + 41u, n);
    let w1_41 = loadB4(ks + 41u, n + 4u);
    let w0_42 = loadB4(ks + 42u, n);
    let w1_42 = loadB4(ks + 42u, n + 4u);
    let w0_43 = loadB4(ks + 43u, n);
    let w1_43 = loadB4(ks + 43u, n + 4u);
    let w0_44 = loadB4(ks + 44u, n);
    let w1_44 = loadB4(ks + 44u, n + 4u);
    let w0_45 = loadB4(ks + 45u, n);
    let w1_45 = loadB4(ks + 45u, n + 4u);
    let w0_46 = loadB4(ks + 46u, n);
    let w1_46 = loadB4(ks + 46u, n + 4u);
    let w0_47 = loadB4(ks + 47u, n);
    let w1_47 = loadB4(ks + 47u, n + 4u);
    let w0_48 = loadB4(ks + 48u, n);
    let w1_48 = loadB4(ks + 48u, n + 4u);
    let w0_49 = loadB4(ks + 49u, n);
    let w1_49 = loadB4(ks + 49u, n + 4u);
    let w0_50 = loadB4(ks + 50u, n);
    let w1_50 = loadB4(ks + 50u, n + 4u);
    let w0_51 = loadB4(ks + 51u, n);
    let w1_51 = loadB4(ks + 51u, n + 4u);
    let w0_52 = loadB4(ks + 52u, n);
    let w1_52 = loadB4(ks + 52u, n + 4u);
    let w0_53 = loadB4(ks + 53u, n);
    let w1_53 = loadB4(ks + 53u, n + 4u);
    let w0_54 = loadB4(ks + 54u, n);
    let w1_54 = loadB4(ks + 54u, n + 4u);
    let w0_55 = loadB4(ks + 55u, n);
    let w1_55 = loadB4(ks + 55u, n + 4u);
    let w0_56 = loadB4(ks + 56u, n);
    let w1_56 = loadB4(ks + 56u, n + 4u);
    let w0_57 = loadB4(ks + 57u, n);
    let w1_57 = loadB4(ks + 57u, n + 4u);
    let w0_58 = loadB4(ks + 58u, n);
    let w1_58 = loadB4(ks + 58u, n + 4u);
    let w0_59 = loadB4(ks + 59u, n);
    let w1_59 = loadB4(ks + 59u, n + 4u);
    let w0_60 = loadB4(ks + 60u, n);
    let w1_60 = loadB4(ks + 60u, n + 4u);
    let w0_61 = loadB4(ks + 61u, n);
    let w1_61 = loadB4(ks + 61u, n + 4u);
    let w0_62 = loadB4(ks + 62u, n);
    let w1_62 = loadB4(ks + 62u, n + 4u);
    let w0_63 = loadB4(ks + 63u, n);
    let w1_63 = loadB4(ks + 63u, n + 4u);
    for (var m = m0; m < m1; m++) {
      // Lane i holds op(A)[m, ks + 4i .. +3] in v0 and [m, ks + 32 + 4i .. +3] in v1; qj is lane j's part.
      let v0 = loadA4(m, ks + 4u * lane);
      let v1 = loadA4(m, ks + 32u + 4u * lane);
      let q0 = subgroupBroadcast(v0, 0u);
      let q1 = subgroupBroadcast(v0, 1u);
      let q2 = subgroupBroadcast(v0, 2u);
      let q3 = subgroupBroadcast(v0, 3u);
      let q4 = subgroupBroadcast(v0, 4u);
      let q5 = subgroupBroadcast(v0, 5u);
      let q6 = subgroupBroadcast(v0, 6u);
      let q7 = subgroupBroadcast(v0, 7u);
      let q8 = subgroupBroadcast(v1, 0u);
      let q9 = subgroupBroadcast(v1, 1u);
      let q10 = subgroupBroadcast(v1, 2u);
      let q11 = subgroupBroadcast(v1, 3u);
      let q12 = subgroupBroadcast(v1, 4u);
      let q13 = subgroupBroadcast(v1, 5u);
      let q14 = subgroupBroadcast(v1, 6u);
      let q15 = subgroupBroadcast(v1, 7u);
      var s0 = 0.0;
      var s1 = 0.0;
      var s2 = 0.0;
      var s3 = 0.0;
      var s4 = 0.0;
      var s5 = 0.0;
      var s6 = 0.0;
      var s7 = 0.0;
      s0 = fma(q0.x, w0_0.x, s0); s1 = fma(q0.x, w0_0.y, s1); s2 = fma(q0.x, w0_0.z, s2); s3 = fma(q0.x, w0_0.w, s3);
      s4 = fma(q0.x, w1_0.x, s4); s5 = fma(q0.x, w1_0.y, s5); s6 = fma(q0.x, w1_0.z, s6); s7 = fma(q0.x, w1_0.w, s7);
      s0 = fma(q0.y, w0_1.x, s0); s1 = fma(q0.y, w0_1.y, s1); s2 = fma(q0.y, w0_1.z, s2); s3 = fma(q0.y, w0_1.w, s3);
      s4 = fma(q0.y, w1_1.x, s4); s5 = fma(q0.y, w1_1.y, s5); s6 = fma(q0.y, w1_1.z, s6); s7 = fma(q0.y, w1_1.w, s7);
      s0 = fma(q0.z, w0_2.x, s0); s1 = fma(q0.z, w0_2.y, s1); s2 = fma(q0.z, w0_2.z, s2); s3 = fma(q0.z, w0_2.w, s3);
      s4 = fma(q0.z, w1_2.x, s4); s5 = fma(q0.z, w1_2.y, s5); s6 = fma(q0.z, w1_2.z, s6); s7 = fma(q0.z, w1_2.w, s7);
      s0 = fma(q0.w, w0_3.x, s0); s1 = fma(q0.w, w0_3.y, s1); s2 = fma(q0.w, w0_3.z, s2); s3 = fma(q0.w, w0_3.w, s3);
      s4 = fma(q0.w, w1_3.x, s4); s5 = fma(q0.w, w1_3.y, s5); s6 = fma(q0.w, w1_3.z, s6); s7 = fma(q0.w, w1_3.w, s7);
      s0 = fma(q1.x, w0_4.x, s0); s1 = fma(q1.x, w0_4.y, s1); s2 = fma(q1.x, w0_4.z, s2); s3 = fma(q1.x, w0_4.w, s3);
      s4 = fma(q1.x, w1_4.x, s4); s5 = fma(q1.x, w1_4.y, s5); s6 = fma(q1.x, w1_4.z, s6); s7 = fma(q1.x, w1_4.w, s7);
      s0 = fma(q1.y, w0_5.x, s0); s1 = fma(q1.y, w0_5.y, s1); s2 = fma(q1.y, w0_5.z, s2); s3 = fma(q1.y, w0_5.w, s3);
      s4 = fma(q1.y, w1_5.x, s4); s5 = fma(q1.y, w1_5.y, s5); s6 = fma(q1.y, w1_5.z, s6); s7 = fma(q1.y, w1_5.w, s7);
      s0 = fma(q1.z, w0_6.x, s0); s1 = fma(q1.z, w0_6.y, s1); s2 = fma(q1.z, w0_6.z, s2); s3 = fma(q1.z, w0_6.w, s3);
      s4 = fma(q1.z, w1_6.x, s4); s5 = fma(q1.z, w1_6.y, s5); s6 = fma(q1.z, w1_6.z, s6); s7 = fma(q1.z, w1_6.w, s7);
      s0 = fma(q1.w, w0_7.x, s0); s1 = fma(q1.w, w0_7.y, s1); s2 = fma(q1.w, w0_7.z, s2); s3 = fma(q1.w, w0_7.w, s3);
      s4 = fma(q1.w, w1_7.x, s4); s5 = fma(q1.w, w1_7.y, s5); s6 = fma(q1.w, w1_7.z, s6); s7 = fma(q1.w, w1_7.w, s7);
      s0 = fma(q2.x, w0_8.x, s0); s1 = fma(q2.x, w0_8.y, s1); s2 = fma(q2.x, w0_8.z, s2); s3 = fma(q2.x, w0_8.w, s3);
      s4 = fma(q2.x, w1_8.x, s4); s5 = fma(q2.x, w1_8.y, s5); s6 = fma(q2.x, w1_8.z, s6); s7 = fma(q2.x, w1_8.w, s7);
      s0 = fma(q2.y, w0_9.x, s0); s1 = fma(q2.y, w0_9.y, s1); s2 = fma(q2.y, w0_9.z, s2); s3 = fma(q2.y, w0_9.w, s3);
      s4 = fma(q2.y, w1_9.x, s4); s5 = fma(q2.y, w1_9.y, s5); s6 = fma(q2.y, w1_9.z, s6); s7 = fma(q2.y, w1_9.w, s7);
      s0 = fma(q2.z, w0_10.x, s0); s1 = fma(q2.z, w0_10.y, s1); s2 = fma(q2.z, w0_10.z, s2); s3 = fma(q2.z, w0_10.w, s3);
      s4 = fma(q2.z, w1_10.x, s4); s5 = fma(q2.z, w1_10.y, s5); s6 = fma(q2.z, w1_10.z, s6); s7 = fma(q2.z, w1_10.w, s7);
      s0 = fma(q2.w, w0_11.x, s0); s1 = fma(q2.w, w0_11.y, s1); s2 = fma(q2.w, w0_11.z, s2); s3 = fma(q2.w, w0_11.w, s3);
      s4 = fma(q2.w, w1_11.x, s4); s5 = fma(q2.w, w1_11.y, s5); s6 = fma(q2.w, w1_11.z, s6); s7 = fma(q2.w, w1_11.w, s7);
      s0 = fma(q3.x, w0_12.x, s0); s1 = fma(q3.x, w0_12.y, s1); s2 = fma(q3.x, w0_12.z, s2); s3 = fma(q3.x, w0_12.w, s3);
      s4 = fma(q3.x, w1_12.x, s4); s5 = fma(q3.x, w1_12.y, s5); s6 = fma(q3.x, w1_12.z, s6); s7 = fma(q3.x, w1_12.w, s7);
      s0 = fma(q3.y, w0_13.x, s0); s1 = fma(q3.y, w0_13.y, s1); s2 = fma(q3.y, w0_13.z, s2); s3 = fma(q3.y, w0_13.w, s3);
      s4 = fma(q3.y, w1_13.x, s4); s5 = fma(q3.y, w1_13.y, s5); s6 = fma(q3.y, w1_13.z, s6); s7 = fma(q3.y, w1_13.w, s7);
      s0 = fma(q3.z, w0_14.x, s0); s1 = fma(q3.z, w0_14.y, s1); s2 = fma(q3.z, w0_14.z, s2); s3 = fma(q3.z, w0_14.w, s3);
      s4 = fma(q3.z, w1_14.x, s4); s5 = fma(q3.z, w1_14.y, s5); s6 = fma(q3.z, w1_14.z, s6); s7 = fma(q3.z, w1_14.w, s7);
      s0 = fma(q3.w, w0_15.x, s0); s1 = fma(q3.w, w0_15.y, s1); s2 = fma(q3.w, w0_15.z, s2); s3 = fma(q3.w, w0_15.w, s3);
      s4 = fma(q3.w, w1_15.x, s4); s5 = fma(q3.w, w1_15.y, s5); s6 = fma(q3.w, w1_15.z, s6); s7 = fma(q3.w, w1_15.w, s7);
      s0 = fma(q4.x, w0_16.x, s0); s1 = fma(q4.x, w0_16.y, s1); s2 = fma(q4.x, w0_16.z, s2); s3 = fma(q4.x, w0_16.w, s3);
      s4 = fma(q4.x, w1_16.x, s4); s5 = fma(q4.x, w1_16.y, s5); s6 = fma(q4.x, w1_16.z, s6); s7 = fma(q4.x, w1_16.w, s7);
      s0 = fma(q4.y, w0_17.x, s0); s1 = fma(q4.y, w0_17.y, s1); s2 = fma(q4.y, w0_17.z, s2); s3 = fma(q4.y, w0_17.w, s3);
      s4 = fma(q4.y, w1_17.x, s4); s5 = fma(q4.y, w1_17.y, s5); s6 = fma(q4.y, w1_17.z, s6); s7 = fma(q4.y, w1_17.w, s7);
      s0 = fma(q4.z, w0_18.x, s0); s1 = fma(q4.z, w0_18.y, s1); s2 = fma(q4.z, w0_18.z, s2); s3 = fma(q4.z, w0_18.w, s3);
      s4 = fma(q4.z, w1_18.x, s4); s5 = fma(q4.z, w1_18.y, s5); s6 = fma(q4.z, w1_18.z, s6); s7 = fma(q4.z, w1_18.w, s7);
      s0 = fma(q4.w, w0_19.x, s0); s1 = fma(q4.w, w0_19.y, s1); s2 = fma(q4.w, w0_19.z, s2); s3 = fma(q4.w, w0_19.w, s3);
      s4 = fma(q4.w, w1_19.x, s4); s5 = fma(q4.w, w1_19.y, s5); s6 = fma(q4.w, w1_19.z, s6); s7 = fma(q4.w, w1_19.w, s7);
      s0 = fma(q5.x, w0_20.x, s0); s1 = fma(q5.x, w0_20.y, s1); s2 = fma(q5.x, w0_20.z, s2); s3 = fma(q5.x, w0_20.w, s3);
      s4 = fma(q5.x, w1_20.x, s4); s5 = fma(q5.x, w1_20.y, s5); s6 = fma(q5.x, w1_20.z, s6); s7 = fma(q5.x, w1_20.w, s7);
      s0 = fma(q5.y, w0_21.x, s0); s1 = fma(q5.y, w0_21.y, s1); s2 = fma(q5.y, w0_21.z, s2); s3 = fma(q5.y, w0_21.w, s3);
      s4 = fma(q5.y, w1_21.x, s4); s5 = fma(q5.y, w1_21.y, s5); s6 = fma(q5.y, w1_21.z, s6); s7 = fma(q5.y, w1_21.w, s7);
      s0 = fma(q5.z, w0_22.x, s0); s1 = fma(q5.z, w0_22.y, s1); s2 = fma(q5.z, w0_22.z, s2); s3 = fma(q5.z, w0_22.w, s3);
      s4 = fma(q5.z, w1_22.x, s4); s5 = fma(q5.z, w1_22.y, s5); s6 = fma(q5.z, w1_22.z, s6); s7 = fma(q5.z, w1_22.w, s7);
      s0 = fma(q5.w, w0_23.x, s0); s1 = fma(q5.w, w0_23.y, s1); s2 = fma(q5.w, w0_23.z, s2); s3 = fma(q5.w, w0_23.w, s3);
      s4 = fma(q5.w, w1_23.x, s4); s5 = fma(q5.w, w1_23.y, s5); s6 = fma(q5.w, w1_23.z, s6); s7 = fma(q5.w, w1_23.w, s7);
      s0 = fma(q6.x, w0_24.x, s0); s1 = fma(q6.x, w0_24.y, s1); s2 = fma(q6.x, w0_24.z, s2); s3 = fma(q6.x, w0_24.w, s3);
      s4 = fma(q6.x, w1_24.x, s4); s5 = fma(q6.x, w1_24.y, s5); s6 = fma(q6.x, w1_24.z, s6); s7 = fma(q6.x, w1_24.w, s7);
      s0 = fma(q6.y, w0_25.x, s0); s1 = fma(q6.y, w0_25.y, s1); s2 = fma(q6.y, w0_25.z, s2); s3 = fma(q6.y, w0_25.w, s3);
      s4 = fma(q6.y, w1_25.x, s4); s5 = fma(q6.y, w1_25.y, s5); s6 = fma(q6.y, w1_25.z, s6); s7 = fma(q6.y, w1_25.w, s7);
      s0 = fma(q6.z, w0_26.x, s0); s1 = fma(q6.z, w0_26.y, s1); s2 = fma(q6.z, w0_26.z, s2); s3 = fma(q6.z, w0_26.w, s3);
      s4 = fma(q6.z, w1_26.x, s4); s5 = fma(q6.z, w1_26.y, s5); s6 = fma(q6.z, w1_26.z, s6); s7 = fma(q6.z, w1_26.w, s7);
      s0 = fma(q6.w, w0_27.x, s0); s1 = fma(q6.w, w0_27.y, s1); s2 = fma(q6.w, w0_27.z, s2); s3 = fma(q6.w, w0_27.w, s3);
      s4 = fma(q6.w, w1_27.x, s4); s5 = fma(q6.w, w1_27.y, s5); s6 = fma(q6.w, w1_27.z, s6); s7 = fma(q6.w, w1_27.w, s7);
      s0 = fma(q7.x, w0_28.x, s0); s1 = fma(q7.x, w0_28.y, s1); s2 = fma(q7.x, w0_28.z, s2); s3 = fma(q7.x, w0_28.w, s3);
      s4 = fma(q7.x, w1_28.x, s4); s5 = fma(q7.x, w1_28.y, s5); s6 = fma(q7.x, w1_28.z, s6); s7 = fma(q7.x, w1_28.w, s7);
      s0 = fma(q7.y, w0_29.x, s0); s1 = fma(q7.y, w0_29.y, s1); s2 = fma(q7.y, w0_29.z, s2); s3 = fma(q7.y, w0_29.w, s3);
      s4 = fma(q7.y, w1_29.x, s4); s5 = fma(q7.y, w1_29.y, s5); s6 = fma(q7.y, w1_29.z, s6); s7 = fma(q7.y, w1_29.w, s7);
      s0 = fma(q7.z, w0_30.x, s0); s1 = fma(q7.z, w0_30.y, s1); s2 = fma(q7.z, w0_30.z, s2); s3 = fma(q7.z, w0_30.w, s3);
      s4 = fma(q7.z, w1_30.x, s4); s5 = fma(q7.z, w1_30.y, s5); s6 = fma(q7.z, w1_30.z, s6); s7 = fma(q7.z, w1_30.w, s7);
      s0 = fma(q7.w, w0_31.x, s0); s1 = fma(q7.w, w0_31.y, s1); s2 = fma(q7.w, w0_31.z, s2); s3 = fma(q7.w, w0_31.w, s3);
      s4 = fma(q7.w, w1_31.x, s4); s5 = fma(q7.w, w1_31.y, s5); s6 = fma(q7.w, w1_31.z, s6); s7 = fma(q7.w, w1_31.w, s7);
      s0 = fma(q8.x, w0_32.x, s0); s1 = fma(q8.x, w0_32.y, s1); s2 = fma(q8.x, w0_32.z, s2); s3 = fma(q8.x, w0_32.w, s3);
      s4 = fma(q8.x, w1_32.x, s4); s5 = fma(q8.x, w1_32.y, s5); s6 = fma(q8.x, w1_32.z, s6); s7 = fma(q8.x, w1_32.w, s7);
      s0 = fma(q8.y, w0_33.x, s0); s1 = fma(q8.y, w0_33.y, s1); s2 = fma(q8.y, w0_33.z, s2); s3 = fma(q8.y, w0_33.w, s3);
      s4 = fma(q8.y, w1_33.x, s4); s5 = fma(q8.y, w1_33.y, s5); s6 = fma(q8.y, w1_33.z, s6); s7 = fma(q8.y, w1_33.w, s7);
      s0 = fma(q8.z, w0_34.x, s0); s1 = fma(q8.z, w0_34.y, s1); s2 = fma(q8.z, w0_34.z, s2); s3 = fma(q8.z, w0_34.w, s3);
      s4 = fma(q8.z, w1_34.x, s4); s5 = fma(q8.z, w1_34.y, s5); s6 = fma(q8.z, w1_34.z, s6); s7 = fma(q8.z, w1_34.w, s7);
      s0 = fma(q8.w, w0_35.x, s0); s1 = fma(q8.w, w0_35.y, s1); s2 = fma(q8.w, w0_35.z, s2); s3 = fma(q8.w, w0_35.w, s3);
      s4 = fma(q8.w, w1_35.x, s4); s5 = fma(q8.w, w1_35.y, s5); s6 = fma(q8.w, w1_35.z, s6); s7 = fma(q8.w, w1_35.w, s7);
      s0 = fma(q9.x, w0_36.x, s0); s1 = fma(q9.x, w0_36.y, s1); s2 = fma(q9.x, w0_36.z, s2); s3 = fma(q9.x, w0_36.w, s3);
      s4 = fma(q9.x, w1_36.x, s4); s5 = fma(q9.x, w1_36.y, s5); s6 = fma(q9.x, w1_36.z, s6); s7 = fma(q9.x, w1_36.w, s7);
      s0 = fma(q9.y, w0_37.x, s0); s1 = fma(q9.y, w0_37.y, s1); s2 = fma(q9.y, w0_37.z, s2); s3 = fma(q9.y, w0_37.w, s3);
      s4 = fma(q9.y, w1_37.x, s4); s5 = fma(q9.y, w1_37.y, s5); s6 = fma(q9.y, w1_37.z, s6); s7 = fma(q9.y, w1_37.w, s7);
      s0 = fma(q9.z, w0_38.x, s0); s1 = fma(q9.z, w0_38.y, s1); s2 = fma(q9.z, w0_38.z, s2); s3 = fma(q9.z, w0_38.w, s3);
      s4 = fma(q9.z, w1_38.x, s4); s5 = fma(q9.z, w1_38.y, s5); s6 = fma(q9.z, w1_38.z, s6); s7 = fma(q9.z, w1_38.w, s7);
      s0 = fma(q9.w, w0_39.x, s0); s1 = fma(q9.w, w0_39.y, s1); s2 = fma(q9.w, w0_39.z, s2); s3 = fma(q9.w, w0_39.w, s3);
      s4 = fma(q9.w, w1_39.x, s4); s5 = fma(q9.w, w1_39.y, s5); s6 = fma(q9.w, w1_39.z, s6); s7 = fma(q9.w, w1_39.w, s7);
      s0 = fma(q10.x, w0_40.x, s0); s1 = fma(q10.x, w0_40.y, s1); s2 = fma(q10.x, w0_40.z, s2); s3 = fma(q10.x, w0_40.w, s3);
      s4 = fma(q10.x, w1_40.x, s4); s5 = fma(q10.x, w1_40.y, s5); s6 = fma(q10.x, w1_40.z, s6); s7 = fma(q10.x, w1_40.w, s7);
      s0 = fma(q10.y, w0_41.x, s0); s1 = fma(q10.y, w0_41.y, s1); s2 = fma(q10.y, w0_41.z, s2); s3 = fma(q10.y, w0_41.w, s3);
      s4 = fma(q10.y, w1_41.x, s4); s5 = fma(q10.y, w1_41.y, s5); s6 = fma(q10.y, w1_41.z, s6); s7 = fma(q10.y, w1_41.w, s7);
      s0 = fma(q10.z, w0_42.x, s0); s1 = fma(q10.z, w0_42.y, s1); s2 = fma(q10.z, w0_42.z, s2); s3 = fma(q10.z, w0_42.w, s3);
      s4 = fma(q10.z, w1_42.x, s4); s5 = fma(q10.z, w1_42.y, s5); s6 = fma(q10.z, w1_42.z, s6); s7 = fma(q10.z, w1_42.w, s7);
      s0 = fma(q10.w, w0_43.x, s0); s1 = fma(q10.w, w0_43.y, s1); s2 = fma(q10.w, w0_43.z, s2); s3 = fma(q10.w, w0_43.w, s3);
      s4 = fma(q10.w, w1_43.x, s4); s5 = fma(q10.w, w1_43.y, s5); s6 = fma(q10.w, w1_43.z, s6); s7 = fma(q10.w, w1_43.w, s7);
      s0 = fma(q11.x, w0_44.x, s0); s1 = fma(q11.x, w0_44.y, s1); s2 = fma(q11.x, w0_44.z, s2); s3 = fma(q11.x, w0_44.w, s3);
      s4 = fma(q11.x, w1_44.x, s4); s5 = fma(q11.x, w1_44.y, s5); s6 = fma(q11.x, w1_44.z, s6); s7 = fma(q11.x, w1_44.w, s7);
      s0 = fma(q11.y, w0_45.x, s0); s1 = fma(q11.y, w0_45.y, s1); s2 = fma(q11.y, w0_45.z, s2); s3 = fma(q11.y, w0_45.w, s3);
      s4 = fma(q11.y, w1_45.x, s4); s5 = fma(q11.y, w1_45.y, s5); s6 = fma(q11.y, w1_45.z, s6); s7 = fma(q11.y, w1_45.w, s7);
      s0 = fma(q11.z, w0_46.x, s0); s1 = fma(q11.z, w0_46.y, s1); s2 = fma(q11.z, w0_46.z, s2); s3 = fma(q11.z, w0_46.w, s3);
      s4 = fma(q11.z, w1_46.x, s4); s5 = fma(q11.z, w1_46.y, s5); s6 = fma(q11.z, w1_46.z, s6); s7 = fma(q11.z, w1_46.w, s7);
      s0 = fma(q11.w, w0_47.x, s0); s1 = fma(q11.w, w0_47.y, s1); s2 = fma(q11.w, w0_47.z, s2); s3 = fma(q11.w, w0_47.w, s3);
      s4 = fma(q11.w, w1_47.x, s4); s5 = fma(q11.w, w1_47.y, s5); s6 = fma(q11.w, w1_47.z, s6); s7 = fma(q11.w, w1_47.w, s7);
      s0 = fma(q12.x, w0_48.x, s0); s1 = fma(q12.x, w0_48.y, s1); s2 = fma(q12.x, w0_48.z, s2); s3 = fma(q12.x, w0_48.w, s3);
      s4 = fma(q12.x, w1_48.x, s4); s5 = fma(q12.x, w1_48.y, s5); s6 = fma(q12.x, w1_48.z, s6); s7 = fma(q12.x, w1_48.w, s7);
      s0 = fma(q12.y, w0_49.x, s0); s1 = fma(q12.y, w0_49.y, s1); s2 = fma(q12.y, w0_49.z, s2); s3 = fma(q12.y, w0_49.w, s3);
      s4 = fma(q12.y, w1_49.x, s4); s5 = fma(q12.y, w1_49.y, s5); s6 = fma(q12.y, w1_49.z, s6); s7 = fma(q12.y, w1_49.w, s7);
      s0 = fma(q12.z, w0_50.x, s0); s1 = fma(q12.z, w0_50.y, s1); s2 = fma(q12.z, w0_50.z, s2); s3 = fma(q12.z, w0_50.w, s3);
      s4 = fma(q12.z, w1_50.x, s4); s5 = fma(q12.z, w1_50.y, s5); s6 = fma(q12.z, w1_50.z, s6); s7 = fma(q12.z, w1_50.w, s7);
      s0 = fma(q12.w, w0_51.x, s0); s1 = fma(q12.w, w0_51.y, s1); s2 = fma(q12.w, w0_51.z, s2); s3 = fma(q12.w, w0_51.w, s3);
      s4 = fma(q12.w, w1_51.x, s4); s5 = fma(q12.w, w1_51.y, s5); s6 = fma(q12.w, w1_51.z, s6); s7 = fma(q12.w, w1_51.w, s7);
      s0 = fma(q13.x, w0_52.x, s0); s1 = fma(q13.x, w0_52.y, s1); s2 = fma(q13.x, w0_52.z, s2); s3 = fma(q13.x, w0_52.w, s3);
      s4 = fma(q13.x, w1_52.x, s4); s5 = fma(q13.x, w1_52.y, s5); s6 = fma(q13.x, w1_52.z, s6); s7 = fma(q13.x, w1_52.w, s7);
      s0 = fma(q13.y, w0_53.x, s0); s1 = fma(q13.y, w0_53.y, s1); s2 = fma(q13.y, w0_53.z, s2); s3 = fma(q13.y, w0_53.w, s3);
      s4 = fma(q13.y, w1_53.x, s4); s5 = fma(q13.y, w1_53.y, s5); s6 = fma(q13.y, w1_53.z, s6); s7 = fma(q13.y, w1_53.w, s7);
      s0 = fma(q13.z, w0_54.x, s0); s1 = fma(q13.z, w0_54.y, s1); s2 = fma(q13.z, w0_54.z, s2); s3 = fma(q13.z, w0_54.w, s3);
      s4 = fma(q13.z, w1_54.x, s4); s5 = fma(q13.z, w1_54.y, s5); s6 = fma(q13.z, w1_54.z, s6); s7 = fma(q13.z, w1_54.w, s7);
      s0 = fma(q13.w, w0_55.x, s0); s1 = fma(q13.w, w0_55.y, s1); s2 = fma(q13.w, w0_55.z, s2); s3 = fma(q13.w, w0_55.w, s3);
      s4 = fma(q13.w, w1_55.x, s4); s5 = fma(q13.w, w1_55.y, s5); s6 = fma(q13.w, w1_55.z, s6); s7 = fma(q13.w, w1_55.w, s7);
      s0 = fma(q14.x, w0_56.x, s0); s1 = fma(q14.x, w0_56.y, s1); s2 = fma(q14.x, w0_56.z, s2); s3 = fma(q14.x, w0_56.w, s3);
      s4 = fma(q14.x, w1_56.x, s4); s5 = fma(q14.x, w1_56.y, s5); s6 = fma(q14.x, w1_56.z, s6); s7 = fma(q14.x, w1_56.w, s7);
      s0 = fma(q14.y, w0_57.x, s0); s1 = fma(q14.y, w0_57.y, s1); s2 = fma(q14.y, w0_57.z, s2); s3 = fma(q14.y, w0_57.w, s3);
      s4 = fma(q14.y, w1_57.x, s4); s5 = fma(q14.y, w1_57.y, s5); s6 = fma(q14.y, w1_57.z, s6); s7 = fma(q14.y, w1_57.w, s7);
      s0 = fma(q14.z, w0_58.x, s0); s1 = fma(q14.z, w0_58.y, s1); s2 = fma(q14.z, w0_58.z, s2); s3 = fma(q14.z, w0_58.w, s3);
      s4 = fma(q14.z, w1_58.x, s4); s5 = fma(q14.z, w1_58.y, s5); s6 = fma(q14.z, w1_58.z, s6); s7 = fma(q14.z, w1_58.w, s7);
      s0 = fma(q14.w, w0_59.x, s0); s1 = fma(q14.w, w0_59.y, s1); s2 = fma(q14.w, w0_59.z, s2); s3 = fma(q14.w, w0_59.w, s3);
      s4 = fma(q14.w, w1_59.x, s4); s5 = fma(q14.w, w1_59.y, s5); s6 = fma(q14.w, w1_59.z, s6); s7 = fma(q14.w, w1_59.w, s7);
      s0 = fma(q15.x, w0_60.x, s0); s1 = fma(q15.x, w0_60.y, s1); s2 = fma(q15.x, w0_60.z, s2); s3 = fma(q15.x, w0_60.w, s3);
      s4 = fma(q15.x, w1_60.x, s4); s5 = fma(q15.x, w1_60.y, s5); s6 = fma(q15.x, w1_60.z, s6); s7 = fma(q15.x, w1_60.w, s7);
      s0 = fma(q15.y, w0_61.x, s0); s1 = fma(q15.y, w0_61.y, s1); s2 = fma(q15.y, w0_61.z, s2); s3 = fma(q15.y, w0_61.w, s3);
      s4 = fma(q15.y, w1_61.x, s4); s5 = fma(q15.y, w1_61.y, s5); s6 = fma(q15.y, w1_61.z, s6); s7 = fma(q15.y, w1_61.w, s7);
      s0 = fma(q15.z, w0_62.x, s0); s1 = fma(q15.z, w0_62.y, s1); s2 = fma(q15.z, w0_62.z, s2); s3 = fma(q15.z, w0_62.w, s3);
      s4 = fma(q15.z, w1_62.x, s4); s5 = fma(q15.z, w1_62.y, s5); s6 = fma(q15.z, w1_62.z, s6); s7 = fma(q15.z, w1_62.w, s7);
      s0 = fma(q15.w, w0_63.x, s0); s1 = fma(q15.w, w0_63.y, s1); s2 = fma(q15.w, w0_63.z, s2); s3 = fma(q15.w, w0_63.w, s3);
      s4 = fma(q15.w, w1_63.x, s4); s5 = fma(q15.w, w1_63.y, s5); s6 = fma(q15.w, w1_63.z, s6); s7 = fma(q15.w, w1_63.w, s7);
      store(m, n, vec4<f32>(s0, s1, s2, s3), first);
      store(m, n + 4u, vec4<f32>(s4, s5, s6, s7), first);
    }
    // ---- unrolled by scripts/gen_matmul_subgroup.ts: end ----
  }
}
