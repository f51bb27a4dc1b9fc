// LayerNorm backward, pass 2 of 2: sums the per-block partial parameter gradients written by
// layernorm_backward.wgsl in block order (fixed order, so bit-identical between runs) and accumulates
// them into the parameter gradients. One lane per vec4 of (dweight, dbias); neighbouring lanes read
// neighbouring addresses of each block.
//
//   dweight[c] += Σ_blocks partial[b, 0, c]      dbias[c] += Σ_blocks partial[b, 1, c]
//
// Bindings: 0 params {C, nblocks}, 1 dweight (C) rw, 2 dbias (C) rw, 3 partial (nblocks, 2, C).
// Dispatch: ceil(2·C / 4 / WG) workgroups; lane i < C/4 handles dweight, the rest dbias.

override WG: u32 = 64u;

struct Params {
  C: u32,
  nblocks: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dweight: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dbias: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> partial: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
  let C4 = p.C / 4u;
  let i = gid.x;
  if (i >= 2u * C4) {
    return;
  }
  var s = vec4<f32>(0.0);
  for (var b = 0u; b < p.nblocks; b++) {
    s += partial[b * 2u * C4 + i];
  }
  if (i < C4) {
    dweight[i] += s;
  } else {
    dbias[i - C4] += s;
  }
}
