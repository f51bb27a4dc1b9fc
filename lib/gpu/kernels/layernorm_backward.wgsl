// LayerNorm backward, pass 1 of 2: input gradient and per-block partial sums of the parameter gradients.
// One workgroup handles R consecutive rows (a block) one after another; lanes stride each row in vec4s.
// Per row (norm = (inp − mean)·rstd, dnorm = weight·dout):
//
//   dinp[n,c] += (dnorm[c] − mean_c(dnorm) − norm[c] · mean_c(dnorm·norm)) · rstd[n]
//
// and the block's dweight/dbias contributions Σ_{n in block} norm·dout and Σ dout accumulate in
// workgroup memory (each lane owns its channels, so no barrier is needed for them), then are written to
// `partial`. WGSL has no float atomics; pass 2 (layernorm_reduce.wgsl) sums the blocks in a fixed order,
// so the result is bit-identical from run to run.
//
// Bindings: 0 params {N, C, R}, 1 dinp (N, C) rw, 2 partial (nblocks, 2, C) rw (dweight part then dbias
//           part per block), 3 dout (N, C), 4 inp (N, C), 5 weight (C), 6 mean (N), 7 rstd (N).
//           C is a multiple of 4, nblocks = ceil(N / R).
// Dispatch: nblocks workgroups as an (x, y) grid; block = wid.x + wid.y·nwg.x. WG (a power of two)
//           lanes each; override C4 = C / 4 sizes the workgroup accumulators.

override WG: u32 = 64u;
override C4: u32 = 192u;

struct Params {
  N: u32,
  C: u32,
  R: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dinp: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> partial: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> inp: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> weight: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> mean: array<f32>;
@group(0) @binding(7) var<storage, read> rstd: array<f32>;

var<workgroup> red: array<vec2<f32>, WG>;
var<workgroup> acc_dweight: array<vec4<f32>, C4>;
var<workgroup> acc_dbias: array<vec4<f32>, C4>;

// Sum of `v` over the workgroup in a fixed tree order (deterministic); every lane gets the total.
fn workgroup_sum2(v: vec2<f32>, lid: u32) -> vec2<f32> {
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
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let block = wid.x + wid.y * nwg.x;
  let row0 = block * p.R;
  if (row0 >= p.N) {
    return; // uniform across the workgroup
  }
  let row1 = min(p.N, row0 + p.R);
  for (var i = lid; i < C4; i += WG) {
    acc_dweight[i] = vec4<f32>(0.0);
    acc_dbias[i] = vec4<f32>(0.0);
  }
  let inv_c = 1.0 / f32(p.C);
  for (var row = row0; row < row1; row++) {
    let base = row * C4;
    let m = vec4<f32>(mean[row]);
    let rs = rstd[row];
    var s = vec2<f32>(0.0);
    for (var i = lid; i < C4; i += WG) {
      let g = dout[base + i];
      let dnorm = weight[i] * g;
      let norm = (inp[base + i] - m) * rs;
      s += vec2<f32>((dnorm.x + dnorm.y) + (dnorm.z + dnorm.w), dot(dnorm, norm));
    }
    let means = workgroup_sum2(s, lid) * inv_c;
    for (var i = lid; i < C4; i += WG) {
      let g = dout[base + i];
      let dnorm = weight[i] * g;
      let norm = (inp[base + i] - m) * rs;
      dinp[base + i] += (dnorm - vec4<f32>(means.x) - norm * means.y) * rs;
      acc_dweight[i] += norm * g;
      acc_dbias[i] += g;
    }
  }
  let out = block * 2u * C4;
  for (var i = lid; i < C4; i += WG) {
    partial[out + i] = acc_dweight[i];
    partial[out + C4 + i] = acc_dbias[i];
  }
}
