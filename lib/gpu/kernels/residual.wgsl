// Residual add and gradient accumulation, elementwise over N floats (N a multiple of 4), one vec4 per
// invocation.
//
// forward:  x[i] = y[i] + z[i]     x, y, z: (N)
// add_into: x[i] += y[i]           x, y: (N) — a residual's gradient flows unchanged into both branches
//
// Bindings: 0 params {N}, 1 x (read_write), 2 y, 3 z (forward only).
// Dispatch: ceil(N / (4·WG)) workgroups as an (x, y) grid; vec4 index = (wid.x + wid.y·nwg.x)·WG + lid.

override WG: u32 = 256u;

struct Params {
  N: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> z: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i < p.N / 4u) {
    x[i] = y[i] + z[i];
  }
}

@compute @workgroup_size(WG)
fn add_into(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i < p.N / 4u) {
    x[i] = x[i] + y[i];
  }
}
