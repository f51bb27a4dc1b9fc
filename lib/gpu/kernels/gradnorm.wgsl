// Deterministic sum (of squares) over a float range, one partial per workgroup: the building block of the
// gradient norm. Run twice: squares of the gradient chunk into per-workgroup partials, then a plain sum of
// the partials by a single workgroup into the one-float result. Each workgroup reduces a fixed, contiguous
// block in a fixed order (per-lane vec4 accumulators, then a tree in workgroup memory), so the result is
// bit-identical from run to run (WGSL has no float atomics, and we would not want their nondeterminism).
//
// main: out[outBase + g] = Σ_{i ∈ [lo, hi), i in block g} f(x[i]),  f(v) = v² if square != 0 else v
//   x:   (⌈hi/4⌉·4) floats, read as vec4; elements outside [lo, hi) are masked to 0 (odd sizes, unaligned
//        ranges: bindings start on 64-float boundaries, so lo need not be 0)
//   out: (outBase + groups) floats
// Block g covers vec4 indices [⌊lo/4⌋ + g·WG·iters, ⌊lo/4⌋ + (g+1)·WG·iters); lane lid reads vec4
// base + k·WG + lid for k < iters (coalesced on GPUs, contiguous across llvmpipe's 8-wide lanes).
//
// Bindings: 0 params {lo, hi, iters, outBase, square}, 1 out (read_write), 2 x (read).
// Dispatch: ⌈(⌈hi/4⌉ − ⌊lo/4⌋) / (WG·iters)⌉ workgroups as an (x, y) grid; g = wid.x + wid.y·nwg.x.

override WG: u32 = 256u;

struct Params {
  lo: u32,
  hi: u32,
  iters: u32,
  outBase: u32,
  square: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  let first = p.lo / 4u;
  let end = (p.hi + 3u) / 4u;
  let base = first + g * WG * p.iters;
  var acc = vec4<f32>(0.0);
  // Whole vec4s strictly inside the range need no mask (the common case: one branch per workgroup).
  let innerLo = (p.lo + 3u) / 4u;
  let innerHi = p.hi / 4u;
  if (base >= innerLo && base + WG * p.iters <= innerHi) {
    if (p.square != 0u) {
      for (var k = 0u; k < p.iters; k++) {
        let v = x[base + k * WG + lid];
        acc += v * v;
      }
    } else {
      for (var k = 0u; k < p.iters; k++) {
        acc += x[base + k * WG + lid];
      }
    }
  } else {
    for (var k = 0u; k < p.iters; k++) {
      let j = base + k * WG + lid;
      if (j < end) {
        let idx = vec4<u32>(4u * j) + vec4<u32>(0u, 1u, 2u, 3u);
        let inside = (idx >= vec4<u32>(p.lo)) & (idx < vec4<u32>(p.hi));
        let v = select(vec4<f32>(0.0), x[j], inside);
        acc += select(v, v * v, p.square != 0u);
      }
    }
  }
  red[lid] = (acc.x + acc.y) + (acc.z + acc.w);
  workgroupBarrier();
  // Tree reduction; WG is a power of two (checked by the wrapper).
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      red[lid] += red[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[p.outBase + g] = red[0];
  }
}
