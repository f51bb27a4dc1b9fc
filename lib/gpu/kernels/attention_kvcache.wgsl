// KV-cache append for decoding: copies the k and v of Tn new tokens from qkv (B, Tn, 3C) into the caches
// (B, NH, Tmax, hs) at positions pos0 .. pos0 + Tn − 1. One vec4 per invocation; consecutive invocations
// read consecutive channels of a token (contiguous loads) and write consecutive dims of a head row.
//
// Bindings: 0 params, 1 kcache (B, NH, Tmax, hs) read_write, 2 vcache (B, NH, Tmax, hs) read_write,
//           3 qkv (B, Tn, 3C).
// Dispatch: ceil(B·Tn·C / (4·WG)) workgroups as an (x, y) grid; vec4 index = (wid.x + wid.y·nwg.x)·WG + lid.

override WG: u32 = 256u;
override HS4: u32 = 16u; // hs / 4

struct Params {
  B: u32,
  Tn: u32,
  NH: u32,
  C4: u32, // C / 4
  pos0: u32,
  Tmax: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> kcache: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> vcache: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> qkv: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn append(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.B * p.Tn * p.C4) {
    return;
  }
  let c4 = i % p.C4;
  let bt = i / p.C4; // b·Tn + t
  let b = bt / p.Tn;
  let t = bt % p.Tn;
  let h = c4 / HS4;
  let d = c4 % HS4;
  let dst = ((b * p.NH + h) * p.Tmax + p.pos0 + t) * HS4 + d;
  let src = bt * 3u * p.C4 + c4;
  kcache[dst] = qkv[src + p.C4];
  vcache[dst] = qkv[src + 2u * p.C4];
}
