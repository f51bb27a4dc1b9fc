// Knowledge-distillation losses on the output logits, fused per row: causal-LM cross-entropy on the labels,
// forward KL to the teacher (DistilGPT2 / Hinton "ce") and reverse KL, with the gradient of their weighted
// sum written in place of the student logits. One workgroup per row (rows are V = 50257 wide for GPT-2).
//
// Per row, with p = softmax(z), pT = softmax(z/T) and q the teacher distribution at temperature T:
//   clm = −log p[label]                          (0 when label < 0, i.e. ignored as HF's −100; NaN if ≥ V)
//   ce  = T²·KL(q ‖ pT) = T²·Σ q·(log q − log pT)
//   rkl = T²·KL(pT ‖ q) = T²·Σ pT·(log pT − log q)
// dz = cClm·(p − onehot(label)) + cCe·(pT − q) + cRkl·pT·(log pT − log q − rkl/T²)
//   with cClm = alphaClm·gradScale, cCe = alphaCe·T·gradScale, cRkl = alphaRkl·T·gradScale (the wrapper folds
//   them). Derivation: ∂/∂z_j of T²·Σ q(log q − log pT) = T·(pT_j − q_j); of T²·KL(pT ‖ q) = T·pT_j·(a_j − KL),
//   a = log pT − log q, since ∂pT_i/∂z_j = pT_i(δ_ij − pT_j)/T and Σ_i ∂pT_i/∂z_j = 0.
// Rows with mask 0 (padding) get zero losses and an all-zero gradient row; padding columns V .. Vp−1 get 0.
//
// `full`: the teacher row is t (V floats at row stride ldT), q = softmax(t/T). One pass gathers three online
//   softmax accumulators (max, Σe, Σe·d) — of z, of z/T with d = z − t, of t/T with d = t − z — so
//   Σ pT·(z − t) and Σ q·(t − z) come out of the same pass as the logsumexps:
//     ce/T² = Σq(t − z)/T − lseT + lseZ,   rkl/T² = ΣpT(z − t)/T − lseZ + lseT.
//   A second pass writes the gradient.
// `topk`: the teacher keeps k (index, logit) pairs per row; q = softmax over the kept logits / T, zero
//   elsewhere (renormalised over the top-k), so ce = T²·Σ_kept q·(log q − log pT) is exact. Reverse KL is
//   undefined outside the support (log 0); it is taken against the floored distribution
//     q̃_i = (1 − (V − k)·ε)·q_i for kept i,   q̃_i = ε for every other column,
//   which sums to 1 and still pushes student mass off the non-kept tokens (restricting rkl to the support
//   would not). log ε and log(1 − (V − k)ε) arrive as uniforms. The dense gradient pass treats every column as
//   non-kept (log q̃ = log ε, q = 0); after a storage barrier each invocation corrects its kept columns:
//     += −cCe·q_i + cRkl·pT_i·(log ε − log q̃_i).
//   The student logits of the kept columns are read in the first pass (before any write) into registers:
//   k ≤ KPL·WG. Indices must be distinct (torch.topk's are) so the corrections never write one element
//   twice; an index ≥ V makes the row's ce and rkl NaN (a caller bug made visible) and is skipped.
//   rkl/T² = Σ pT log pT − Σ_kept pT log q̃ − (1 − P_kept)·log ε with P_kept = Σ_kept pT, from accumulators of
//   z/T with d = z/T over the row and, over the kept columns, of t/T (d = (t − z)/T) and of z/T (d = t/T).
//
// Every reduction is a fixed-order tree over the invocations' partial accumulators: deterministic.
// Rows are addressed relative to the bound part: row n of the dispatch is row row0 + n of losses, labels,
// mask and the top-k arrays (z and the full teacher bindings start at row row0).
//
// Bindings: 0 params, 1 z (rows, Vp) read_write: student logits, overwritten by dz when writeGrad ≠ 0,
//           2 losses (N, 3) read_write: [clm, ce, rkl] per row, 3 labels (N) i32, 4 mask (N) u32 (read only
//           when useMask ≠ 0), 5 teacher: full (rows, ldT) or top-k logits (N, k), 6 top-k indices (N, k) u32
//           (topk only).
// Dispatch: `rows` workgroups of WG as an (x, y) grid; row = wid.x + wid.y·nwg.x. Requires Vp % 4 == 0.

override WG: u32 = 256u; // invocations per workgroup, a power of two

// Kept (top-k) entries per invocation: k ≤ KPL·WG. Registers, not workgroup memory, hold their logits.
const KPL: u32 = 4u;

// Stands in for −∞: exp(NEG − m) is 0 for any finite m, and NEG − NEG is 0, never NaN.
const NEG: f32 = -3.0e38;

struct Params {
  rows: u32, // rows in this dispatch
  V: u32,
  Vp4: u32, // Vp / 4
  row0: u32, // first row of this dispatch in losses / labels / mask / top-k arrays
  ldT: u32, // full: teacher row stride in floats; topk: k
  writeGrad: u32,
  useMask: u32,
  unitT: u32, // T == 1: p and pT coincide, skip the separate accumulator and exp
  invT: f32,
  T2: f32, // T², the scale of ce and rkl
  cClm: f32,
  cCe: f32,
  cRkl: f32,
  logFloor: f32, // topk: log ε
  logKeptScale: f32, // topk: log(1 − (V − k)·ε)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> z: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> losses: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<i32>;
@group(0) @binding(4) var<storage, read> mask: array<u32>;
@group(0) @binding(5) var<storage, read> teacher: array<f32>;
@group(0) @binding(6) var<storage, read> kidx: array<u32>;

// Online softmax accumulator over values y with weights d: m = max y, s = Σ exp(y − m), w = Σ exp(y − m)·d.
struct Acc {
  m: f32,
  s: f32,
  w: f32,
}

// One row's accumulators: z (T = 1), z/T, teacher/T, and student-on-kept-columns (topk only).
struct Row {
  one: Acc,
  zt: Acc,
  tt: Acc,
  kk: Acc,
}

var<workgroup> red: array<Row, WG>;

fn empty() -> Acc {
  return Acc(NEG, 0.0, 0.0);
}

fn merge(a: Acc, b: Acc) -> Acc {
  let m = max(a.m, b.m);
  let ca = exp(a.m - m);
  let cb = exp(b.m - m);
  return Acc(m, a.s * ca + b.s * cb, a.w * ca + b.w * cb);
}

// Folds four values y (weights d) into acc; lanes where valid is false are ignored.
fn fold4(acc: Acc, y: vec4<f32>, d: vec4<f32>, valid: vec4<bool>) -> Acc {
  let yy = select(vec4<f32>(NEG), y, valid);
  let m = max(acc.m, max(max(yy.x, yy.y), max(yy.z, yy.w)));
  let e = select(vec4<f32>(0.0), exp(yy - m), valid);
  let c = exp(acc.m - m);
  return Acc(m, acc.s * c + dot(e, vec4<f32>(1.0)), acc.w * c + dot(e, select(vec4<f32>(0.0), d, valid)));
}

fn fold1(acc: Acc, y: f32, d: f32) -> Acc {
  let m = max(acc.m, y);
  let e = exp(y - m);
  let c = exp(acc.m - m);
  return Acc(m, acc.s * c + e, acc.w * c + e * d);
}

fn lse(a: Acc) -> f32 {
  return a.m + log(a.s);
}

// Combines every invocation's accumulators in a fixed order; returns the row's totals to all invocations.
fn reduceRow(st: Row, lid: u32) -> Row {
  red[lid] = st;
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) {
      let a = red[lid];
      let b = red[lid + stride];
      red[lid] = Row(merge(a.one, b.one), merge(a.zt, b.zt), merge(a.tt, b.tt), merge(a.kk, b.kk));
    }
  }
  workgroupBarrier();
  return red[0];
}

fn columns(i: u32) -> vec4<u32> {
  return vec4<u32>(4u * i) + vec4<u32>(0u, 1u, 2u, 3u);
}

// Teacher logits of columns 4i .. 4i+3 of a full teacher row starting at tb; 0 for columns ≥ V.
fn teacherVec(tb: u32, i: u32) -> vec4<f32> {
  let c = min(columns(i), vec4<u32>(p.V - 1u));
  let t = vec4<f32>(teacher[tb + c.x], teacher[tb + c.y], teacher[tb + c.z], teacher[tb + c.w]);
  return select(vec4<f32>(0.0), t, columns(i) < vec4<u32>(p.V));
}

// Masked row: zero losses and, with the gradient, a zero row. Returns whether the row is masked (uniform:
// mask is read-only storage indexed by the workgroup's row).
fn skipMasked(g: u32, base: u32, lid: u32) -> bool {
  if (p.useMask == 0u || mask[g] != 0u) {
    return false;
  }
  if (lid == 0u) {
    losses[3u * g] = 0.0;
    losses[3u * g + 1u] = 0.0;
    losses[3u * g + 2u] = 0.0;
  }
  if (p.writeGrad != 0u) {
    for (var i = lid; i < p.Vp4; i += WG) {
      z[base + i] = vec4<f32>(0.0);
    }
  }
  return true;
}

// The label's logit, read by invocation 0 before any invocation overwrites the row.
fn labelLogit(base: u32, tgt: i32, lid: u32) -> f32 {
  if (lid == 0u && tgt >= 0 && u32(tgt) < p.V) {
    let c = u32(tgt);
    return z[base + c / 4u][c % 4u];
  }
  return 0.0;
}

fn writeLosses(g: u32, tgt: i32, clm: f32, ce0: f32, rkl0: f32) {
  var l = 0.0;
  if (tgt >= 0) {
    l = select(bitcast<f32>(0x7fc00000u), clm, u32(tgt) < p.V);
  }
  losses[3u * g] = l;
  losses[3u * g + 1u] = p.T2 * ce0;
  losses[3u * g + 2u] = p.T2 * rkl0;
}

// cClm·(p − onehot(label)) for the columns of vec4 i (0 when the label is ignored).
fn clmGrad(zv: vec4<f32>, pT: vec4<f32>, i: u32, tgt: i32, lse1: f32) -> vec4<f32> {
  if (tgt < 0) {
    return vec4<f32>(0.0);
  }
  var p1 = pT;
  if (p.unitT == 0u) {
    p1 = exp(zv - lse1);
  }
  let onehot = select(vec4<f32>(0.0), vec4<f32>(1.0), columns(i) == vec4<u32>(u32(tgt)));
  return p.cClm * (p1 - onehot);
}

@compute @workgroup_size(WG)
fn full(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let n = wid.x + wid.y * nwg.x;
  if (n >= p.rows) {
    return; // uniform per workgroup: the whole workgroup leaves
  }
  let g = p.row0 + n;
  let base = n * p.Vp4;
  if (skipMasked(g, base, lid)) {
    return;
  }
  let tgt = labels[g];
  let zTarget = labelLogit(base, tgt, lid);
  let tb = n * p.ldT;
  var st = Row(empty(), empty(), empty(), empty());
  for (var i = lid; i < p.Vp4; i += WG) {
    let valid = columns(i) < vec4<u32>(p.V);
    let zv = z[base + i];
    let tv = teacherVec(tb, i);
    if (p.unitT == 0u) {
      st.one = fold4(st.one, zv, vec4<f32>(0.0), valid);
    }
    st.zt = fold4(st.zt, zv * p.invT, zv - tv, valid);
    st.tt = fold4(st.tt, tv * p.invT, tv - zv, valid);
  }
  let r = reduceRow(st, lid);
  let lseZ = lse(r.zt);
  let lseT = lse(r.tt);
  let lse1 = select(lse(r.one), lseZ, p.unitT != 0u);
  let ce0 = r.tt.w / r.tt.s * p.invT - lseT + lseZ;
  let rkl0 = r.zt.w / r.zt.s * p.invT - lseZ + lseT;
  if (lid == 0u) {
    writeLosses(g, tgt, lse1 - zTarget, ce0, rkl0);
  }
  if (p.writeGrad != 0u) {
    for (var i = lid; i < p.Vp4; i += WG) {
      let zv = z[base + i];
      let tv = teacherVec(tb, i);
      let pT = exp(zv * p.invT - lseZ);
      let q = exp(tv * p.invT - lseT);
      let a = (zv - tv) * p.invT - lseZ + lseT; // log pT − log q
      let d = clmGrad(zv, pT, i, tgt, lse1) + p.cCe * (pT - q) + p.cRkl * pT * (a - rkl0);
      z[base + i] = select(vec4<f32>(0.0), d, columns(i) < vec4<u32>(p.V));
    }
  }
}

@compute @workgroup_size(WG)
fn topk(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let n = wid.x + wid.y * nwg.x;
  if (n >= p.rows) {
    return;
  }
  let g = p.row0 + n;
  let base = n * p.Vp4;
  if (skipMasked(g, base, lid)) {
    return;
  }
  let tgt = labels[g];
  let zTarget = labelLogit(base, tgt, lid);
  let k = p.ldT;
  let kb = g * k;
  var st = Row(empty(), empty(), empty(), empty());
  for (var i = lid; i < p.Vp4; i += WG) {
    let valid = columns(i) < vec4<u32>(p.V);
    let zv = z[base + i];
    if (p.unitT == 0u) {
      st.one = fold4(st.one, zv, vec4<f32>(0.0), valid);
    }
    let zs = zv * p.invT;
    st.zt = fold4(st.zt, zs, zs, valid);
  }
  // The kept columns: teacher accumulator (d = (t − z)/T for ce) and student accumulator (d = t/T for rkl).
  var zk: array<f32, KPL>;
  for (var r = 0u; r < KPL; r++) {
    let j = lid + r * WG;
    if (j < k) {
      let c = kidx[kb + j];
      let tl = teacher[kb + j] * p.invT;
      if (c < p.V) {
        let zc = z[base + c / 4u][c % 4u] * p.invT;
        zk[r] = zc;
        st.tt = fold1(st.tt, tl, tl - zc);
        st.kk = fold1(st.kk, zc, tl);
      } else {
        st.tt.s = bitcast<f32>(0x7fc00000u); // NaN: an index out of range poisons ce and rkl
      }
    }
  }
  let r = reduceRow(st, lid);
  let lseZ = lse(r.zt);
  let lseK = lse(r.tt);
  let lse1 = select(lse(r.one), lseZ, p.unitT != 0u);
  let ce0 = r.tt.w / r.tt.s - lseK + lseZ;
  let toP = exp(r.kk.m - lseZ);
  let pKept = r.kk.s * toP; // Σ_kept pT
  let ptKept = r.kk.w * toP; // Σ_kept pT·t/T
  let sumPlogP = r.zt.w / r.zt.s - lseZ;
  let sumPlogQKept = p.logKeptScale * pKept + ptKept - lseK * pKept;
  let rkl0 = sumPlogP - sumPlogQKept - (1.0 - pKept) * p.logFloor;
  if (lid == 0u) {
    writeLosses(g, tgt, lse1 - zTarget, ce0, rkl0);
  }
  if (p.writeGrad != 0u) {
    for (var i = lid; i < p.Vp4; i += WG) {
      let zv = z[base + i];
      let zs = zv * p.invT;
      let pT = exp(zs - lseZ);
      let a = zs - lseZ - p.logFloor; // log pT − log ε, as if no column were kept
      let d = clmGrad(zv, pT, i, tgt, lse1) + p.cCe * pT + p.cRkl * pT * (a - rkl0);
      z[base + i] = select(vec4<f32>(0.0), d, columns(i) < vec4<u32>(p.V));
    }
    storageBarrier(); // every dense write lands before the kept columns are corrected
    for (var r = 0u; r < KPL; r++) {
      let j = lid + r * WG;
      if (j < k) {
        let c = kidx[kb + j];
        if (c < p.V) {
          let tl = teacher[kb + j] * p.invT;
          let pj = exp(zk[r] - lseZ);
          let qj = exp(tl - lseK);
          let logQ = p.logKeptScale + tl - lseK;
          z[base + c / 4u][c % 4u] += -p.cCe * qj + p.cRkl * pj * (p.logFloor - logQ);
        }
      }
    }
  }
}
