// Fused softmax + cross-entropy over the vocabulary, and row-wise softmax with temperature. One workgroup per
// row (rows are long: V = 50257 for GPT-2): each invocation keeps an online (max, sum) over the vec4 columns
// lid, lid + WG, ... (consecutive invocations read consecutive vec4s), then a fixed-order tree reduction in
// workgroup memory combines them, so results are deterministic.
//
// `cross_entropy`: loss[n] = logsumexp(logits[n, 0:V]) − logits[n, targets[n]], 0 where targets[n] < 0
//   (ignored; NaN where targets[n] ≥ V, a caller bug made visible). With writeGrad ≠ 0 the logits row is
//   overwritten in place by (softmax(logits[n]) − onehot(targets[n]))·gradScale, all zero for ignored rows;
//   padding columns V .. Vp−1 are set to 0. The target logit is read before the first barrier, i.e. before
//   any invocation overwrites the row.
// `softmax`: probs[n, 0:V] = softmax(logits[n, 0:V] / temperature), padding columns 0.
//
// Rows are addressed relative to the bound part of the matrix: row n of the dispatch is row row0 + n of
// losses and targets (the logits / probs bindings start at row row0; see rowParts in runtime.ts).
//
// Bindings, cross_entropy: 0 params, 1 logits (rows, Vp) read_write, 2 losses (N) read_write, 3 targets (N) i32.
// Bindings, softmax:       0 params, 1 probs (rows, Vp) read_write, 2 logits (rows, Vp).
// Dispatch: `rows` workgroups of WG as an (x, y) grid; row = wid.x + wid.y·nwg.x. Requires Vp % 4 == 0.

override WG: u32 = 256u; // invocations per workgroup, a power of two

// Stands in for −∞: exp(NEG − m) is 0 for any finite m, and NEG − NEG is 0, never NaN.
const NEG: f32 = -3.0e38;

struct Params {
  rows: u32, // rows in this dispatch
  V: u32,
  Vp4: u32, // Vp / 4
  row0: u32, // first row of this dispatch in losses / targets
  writeGrad: u32,
  gradScale: f32,
  invTemperature: f32, // softmax only
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> rowsOut: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> losses: array<f32>;
@group(0) @binding(3) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read> rowsIn: array<vec4<f32>>;

var<workgroup> redMax: array<f32, WG>;
var<workgroup> redSum: array<f32, WG>;

// Online softmax statistics: sum of exp(x − max) and the max.
struct Stats {
  m: f32,
  s: f32,
}

fn merge(a: Stats, b: Stats) -> Stats {
  let m = max(a.m, b.m);
  return Stats(m, a.s * exp(a.m - m) + b.s * exp(b.m - m));
}

// Folds the vec4 x of columns 4i .. 4i+3 (scaled by k) into st; columns ≥ V are ignored.
fn fold(st: Stats, x: vec4<f32>, i: u32, k: f32) -> Stats {
  let valid = vec4<u32>(4u * i) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(p.V);
  let y = select(vec4<f32>(NEG), x * k, valid);
  let m = max(st.m, max(max(y.x, y.y), max(y.z, y.w)));
  let e = select(vec4<f32>(0.0), exp(y - m), valid);
  return Stats(m, st.s * exp(st.m - m) + (e.x + e.y + e.z + e.w));
}

// Combines every invocation's statistics in a fixed order; returns the row's logsumexp (to all invocations).
fn reduceLse(st: Stats, lid: u32) -> f32 {
  redMax[lid] = st.m;
  redSum[lid] = st.s;
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) {
      let r = merge(Stats(redMax[lid], redSum[lid]), Stats(redMax[lid + stride], redSum[lid + stride]));
      redMax[lid] = r.m;
      redSum[lid] = r.s;
    }
  }
  workgroupBarrier();
  return redMax[0] + log(redSum[0]);
}

@compute @workgroup_size(WG)
fn cross_entropy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let n = wid.x + wid.y * nwg.x;
  if (n >= p.rows) {
    return; // uniform per workgroup: the whole workgroup leaves
  }
  let base = n * p.Vp4;
  let tgt = targets[p.row0 + n];
  // Read the tgt logit now, before any invocation overwrites the row with its gradient.
  var xTarget = 0.0;
  if (lid == 0u && tgt >= 0 && u32(tgt) < p.V) {
    let c = u32(tgt);
    xTarget = rowsOut[base + c / 4u][c % 4u];
  }
  var st = Stats(NEG, 0.0);
  for (var i = lid; i < p.Vp4; i += WG) {
    st = fold(st, rowsOut[base + i], i, 1.0);
  }
  let lse = reduceLse(st, lid);
  if (lid == 0u) {
    var loss = 0.0;
    if (tgt >= 0) {
      loss = select(bitcast<f32>(0x7fc00000u), lse - xTarget, u32(tgt) < p.V);
    }
    losses[p.row0 + n] = loss;
  }
  if (p.writeGrad != 0u) {
    let scale = select(p.gradScale, 0.0, tgt < 0);
    let tc = u32(max(tgt, 0));
    for (var i = lid; i < p.Vp4; i += WG) {
      let cols = vec4<u32>(4u * i) + vec4<u32>(0u, 1u, 2u, 3u);
      let prob = select(vec4<f32>(0.0), exp(rowsOut[base + i] - lse), cols < vec4<u32>(p.V));
      let onehot = select(vec4<f32>(0.0), vec4<f32>(1.0), cols == vec4<u32>(tc));
      rowsOut[base + i] = (prob - onehot) * scale;
    }
  }
}

@compute @workgroup_size(WG)
fn softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let n = wid.x + wid.y * nwg.x;
  if (n >= p.rows) {
    return;
  }
  let base = n * p.Vp4;
  let k = p.invTemperature;
  var st = Stats(NEG, 0.0);
  for (var i = lid; i < p.Vp4; i += WG) {
    st = fold(st, rowsIn[base + i], i, k);
  }
  let lse = reduceLse(st, lid);
  for (var i = lid; i < p.Vp4; i += WG) {
    let cols = vec4<u32>(4u * i) + vec4<u32>(0u, 1u, 2u, 3u);
    rowsOut[base + i] = select(vec4<f32>(0.0), exp(rowsIn[base + i] * k - lse), cols < vec4<u32>(p.V));
  }
}
