// The Wasserstein critic's non-GEMM kernels: a 2-layer MLP f(x) = w2 · gelu(x·W1 + b1) + b2 per row, with
// the elementwise parts of its parameter gradients, of the WGAN-GP gradient penalty's parameter gradient and
// of the student's input gradient. The GEMMs (Z = X·W1, G = Δ·W1ᵀ, B = Γ·W1, dW1 += Xᵀ·D) run through
// lib/ops/matmul.ts and the column sums through biasBackward; lib/ref/critic.ts derives the formulas.
//
// params: flat (C·H + 2H + 1): W1 (C, H) at 0, b1 (H) at offB1, w2 (H) at offW2, b2 at offB2.
// Per row n of R rows and column j of H: u = Z[n, j] + b1_j with Z = X·W1 from matmul.
//
// `values`:      vals[valsOff + n] = Σ_j w2_j·gelu(u_j) + b2.
// `wgrad`:       `values`, and with c = sign·[mask[n] ≠ 0]/M (M, 1/M from stats):
//                  Z[n, j] ← c·w2_j·gelu'(u_j)  (D: ∂(c·f)/∂u, for dW1 += Xᵀ·D and db1 += Σ_n D)
//                  E[n, j] = c·gelu(u_j)        (for dw2 += Σ_n E)
//                sign = +1 for hS and −1 for hT gives the critic loss mean f(hS) − mean f(hT) = −W;
//                sign = −weight gives the student's loss weight·(−mean f(hS)) (then dhS += D·W1ᵀ).
// `interpolate`: X̂[n] = ε_n·hT[n] + (1 − ε_n)·hS[n]        (vec4 elementwise over (N, C))
// `gp_delta`:    Δ[n, j] = w2_j·gelu'(u_j), Z kept         (elementwise over (N, H))
// `gp_norm`:     r = ‖G[n]‖ with G = Δ·W1ᵀ = ∇_x f(x̂_n); pen[n] = [mask]·(r − 1)²;
//                G[n] ← [mask]·(2λ/M)·(r − 1)/max(r, 1e-12)·G[n]  (Γ = ∂(λ·mean (r − 1)²)/∂g)
// `gp_eta`:      with B = Γ·W1: Z[n, j] ← B·w2_j·gelu''(u_j) (Η), B[n, j] ← gelu'(u_j)·B (for dw2)
// `finish`:      stats[2] = W = (Σ_n [mask]·f(hT_n) − Σ_n [mask]·f(hS_n))/M, stats[3] = Σ_n pen[n]/M
//                (with usePen; else 0); both 0 when M = 0. vals = [f(hS) (N), f(hT) (N)].
// `clamp_params`: params ← clamp(params, −clip, clip) (weight clipping).
//
// Bindings (the runtime binds views to consecutive bindings, so each entry point numbers its own):
//   values:      0 params, 1 Z (R, H), 2 vals (2N) rw, 3 critic params
//   wgrad:       0 params, 1 Z → D (R, H) rw, 2 vals (2N) rw, 3 critic params, 4 E (R, H) rw, 5 mask (R),
//                6 stats (4) [M, 1/M, W, penalty]
//   interpolate: 0 params, 1 X̂ (N, C) rw, 2 hT (N, C), 3 hS (N, C), 4 ε (N)
//   gp_delta:    0 params, 1 Z (N, H), 2 Δ (N, H) rw, 3 critic params
//   gp_norm:     0 params, 1 G → Γ (N, C) rw, 2 pen (N) rw, 3 mask (N), 4 stats
//   gp_eta:      0 params, 1 Z → Η (N, H) rw, 2 B → gelu'(u)·B (N, H) rw, 3 critic params
//   finish:      0 params, 1 stats rw, 2 vals (2N), 3 pen (N), 4 mask (N)
//   clamp_params: 0 params, 1 critic params rw
// Dispatch: values, wgrad: R workgroups (grid); gp_norm: N workgroups (grid); finish: 1 workgroup;
//   interpolate: ⌈N·C/4/WG⌉, gp_delta, gp_eta: ⌈N·H/WG⌉, clamp_params: ⌈P/WG⌉ workgroups (grid); row or element
//   index = wid.x + wid.y·nwg.x (times WG, plus lid, for the elementwise ones).

override WG: u32 = 64u; // invocations per workgroup, a power of two

const K: f32 = 0.7978845608028654; // √(2/π)
const A: f32 = 0.044715;

struct Params {
  R: u32, // rows (or N)
  H: u32,
  C4: u32, // C / 4
  count: u32, // elements of the elementwise kernels
  offB1: u32,
  offW2: u32,
  offB2: u32,
  valsOff: u32, // values / wgrad: first row of vals written
  usePen: u32, // finish
  sign: f32, // wgrad: the coefficient's sign and scale
  lambda2: f32, // gp_norm: 2λ
  clip: f32, // clamp
}

@group(0) @binding(0) var<uniform> p: Params;
// values, wgrad, gp_delta, gp_eta
@group(0) @binding(1) var<storage, read_write> z: array<f32>;
@group(0) @binding(2) var<storage, read_write> b2nd: array<f32>; // vals, Δ or B
@group(0) @binding(3) var<storage, read> cp: array<f32>; // critic params
@group(0) @binding(4) var<storage, read_write> e: array<f32>;
@group(0) @binding(5) var<storage, read> mask: array<u32>;
@group(0) @binding(6) var<storage, read> stats: array<f32>;
// interpolate, gp_norm
@group(0) @binding(1) var<storage, read_write> x4: array<vec4<f32>>; // X̂ or G
@group(0) @binding(2) var<storage, read> ht4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> hs4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> eps: array<f32>;
@group(0) @binding(3) var<storage, read> maskNorm: array<u32>;
@group(0) @binding(4) var<storage, read> statsNorm: array<f32>;
// finish
@group(0) @binding(1) var<storage, read_write> statsOut: array<f32>;
@group(0) @binding(2) var<storage, read> vals: array<f32>;
@group(0) @binding(3) var<storage, read> pen: array<f32>;
@group(0) @binding(4) var<storage, read> maskFinish: array<u32>;

var<workgroup> red: array<vec4<f32>, WG>;

// tanh via exp(−2|u|) ≤ 1, which cannot overflow (as gelu.wgsl).
fn tanhSafe(u: f32) -> f32 {
  let q = exp(-2.0 * abs(u));
  return sign(u) * (1.0 - q) / (1.0 + q);
}

// gelu(x), gelu'(x), gelu''(x) of the tanh approximation; s1, s2 are the tanh argument's derivatives:
// gelu'' = (1 − th²)·(s1 − x·th·s1² + x·s2/2).
fn gelu3(x: f32) -> vec3<f32> {
  let th = tanhSafe(K * (x + A * x * x * x));
  let s1 = K * (1.0 + 3.0 * A * x * x);
  let s2 = 6.0 * K * A * x;
  let sech2 = 1.0 - th * th;
  return vec3<f32>(
    0.5 * x * (1.0 + th),
    0.5 * (1.0 + th) + 0.5 * x * sech2 * s1,
    sech2 * (s1 - x * th * s1 * s1 + 0.5 * x * s2),
  );
}

fn reduceSum(x: vec4<f32>, lid: u32) -> vec4<f32> {
  red[lid] = x;
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) {
      red[lid] = red[lid] + red[lid + stride];
    }
  }
  workgroupBarrier();
  return red[0];
}

fn flatIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn values(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let n = wid.x + wid.y * nwg.x;
  if (n >= p.R) {
    return;
  }
  var f = 0.0;
  for (var j = lid; j < p.H; j += WG) {
    f += cp[p.offW2 + j] * gelu3(z[n * p.H + j] + cp[p.offB1 + j]).x;
  }
  let total = reduceSum(vec4<f32>(f, 0.0, 0.0, 0.0), lid).x;
  if (lid == 0u) {
    b2nd[p.valsOff + n] = total + cp[p.offB2];
  }
}

@compute @workgroup_size(WG)
fn wgrad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let n = wid.x + wid.y * nwg.x;
  if (n >= p.R) {
    return;
  }
  let c = select(0.0, p.sign * stats[1], mask[n] != 0u);
  var f = 0.0;
  for (var j = lid; j < p.H; j += WG) {
    let i = n * p.H + j;
    let w2 = cp[p.offW2 + j];
    let g = gelu3(z[i] + cp[p.offB1 + j]);
    f += w2 * g.x;
    z[i] = c * w2 * g.y;
    e[i] = c * g.x;
  }
  let total = reduceSum(vec4<f32>(f, 0.0, 0.0, 0.0), lid).x;
  if (lid == 0u) {
    b2nd[p.valsOff + n] = total + cp[p.offB2];
  }
}

@compute @workgroup_size(WG)
fn interpolate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i < p.count) {
    let t = eps[i / p.C4];
    x4[i] = t * ht4[i] + (1.0 - t) * hs4[i];
  }
}

@compute @workgroup_size(WG)
fn gp_delta(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i < p.count) {
    let j = i % p.H;
    b2nd[i] = cp[p.offW2 + j] * gelu3(z[i] + cp[p.offB1 + j]).y;
  }
}

@compute @workgroup_size(WG)
fn gp_norm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let n = wid.x + wid.y * nwg.x;
  if (n >= p.R) {
    return;
  }
  let base = n * p.C4;
  var acc = 0.0;
  for (var i = lid; i < p.C4; i += WG) {
    let g = x4[base + i];
    acc += dot(g, g);
  }
  let r = sqrt(reduceSum(vec4<f32>(acc, 0.0, 0.0, 0.0), lid).x);
  let on = maskNorm[n] != 0u;
  if (lid == 0u) {
    b2nd[n] = select(0.0, (r - 1.0) * (r - 1.0), on);
  }
  let k = select(0.0, p.lambda2 * statsNorm[1] * (r - 1.0) / max(r, 1e-12), on);
  for (var i = lid; i < p.C4; i += WG) {
    x4[base + i] = k * x4[base + i];
  }
}

@compute @workgroup_size(WG)
fn gp_eta(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i < p.count) {
    let j = i % p.H;
    let g = gelu3(z[i] + cp[p.offB1 + j]);
    let b = b2nd[i];
    z[i] = b * cp[p.offW2 + j] * g.z;
    b2nd[i] = g.y * b;
  }
}

@compute @workgroup_size(WG)
fn finish(@builtin(local_invocation_index) lid: u32) {
  let N = p.R;
  var acc = vec4<f32>(0.0); // (Σ f(hS), Σ f(hT), Σ pen, unused) over unmasked rows
  for (var n = lid; n < N; n += WG) {
    if (maskFinish[n] != 0u) {
      acc += vec4<f32>(vals[n], vals[N + n], 0.0, 0.0);
    }
    if (p.usePen != 0u) {
      acc.z += pen[n];
    }
  }
  let r = reduceSum(acc, lid);
  if (lid == 0u) {
    let m = statsOut[0];
    statsOut[2] = select(0.0, (r.y - r.x) / m, m > 0.0);
    statsOut[3] = select(0.0, r.z / m, m > 0.0);
  }
}

@compute @workgroup_size(WG)
fn clamp_params(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i < p.count) {
    z[i] = clamp(z[i], -p.clip, p.clip);
  }
}
