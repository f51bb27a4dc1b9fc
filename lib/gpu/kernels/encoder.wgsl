// Token + position embedding forward, for the token ids that fall in one row range (part) of the token
// embedding wte. wte (V, C) can exceed one storage binding, so the op dispatches once per part; each
// output row is written by exactly the one part that holds its token's embedding row.
//
//   out[b,t,:] = wte[tokens[b,t] − row0, :] + wpe[pos0 + t, :]   for row0 ≤ tokens[b,t] < row0 + rows
//
// One vec4 per invocation; neighbouring lanes take neighbouring vec4s of one row (contiguous reads of
// wte and wpe, one broadcast token load).
//
// Bindings: 0 params {N, C4, T, pos0, row0, rows}, 1 out (B, T, C) rw, 2 tokens (B, T) u32,
//           3 wte part (rows, C), 4 wpe (maxT, C). N = B·T, C4 = C / 4.
// Dispatch: ceil(N·C4 / WG) workgroups as an (x, y) grid; vec4 index = (wid.x + wid.y·nwg.x)·WG + lid.

override WG: u32 = 256u;

struct Params {
  N: u32,
  C4: u32,
  T: u32,
  pos0: u32,
  row0: u32,
  rows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> tokens: array<u32>;
@group(0) @binding(3) var<storage, read> wte: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> wpe: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.N * p.C4) {
    return;
  }
  let row = i / p.C4;
  let c = i - row * p.C4;
  let r = tokens[row] - p.row0; // wraps to a huge value below row0
  if (r >= p.rows) {
    return; // another part holds this token
  }
  let t = row % p.T;
  out[i] = wte[r * p.C4 + c] + wpe[(p.pos0 + t) * p.C4 + c];
}
