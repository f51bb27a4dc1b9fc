// Matrix multiply, vec4 variant: out = op(A)·op(B) (+ bias), or out += op(A)·op(B).
//
// op(A) is (M, K): A is stored (M, K) row-major, or (K, M) when TRANS_A.
// op(B) is (K, N): B is stored (K, N) row-major, or (N, K) when TRANS_B.
// Every operand is read and written as vec4: the row strides lda, ldb, ldo are multiples of 4 and the
// wrapper (lib/ops/matmul.ts) checks that the last vec4 any row needs lies inside its binding; elements
// past M, N or K are masked (read as zero, never changed), so M, N and K are arbitrary.
//
// Tiling: a workgroup of 8×8 invocations computes a 64×64 output tile; invocation (tx, ty) owns rows
// ty·8 .. ty·8+7 and the vec4 columns tx and tx+8 of the tile (8×8 outputs in 16 vec4 accumulators).
// K advances in slabs of BK = 32 staged in workgroup memory: As [64 m][8 kq] and Bs [32 k][16 nq] (vec4),
// 16 KiB together, the WebGPU default limit. A slab is staged with vec4 loads; transposed operands are
// staged as 4×4 blocks so the inner loop is the same for NN, NT and TN.
//
// Two entry points share that code:
//   chunk  — one K slab [k0, kEnd) per dispatch; the wrapper issues ceil(K/BK) dispatches that accumulate
//            into out. The single barrier precedes the inner loop: on llvmpipe a barrier turns the shader
//            into a coroutine, and per-invocation temporaries used across a barrier inside a loop live in
//            the coroutine frame (1.4× slower in an A/B of the two kernel shapes there).
//   looped — the classic kernel: the K loop with two barriers per slab inside one dispatch (real GPUs).
//
// Bindings: 0 Params; 1 out (M, N) row stride ldo, read_write; 2 a; 3 b; 4 bias (N) (any readable view
// when init != 1).
// Dispatch: one workgroup per 64×64 tile, tiles = ceil(M/64)·ceil(N/64), numbered tile = tm·tilesN + tn
// and laid out as an (x, y) grid with tile = wid.x + wid.y·nwg.x (lib/gpu/runtime.ts grid()).
// init: what the products are added to: 0 nothing, 1 bias, 2 the current out (accumulate, or a later
// chunk); it is added when the tile is stored.

override TRANS_A: bool = false;
override TRANS_B: bool = false;

const BK: u32 = 32u;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  lda4: u32,  // row strides in vec4 units
  ldb4: u32,
  ldo4: u32,
  k0: u32,    // chunk: first k of the slab
  kEnd: u32,  // chunk: min(k0 + BK, K)
  init: u32,
  tilesN: u32,
  tiles: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>;

var<workgroup> As: array<vec4<f32>, 512>; // [64 m][8 kq]: As[r·8 + kq] = A[m0 + r, k0 + 4kq .. +3]
var<workgroup> Bs: array<vec4<f32>, 512>; // [32 k][16 nq]: Bs[k·16 + nq] = B[k0 + k, n0 + 4nq .. +3]

const LANE4 = vec4<u32>(0u, 1u, 2u, 3u);

// The four consecutive indices i .. i+3 that are below `end`, as a mask.
fn below(i: u32, end: u32) -> vec4<bool> {
  return (vec4<u32>(i) + LANE4) < vec4<u32>(end);
}

// A[m .. m+3, k] for the transposed layout (stored (K, M)); zero outside M×[.., kEnd).
fn loadAT(k: u32, m: u32, kEnd: u32) -> vec4<f32> {
  let ok = k < kEnd && m < p.M;
  let v = a[select(0u, k * p.lda4 + (m >> 2u), ok)];
  return select(vec4<f32>(0.0), v, below(m, p.M) & vec4<bool>(ok));
}

// B[k .. k+3, n] for the transposed layout (stored (N, K)).
fn loadBT(n: u32, k: u32, kEnd: u32) -> vec4<f32> {
  let ok = n < p.N && k < kEnd;
  let v = b[select(0u, n * p.ldb4 + (k >> 2u), ok)];
  return select(vec4<f32>(0.0), v, below(k, kEnd) & vec4<bool>(ok));
}

// Stages A[m0 .. m0+63, k0 .. kEnd) into As (zero-padded); l is the flat invocation index 0..63.
fn stageA(m0: u32, k0: u32, kEnd: u32, l: u32) {
  if (!TRANS_A) {
    // 512 vec4, 8 per invocation; 8 consecutive invocations read one row's 32 k (coalesced).
    for (var i = l; i < 512u; i += 64u) {
      let m = m0 + (i >> 3u);
      let k = k0 + (i & 7u) * 4u;
      let ok = m < p.M && k < kEnd;
      let v = a[select(0u, m * p.lda4 + (k >> 2u), ok)];
      As[i] = select(vec4<f32>(0.0), v, below(k, kEnd) & vec4<bool>(ok));
    }
  } else {
    // 128 4×4 blocks (16 along m, 8 along k), 2 per invocation, transposed in registers.
    for (var blk = l; blk < 128u; blk += 64u) {
      let mq = blk & 15u;
      let kq = blk >> 4u;
      let m = m0 + mq * 4u;
      let k = k0 + kq * 4u;
      let v0 = loadAT(k, m, kEnd);
      let v1 = loadAT(k + 1u, m, kEnd);
      let v2 = loadAT(k + 2u, m, kEnd);
      let v3 = loadAT(k + 3u, m, kEnd);
      let r = mq * 4u;
      As[(r + 0u) * 8u + kq] = vec4<f32>(v0.x, v1.x, v2.x, v3.x);
      As[(r + 1u) * 8u + kq] = vec4<f32>(v0.y, v1.y, v2.y, v3.y);
      As[(r + 2u) * 8u + kq] = vec4<f32>(v0.z, v1.z, v2.z, v3.z);
      As[(r + 3u) * 8u + kq] = vec4<f32>(v0.w, v1.w, v2.w, v3.w);
    }
  }
}

// Stages B[k0 .. kEnd, n0 .. n0+63] into Bs (zero-padded).
fn stageB(n0: u32, k0: u32, kEnd: u32, l: u32) {
  if (!TRANS_B) {
    // 512 vec4, 8 per invocation; 16 consecutive invocations read one row's 64 n.
    for (var i = l; i < 512u; i += 64u) {
      let k = k0 + (i >> 4u);
      let n = n0 + (i & 15u) * 4u;
      let ok = k < kEnd && n < p.N;
      let v = b[select(0u, k * p.ldb4 + (n >> 2u), ok)];
      Bs[i] = select(vec4<f32>(0.0), v, below(n, p.N) & vec4<bool>(ok));
    }
  } else {
    // 128 4×4 blocks (8 along k, 16 along n), 2 per invocation; 8 consecutive invocations read 4 rows' 32 k.
    for (var blk = l; blk < 128u; blk += 64u) {
      let kq = blk & 7u;
      let nq = blk >> 3u;
      let n = n0 + nq * 4u;
      let k = k0 + kq * 4u;
      let w0 = loadBT(n, k, kEnd);
      let w1 = loadBT(n + 1u, k, kEnd);
      let w2 = loadBT(n + 2u, k, kEnd);
      let w3 = loadBT(n + 3u, k, kEnd);
      let r = kq * 4u;
      Bs[(r + 0u) * 16u + nq] = vec4<f32>(w0.x, w1.x, w2.x, w3.x);
      Bs[(r + 1u) * 16u + nq] = vec4<f32>(w0.y, w1.y, w2.y, w3.y);
      Bs[(r + 2u) * 16u + nq] = vec4<f32>(w0.z, w1.z, w2.z, w3.z);
      Bs[(r + 3u) * 16u + nq] = vec4<f32>(w0.w, w1.w, w2.w, w3.w);
    }
  }
}

// acc += As·Bs over the staged slab.
fn compute(acc: ptr<function, array<vec4<f32>, 16>>, tx: u32, ty: u32) {
  for (var kq = 0u; kq < 8u; kq++) {
    let bi = kq * 64u + tx; // Bs[(4kq + kk)·16 + tx + 8c]
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

// Row r of the accumulators for vec4 column c, picked with selects so that `acc` is only ever indexed by
// constants (a dynamic index would move it to memory).
fn accAt(acc: ptr<function, array<vec4<f32>, 16>>, r: u32, c: u32) -> vec4<f32> {
  var v = (*acc)[c];
  for (var i = 1u; i < 8u; i++) {
    v = select(v, (*acc)[2u * i + c], r == i);
  }
  return v;
}

// Writes acc plus the starting value (p.init: 0 nothing, 1 bias, 2 the current out) for the in-range part
// of the tile. A vec4 that crosses N keeps the old values past N: they lie in the row padding [N, ldo)
// (ldo is a multiple of 4) or past the end of the view, and are written back unchanged. The row loop has
// a data-dependent trip count, so the compiler keeps it a loop: one load and one store in the shader
// instead of sixteen, which halves the compile time on llvmpipe.
fn storeOut(acc: ptr<function, array<vec4<f32>, 16>>, m0: u32, n0q: u32, tx: u32, ty: u32) {
  let row0 = m0 + ty * 8u;
  let rows = min(p.M - min(row0, p.M), 8u);
  for (var c = 0u; c < 2u; c++) {
    let nq = n0q + tx + 8u * c;
    let n = nq * 4u;
    if (n < p.N) {
      var base = vec4<f32>(0.0);
      if (p.init == 1u) {
        base = bias[nq];
      }
      let tail = n + 3u >= p.N;
      let keep = below(n, p.N);
      for (var r = 0u; r < rows; r++) {
        let idx = (row0 + r) * p.ldo4 + nq;
        var v = accAt(acc, r, c) + base;
        if (p.init == 2u || tail) {
          let old = out[idx];
          v = select(old, v + select(vec4<f32>(0.0), old, p.init == 2u), keep);
        }
        out[idx] = v;
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
  storeOut(&acc, m0, n0 / 4u, lid.x, lid.y);
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
  storeOut(&acc, m0, n0 / 4u, lid.x, lid.y);
}
