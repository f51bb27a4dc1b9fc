// GELU with the tanh approximation (HF gelu_new), elementwise over n floats (n a multiple of 4), one
// vec4 per invocation.
//
// forward:          out[i] = 0.5·x·(1 + tanh(k·(x + 0.044715·x³))),  x = inp[i], k = √(2/π)
// backward:         dinp[i] = gelu'(x) · dout[i]                       (overwrites dinp)
// backward_inplace: d[i] = gelu'(x) · d[i]      (dinp and dout are one buffer: WebGPU forbids binding one
//                   range as two views when one of them is writable)
//   gelu'(x) = 0.5·(1 + tanh(u)) + 0.5·x·(1 − tanh²(u))·k·(1 + 3·0.044715·x²),  u = k·(x + 0.044715·x³)
//
// Bindings: 0 params {n}, 1 out / dinp / d (n) rw, 2 inp (n), 3 dout (n) (backward only).
// Dispatch: ceil(n / (4·WG)) workgroups as an (x, y) grid; vec4 index = (wid.x + wid.y·nwg.x)·WG + lid.

override WG: u32 = 256u;

const K: f32 = 0.7978845608028654; // √(2/π)
const A: f32 = 0.044715;

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> inp: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> dout: array<vec4<f32>>;

// tanh via exp(−2|u|) ≤ 1, which cannot overflow: a builtin tanh computed as (e^2u − 1)/(e^2u + 1)
// gives inf/inf = NaN for large |u| on some drivers.
fn tanh_safe(u: vec4<f32>) -> vec4<f32> {
  let e = exp(-2.0 * abs(u));
  return sign(u) * (1.0 - e) / (1.0 + e);
}

fn gelu(x: vec4<f32>) -> vec4<f32> {
  let u = K * (x + A * x * x * x);
  return 0.5 * x * (1.0 + tanh_safe(u));
}

fn gelu_grad(x: vec4<f32>) -> vec4<f32> {
  let u = K * (x + A * x * x * x);
  let t = tanh_safe(u);
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * K * (1.0 + 3.0 * A * x * x);
}

fn index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < p.n / 4u) {
    dst[i] = gelu(inp[i]);
  }
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < p.n / 4u) {
    dst[i] = gelu_grad(inp[i]) * dout[i];
  }
}

@compute @workgroup_size(WG)
fn backward_inplace(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < p.n / 4u) {
    dst[i] = gelu_grad(inp[i]) * dst[i];
  }
}
