// Hidden-state distillation losses over N positions with a padding mask: cosine embedding loss (HF distiller's
// CosineEmbeddingLoss with target 1) and mean squared error, each with its gradient.
//
// `count`:  stats[0] = M = Σ_n [mask[n] ≠ 0], stats[1] = 1 / max(M, 1). Run first: the row kernels scale
//           their gradients by 1/M read from stats, so the mean needs no readback.
// `cosine_rows`: for row n, with a = Σ s² + 1e-12, b = Σ t² + 1e-12, d = Σ s·t (PyTorch's EPSILON on the
//           squared norms), cos = d / √(a·b):
//             rowLoss[n] = 1 − cos                          (0 for mask 0)
//             dst[n]     (+)= −(scale/M)·(t/√(a·b) − cos·s/a)  (∂(1 − cos)/∂s; 0 for mask 0)
// `mse_rows`: for row n: rowLoss[n] = Σ_c (y − t)², dst[n] (+)= (scale/M)·(2/C)·(y − t) (0 for mask 0),
//           the gradient of scale·Σ_n Σ_c (y − t)² / (M·C), the mean over unmasked elements.
// `mse_rows_inplace`: the same with y read from dst and overwritten by its gradient (dst = y must not be
//           bound twice when one binding is writable); used for the projected student P(h_s).
// `finish`: loss[0] = Σ_n rowLoss[n] / (M·perRow), or 0 when M = 0 (perRow = 1 for cosine, C for MSE).
// Gradients overwrite dst unless accumulate ≠ 0 (then +=). Every reduction is a fixed-order tree or a loop in
// a fixed order: deterministic.
//
//   mask (N) u32 (0 = padding), s / y: hS (N, C), t: hT (N, C), dst (N, C), rowLoss (N), stats (2), loss (1)
//
// Bindings, count:            0 params, 1 stats rw, 2 mask.
// Bindings, cosine_rows and mse_rows: 0 params, 1 stats, 2 mask, 3 rowLoss rw, 4 dst rw, 5 s / y, 6 t.
// Bindings, mse_rows_inplace: 0 params, 1 stats, 2 mask, 3 rowLoss rw, 4 dst (y in, gradient out) rw, 5 t.
// Bindings, finish:           0 params, 1 stats, 2 rowLoss, 3 loss rw.
// (The runtime binds views to consecutive bindings, hence the per-entry-point renumbering.)
// Dispatch: count and finish one workgroup; row kernels N workgroups as an (x, y) grid, row = wid.x + wid.y·nwg.x,
// each invocation walking vec4s lid, lid + WG, ... of the row. Requires C % 4 == 0.

override WG: u32 = 64u; // invocations per workgroup, a power of two

struct Params {
  N: u32,
  C4: u32, // C / 4
  accumulate: u32,
  scale: f32, // weight · gradScale
  perRow: f32, // elements per position in the mean: 1 (cosine) or C (MSE)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> stats: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read_write> rowLoss: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> s: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> t: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> tIn: array<vec4<f32>>; // mse_rows_inplace's t
@group(0) @binding(2) var<storage, read> rowLossIn: array<f32>; // finish's rowLoss
@group(0) @binding(3) var<storage, read_write> lossOut: array<f32>; // finish's loss

var<workgroup> red: array<vec4<f32>, WG>;

// Sums every invocation's vec4 component-wise in a fixed order; returns the total to all invocations.
fn reduceSum(x: vec4<f32>, lid: u32) -> vec4<f32> {
  red[lid] = x;
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) {
      red[lid] = red[lid] + red[lid + stride];
    }
  }
  workgroupBarrier();
  return red[0];
}

fn rowIndex(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

fn store(i: u32, g: vec4<f32>) {
  if (p.accumulate != 0u) {
    dst[i] = dst[i] + g;
  } else {
    dst[i] = g;
  }
}

@compute @workgroup_size(WG)
fn count(@builtin(local_invocation_index) lid: u32) {
  var c = 0.0;
  for (var n = lid; n < p.N; n += WG) {
    c += select(0.0, 1.0, mask[n] != 0u);
  }
  let total = reduceSum(vec4<f32>(c, 0.0, 0.0, 0.0), lid).x;
  if (lid == 0u) {
    stats[0] = total;
    stats[1] = 1.0 / max(total, 1.0);
  }
}

@compute @workgroup_size(WG)
fn cosine_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let n = rowIndex(wid, nwg);
  if (n >= p.N) {
    return;
  }
  let base = n * p.C4;
  let on = mask[n] != 0u;
  var acc = vec4<f32>(0.0); // (Σ s², Σ t², Σ s·t, unused)
  for (var i = lid; i < p.C4; i += WG) {
    let sv = s[base + i];
    let tv = t[base + i];
    acc += vec4<f32>(dot(sv, sv), dot(tv, tv), dot(sv, tv), 0.0);
  }
  let r = reduceSum(acc, lid);
  let a = r.x + 1e-12;
  let b = r.y + 1e-12;
  let invAB = inverseSqrt(a * b);
  let cosine = r.z * invAB;
  if (lid == 0u) {
    rowLoss[n] = select(0.0, 1.0 - cosine, on);
  }
  let k = select(0.0, -p.scale * stats[1], on);
  for (var i = lid; i < p.C4; i += WG) {
    store(base + i, k * (t[base + i] * invAB - cosine / a * s[base + i]));
  }
}

@compute @workgroup_size(WG)
fn mse_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let n = rowIndex(wid, nwg);
  if (n >= p.N) {
    return;
  }
  let base = n * p.C4;
  let on = mask[n] != 0u;
  let k = select(0.0, 2.0 * p.scale * stats[1] / p.perRow, on);
  var acc = 0.0;
  for (var i = lid; i < p.C4; i += WG) {
    let e = s[base + i] - t[base + i];
    acc += dot(e, e);
    store(base + i, k * e);
  }
  let total = reduceSum(vec4<f32>(acc, 0.0, 0.0, 0.0), lid).x;
  if (lid == 0u) {
    rowLoss[n] = select(0.0, total, on);
  }
}

@compute @workgroup_size(WG)
fn mse_rows_inplace(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let n = rowIndex(wid, nwg);
  if (n >= p.N) {
    return;
  }
  let base = n * p.C4;
  let on = mask[n] != 0u;
  let k = select(0.0, 2.0 * p.scale * stats[1] / p.perRow, on);
  var acc = 0.0;
  for (var i = lid; i < p.C4; i += WG) {
    let e = dst[base + i] - tIn[base + i];
    acc += dot(e, e);
    dst[base + i] = k * e; // in place: the projected student y is consumed here
  }
  let total = reduceSum(vec4<f32>(acc, 0.0, 0.0, 0.0), lid).x;
  if (lid == 0u) {
    rowLoss[n] = select(0.0, total, on);
  }
}

@compute @workgroup_size(WG)
fn finish(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var n = lid; n < p.N; n += WG) {
    acc += rowLossIn[n];
  }
  let total = reduceSum(vec4<f32>(acc, 0.0, 0.0, 0.0), lid).x;
  if (lid == 0u) {
    let m = stats[0];
    lossOut[0] = select(0.0, total / (m * p.perRow), m > 0.0);
  }
}
