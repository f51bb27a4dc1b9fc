// AdamW update (torch.optim.AdamW semantics) of the elements [lo, hi) of one chunk of the flat parameter
// buffer, with the gradient scaled and clipped by its global norm (torch.nn.utils.clip_grad_norm_).
// One vec4 per invocation; elements of a boundary vec4 outside [lo, hi) are written back unchanged, so
// ranges may start and end anywhere (bindings start on 64-float boundaries, lo need not be 0).
//
//   clip = maxNorm > 0 ? min(1, maxNorm / (|gradScale|·√normSq + 1e-6)) : 1   (norm of the scaled gradient)
//   g = grad · gradScale · clip
//   p = p · decay                                   decay = 1 − lr·weightDecay (decoupled, applied first)
//   m = β1·m + (1 − β1)·g
//   v = β2·v + (1 − β2)·g²
//   p = p − stepSize · m / (√v · invSqrtBc2 + eps)  stepSize = lr / (1 − β1^step), invSqrtBc2 = 1/√(1 − β2^step)
// The last line is PyTorch's own arrangement of m̂ / (√v̂ + eps); the scalars (1 − β, decay, stepSize,
// invSqrtBc2) are computed in float64 by the wrapper, as PyTorch computes them in Python floats.
//
//   params, m, v: (⌈hi/4⌉·4) floats, read_write;  grads: same, read;  normSq: (1) Σ grad² over all params
//
// Bindings: 0 params {lo, hi, decay, beta1, 1 − β1, beta2, 1 − β2, eps, stepSize, invSqrtBc2, gradScale,
//           maxNorm}, 1 params, 2 grads, 3 m, 4 v, 5 normSq.
// Dispatch: ⌈(⌈hi/4⌉ − ⌊lo/4⌋) / WG⌉ workgroups as an (x, y) grid; vec4 index =
//           ⌊lo/4⌋ + (wid.x + wid.y·nwg.x)·WG + lid.

override WG: u32 = 256u;

struct Params {
  lo: u32,
  hi: u32,
  decay: f32,
  beta1: f32,
  oneMinusBeta1: f32,
  beta2: f32,
  oneMinusBeta2: f32,
  eps: f32,
  stepSize: f32,
  invSqrtBc2: f32,
  gradScale: f32,
  maxNorm: f32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> params: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> grads: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> m: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> v: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> normSq: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let j = u.lo / 4u + (wid.x + wid.y * nwg.x) * WG + lid;
  if (j >= (u.hi + 3u) / 4u) {
    return;
  }
  // Uniform across the dispatch: the clip factor is read from the GPU-side norm, no readback needed.
  // select() keeps a NaN/garbage norm from leaking in when clipping is off.
  let norm = abs(u.gradScale) * sqrt(normSq[0]);
  let clip = select(1.0, min(1.0, u.maxNorm / (norm + 1e-6)), u.maxNorm > 0.0);
  let scale = u.gradScale * clip;

  let idx = vec4<u32>(4u * j) + vec4<u32>(0u, 1u, 2u, 3u);
  let inside = (idx >= vec4<u32>(u.lo)) & (idx < vec4<u32>(u.hi));

  let g = grads[j] * scale;
  let p0 = params[j];
  let m0 = m[j];
  let v0 = v[j];
  let m1 = u.beta1 * m0 + u.oneMinusBeta1 * g;
  let v1 = u.beta2 * v0 + u.oneMinusBeta2 * g * g;
  let p1 = p0 * u.decay - u.stepSize * m1 / (sqrt(v1) * u.invSqrtBc2 + u.eps);
  params[j] = select(p0, p1, inside);
  m[j] = select(m0, m1, inside);
  v[j] = select(v0, v1, inside);
}
