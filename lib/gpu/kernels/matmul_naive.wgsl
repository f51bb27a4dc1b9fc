// Naive general matrix multiply, one invocation per output element: the correctness baseline that the
// tuned kernels are compared with.
//
// out (M, N) [row stride ldOut] (+)= op(A) · op(B) (+ bias)
//   op(A) (M, K): A (M, K) [lda], or A (K, M) [lda] when transA
//   op(B) (K, N): B (K, N) [ldb], or B (N, K) [ldb] when transB
//   bias (N), used when hasBias
//
// Bindings: 0 params, 1 out, 2 a, 3 b, 4 bias. Dispatch: (ceil(N / 16), ceil(M / 16)) workgroups of 16×16.

struct Params {
  M: u32, N: u32, K: u32,
  lda: u32, ldb: u32, ldOut: u32,
  transA: u32, transB: u32, accumulate: u32, hasBias: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  let row = gid.y;
  if (row >= p.M || col >= p.N) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) {
    let av = select(a[row * p.lda + k], a[k * p.lda + row], p.transA == 1u);
    let bv = select(b[k * p.ldb + col], b[col * p.ldb + k], p.transB == 1u);
    acc += av * bv;
  }
  if (p.hasBias == 1u) { acc += bias[col]; }
  let o = row * p.ldOut + col;
  if (p.accumulate == 1u) { acc += out[o]; }
  out[o] = acc;
}
