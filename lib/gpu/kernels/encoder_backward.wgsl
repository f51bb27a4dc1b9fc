// Token + position embedding backward, without float atomics. The CPU groups the B·T positions by token
// id (ids ascending, positions ascending within a bucket; see bucketTokens in lib/ops/encoder.ts), so
// each dwte row is summed by one lane per vec4 in a fixed order and the result is bit-identical between
// runs.
//
// wte_backward (one dispatch per part of dwte, for the buckets u0 ≤ u < u0 + count whose ids lie in it):
//   dst[ids[u] − row0, :] += Σ_{k = starts[u]}^{starts[u+1]−1} dout[positions[k], :]
// wpe_backward:
//   dst[t, :] += Σ_b dout[b, t, :]       for t < T
//
// Neighbouring lanes take neighbouring vec4s of one row, so every read and write is contiguous.
//
// Bindings: 0 params {C4, B, T, u0, count, row0}, 1 dst rw: the dwte part (rows, C) or dwpe (maxT, C),
//           2 dout (B, T, C), 3 ids (U) u32, 4 starts (U + 1) u32, 5 positions (B·T) u32
//           (3–5 for wte_backward only). C4 = C / 4.
// Dispatch: wte_backward ceil(count·C4 / WG), wpe_backward ceil(T·C4 / WG) workgroups as an (x, y)
//           grid; vec4 index = (wid.x + wid.y·nwg.x)·WG + lid.

override WG: u32 = 256u;

struct Params {
  C4: u32,
  B: u32,
  T: u32,
  u0: u32,
  count: u32,
  row0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> ids: array<u32>;
@group(0) @binding(4) var<storage, read> starts: array<u32>;
@group(0) @binding(5) var<storage, read> positions: array<u32>;

@compute @workgroup_size(WG)
fn wte_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.count * p.C4) {
    return;
  }
  let k = i / p.C4;
  let c = i - k * p.C4;
  let u = p.u0 + k;
  var s = vec4<f32>(0.0);
  for (var j = starts[u]; j < starts[u + 1u]; j++) {
    s += dout[positions[j] * p.C4 + c];
  }
  let r = ids[u] - p.row0;
  dst[r * p.C4 + c] += s;
}

@compute @workgroup_size(WG)
fn wpe_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.T * p.C4) {
    return;
  }
  let stride = p.T * p.C4;
  var s = vec4<f32>(0.0);
  for (var b = 0u; b < p.B; b++) {
    s += dout[b * stride + i];
  }
  dst[i] += s;
}
