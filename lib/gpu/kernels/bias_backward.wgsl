// Bias gradient: dbias[j] += Σ_n dout[n, j], summed in row order by one invocation per column, so the
// result is deterministic.
//
// dbias (OC), dout (N, OC).
// Bindings: 0 params {N, OC}, 1 dbias, 2 dout. Dispatch: ceil(OC / WG) workgroups.

override WG: u32 = 64u;

struct Params {
  N: u32,
  OC: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= p.OC) { return; }
  var acc = 0.0;
  for (var n = 0u; n < p.N; n++) {
    acc += dout[n * p.OC + j];
  }
  dbias[j] += acc;
}
