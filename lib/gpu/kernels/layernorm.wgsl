// LayerNorm forward (as PyTorch LayerNorm: biased variance, eps inside the square root), one workgroup
// per row. Lanes stride the row in vec4s so neighbouring lanes read neighbouring addresses (coalesced on
// GPUs, contiguous vector loads on lavapipe). Mean and variance are two passes over the row (the second
// pass sums squared deviations from the mean, which is far more accurate in f32 than E[x²] − E[x]²);
// the row is re-read from cache rather than kept in registers so any C works.
//
//   mean[n] = Σ_c inp[n,c] / C
//   rstd[n] = 1 / √(Σ_c (inp[n,c] − mean[n])² / C + eps)
//   out[n,c] = (inp[n,c] − mean[n]) · rstd[n] · weight[c] + bias[c]
//
// Bindings: 0 params {N, C, eps}, 1 out (N, C) rw, 2 mean (N) rw, 3 rstd (N) rw, 4 inp (N, C),
//           5 weight (C), 6 bias (C). C is a multiple of 4.
// Dispatch: N workgroups as an (x, y) grid; row = wid.x + wid.y·nwg.x. WG (a power of two) lanes each.

override WG: u32 = 64u;

struct Params {
  N: u32,
  C: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(4) var<storage, read> inp: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> weight: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> bias: array<vec4<f32>>;

var<workgroup> red: array<f32, WG>;

// Sum of `v` over the workgroup in a fixed tree order (deterministic); every lane gets the total.
fn workgroup_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      red[lid] = red[lid] + red[lid + s];
    }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier(); // `red` is overwritten by the next call
  return total;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.N) {
    return; // uniform across the workgroup, so the barriers below stay in uniform control flow
  }
  let C4 = p.C / 4u;
  let base = row * C4;
  var s = 0.0;
  for (var i = lid; i < C4; i += WG) {
    let x = inp[base + i];
    s += (x.x + x.y) + (x.z + x.w);
  }
  let m = workgroup_sum(s, lid) / f32(p.C);
  var q = 0.0;
  for (var i = lid; i < C4; i += WG) {
    let d = inp[base + i] - vec4<f32>(m);
    q += dot(d, d);
  }
  let rs = 1.0 / sqrt(workgroup_sum(q, lid) / f32(p.C) + p.eps);
  for (var i = lid; i < C4; i += WG) {
    out[base + i] = (inp[base + i] - vec4<f32>(m)) * rs * weight[i] + bias[i];
  }
  if (lid == 0u) {
    mean[row] = m;
    rstd[row] = rs;
  }
}
