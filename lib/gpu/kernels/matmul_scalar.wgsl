// Matrix multiply, scalar-access variant for operands whose row strides or extents do not allow vec4
// access (odd ld, views that end mid-vec4): out = op(A)·op(B) (+ bias), or out += op(A)·op(B).
//
// Same tiling, slabs, entry points (chunk / looped), Params and dispatch as matmul.wgsl; only global
// memory is read and written one float at a time (strides in floats), so any shape and stride works.
// The workgroup-memory tiles and the inner loop are identical to matmul.wgsl.
//
// op(A) is (M, K): A is stored (M, K) row-major, or (K, M) when TRANS_A.
// op(B) is (K, N): B is stored (K, N) row-major, or (N, K) when TRANS_B.
// Bindings: 0 Params; 1 out (M, N) row stride ldo, read_write; 2 a; 3 b; 4 bias (N) (any readable view
// when init != 1).
// Dispatch: one workgroup per 64×64 tile, tile = wid.x + wid.y·nwg.x = tm·tilesN + tn.

override TRANS_A: bool = false;
override TRANS_B: bool = false;

const BK: u32 = 32u;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  lda: u32,  // row strides in floats
  ldb: u32,
  ldo: u32,
  k0: u32,
  kEnd: u32,
  init: u32,
  tilesN: u32,
  tiles: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

var<workgroup> As: array<vec4<f32>, 512>; // [64 m][8 kq]
var<workgroup> Bs: array<vec4<f32>, 512>; // [32 k][16 nq]

// op(A)[m, k], zero outside M×[.., kEnd).
fn elemA(m: u32, k: u32, kEnd: u32) -> f32 {
  let ok = m < p.M && k < kEnd;
  let idx = select(m * p.lda + k, k * p.lda + m, TRANS_A);
  return select(0.0, a[select(0u, idx, ok)], ok);
}

// op(B)[k, n], zero outside [.., kEnd)×N.
fn elemB(k: u32, n: u32, kEnd: u32) -> f32 {
  let ok = k < kEnd && n < p.N;
  let idx = select(k * p.ldb + n, n * p.ldb + k, TRANS_B);
  return select(0.0, b[select(0u, idx, ok)], ok);
}

// The staging loops start at the invocation index, so the compiler cannot unroll them: every load is
// emitted once, which keeps the shader small and quick to compile.
fn stageA(m0: u32, k0: u32, kEnd: u32, l: u32) {
  for (var i = l; i < 512u; i += 64u) {
    let m = m0 + (i >> 3u);
    let k = k0 + (i & 7u) * 4u;
    var v = vec4<f32>(0.0);
    for (var c = 0u; c < 4u; c++) {
      v[c] = elemA(m, k + c, kEnd);
    }
    As[i] = v;
  }
}

fn stageB(n0: u32, k0: u32, kEnd: u32, l: u32) {
  for (var i = l; i < 512u; i += 64u) {
    let k = k0 + (i >> 4u);
    let n = n0 + (i & 15u) * 4u;
    var v = vec4<f32>(0.0);
    for (var c = 0u; c < 4u; c++) {
      v[c] = elemB(k, n + c, kEnd);
    }
    Bs[i] = v;
  }
}

// Identical to matmul.wgsl.
fn compute(acc: ptr<function, array<vec4<f32>, 16>>, tx: u32, ty: u32) {
  for (var kq = 0u; kq < 8u; kq++) {
    let bi = kq * 64u + tx;
    let b00 = Bs[bi];
    let b01 = Bs[bi + 8u];
    let b10 = Bs[bi + 16u];
    let b11 = Bs[bi + 24u];
    let b20 = Bs[bi + 32u];
    let b21 = Bs[bi + 40u];
    let b30 = Bs[bi + 48u];
    let b31 = Bs[bi + 56u];
    for (var r = 0u; r < 8u; r++) {
      let av = As[(ty * 8u + r) * 8u + kq];
      (*acc)[2u * r] += av.x * b00 + av.y * b10 + av.z * b20 + av.w * b30;
      (*acc)[2u * r + 1u] += av.x * b01 + av.y * b11 + av.z * b21 + av.w * b31;
    }
  }
}

// Writes acc plus the starting value (p.init: 0 nothing, 1 bias, 2 the current out) for the in-range part
// of the tile. The per-element loop has a data-dependent trip count, so it is not unrolled either.
fn storeOut(acc: ptr<function, array<vec4<f32>, 16>>, m0: u32, n0: u32, tx: u32, ty: u32) {
  for (var c = 0u; c < 2u; c++) {
    let n = n0 + (tx + 8u * c) * 4u;
    let count = min(p.N - min(n, p.N), 4u);
    for (var r = 0u; r < 8u; r++) {
      let m = m0 + ty * 8u + r;
      if (m < p.M) {
        let v = (*acc)[2u * r + c];
        let base = m * p.ldo + n;
        for (var i = 0u; i < count; i++) {
          var x = v[i];
          if (p.init == 1u) {
            x += bias[n + i];
          } else if (p.init == 2u) {
            x += out[base + i];
          }
          out[base + i] = x;
        }
      }
    }
  }
}

@compute @workgroup_size(8, 8)
fn chunk(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = wid.x + wid.y * nwg.x;
  if (tile >= p.tiles) {
    return;
  }
  let m0 = (tile / p.tilesN) * 64u;
  let n0 = (tile % p.tilesN) * 64u;
  let l = lid.y * 8u + lid.x;
  stageA(m0, p.k0, p.kEnd, l);
  stageB(n0, p.k0, p.kEnd, l);
  workgroupBarrier();
  var acc: array<vec4<f32>, 16>;
  compute(&acc, lid.x, lid.y);
  storeOut(&acc, m0, n0, lid.x, lid.y);
}

@compute @workgroup_size(8, 8)
fn looped(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = wid.x + wid.y * nwg.x;
  if (tile >= p.tiles) {
    return;
  }
  let m0 = (tile / p.tilesN) * 64u;
  let n0 = (tile % p.tilesN) * 64u;
  let l = lid.y * 8u + lid.x;
  var acc: array<vec4<f32>, 16>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    let kEnd = min(k0 + BK, p.K);
    stageA(m0, k0, kEnd, l);
    stageB(n0, k0, kEnd, l);
    workgroupBarrier();
    compute(&acc, lid.x, lid.y);
    workgroupBarrier();
  }
  storeOut(&acc, m0, n0, lid.x, lid.y);
}
