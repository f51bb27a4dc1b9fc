// Causal multi-head self-attention (HF GPT2Attention: scores q·k/√hs, causal mask, softmax, no dropout),
// flash-attention style: no (T, T) matrix is ever stored.
//
//   forward:      out = softmax(q·kᵀ/√hs + mask)·v and lse = logsumexp of each scaled score row
//   decode:       the same for Tq new queries at positions pos0 .. pos0+Tq−1 over a KV cache
//   decode_split: decode for a few new queries, each query's keys split across a workgroup
//   dq:           dq_t = Σ_{j ≤ t} dS_tj · k_j/√hs, and delta_t = D_t = dout_t·out_t (scratch for dkv)
//   dkv:          dk_j = Σ_{t ≥ j} dS_tj · q_t/√hs,  dv_j = Σ_{t ≥ j} P_tj · dout_t
// with P_tj = exp(q_t·k_j/√hs − lse_t) recomputed from the saved lse and dS_tj = P_tj·(dout_t·v_j − D_t).
// dq and dkv each write their part of dqkv exactly once (overwrite), with no atomics and a fixed summation
// order, so results are bit-identical run to run. dq must run before dkv (dkv reads delta).
//
// Work split (forward, decode, dq, dkv): a workgroup of QB invocations owns QB·R consecutive rows (queries,
// or keys for dkv) of one (batch b, head h); invocation i owns rows r0 + i + r·QB, r < R, and keeps them in
// registers. The other side (keys and values, or queries and output gradients) is staged KT rows at a time
// in workgroup memory, each element read from global memory once per workgroup, and all invocations then walk
// the tile rows in the same order (broadcast reads on GPUs). R > 1 is for CPU adapters (llvmpipe), where every
// workgroup-memory read is a per-lane load: one staged row read by an invocation then feeds R of its rows.
// Row groups whose QB rows all lie on the masked side of the current tile row skip it.
//
// The softmax is online and lazily rescaled: the reference max m only moves when a score exceeds it by more
// than SLACK, so exp(s − m) ≤ e^SLACK stays well inside f32 while the (hs-wide) rescale is rare.
//
// Layouts (vec4 units below; C4 = C/4, HS4 = hs/4 ≤ 16):
//   qkv (B, T, 3C): q of head h of token t at channels h·hs .., k at C + h·hs .., v at 2C + h·hs ..
//   out, dout (B, T, C) with head h at channels h·hs ..;  lse, delta (B, NH, T)
//   decode caches kcache, vcache (B, NH, Tmax, hs)
// forward and decode read keys/values through generic addressing given by the uniforms:
//   key j, vec4 d of (b, h) = b·kvBatch + h·kvHead + kOff + j·kvStride + d   (vOff for values)
// which is qkv itself in forward (kvStride 3C4, kOff C4, vOff 2C4) and the caches in decode.
//
// Bindings, forward / decode / decode_split (Params): 0 params, 1 out (B, Tq, C) rw, 2 qsrc = qkv (B, Tq, 3C),
//   3 ksrc, 4 vsrc (qkv, or kcache / vcache), 5 lse (B, NH, Tq) rw (forward only).
// Bindings, dq / dkv (BackParams): 0 params, 1 dqkv (B, T, 3C) rw, 2 delta (B, NH, T) rw, 3 dout (B, T, C),
//   4 qkv (B, T, 3C), 5 lse (B, NH, T), 6 out (B, T, C) (dq only).
// Dispatch: forward, decode, dq, dkv: (ceil(rows / (QB·R)), B·NH) workgroups of QB, rows = Tq or T;
//   decode_split: (Tq, B·NH) workgroups of QB.
// Constraints: hs % 4 == 0, hs ≤ 64, 1 ≤ R ≤ 4.

override QB: u32 = 64u; // invocations per workgroup
override R: u32 = 1u; // rows per invocation, 1 .. 4
override KT: u32 = 32u; // rows per workgroup-memory tile
override HS4: u32 = 16u; // hs / 4

// Stands in for −∞: exp(NEG − m) is 0 for any finite m.
const NEG: f32 = -3.0e38;
// Lazy-rescale threshold of the forward's online softmax (natural log units).
const SLACK: f32 = 8.0;

struct Params {
  Tq: u32, // queries per sequence in this call
  NH: u32,
  C4: u32,
  pos0: u32, // position of query 0
  kvBatch: u32,
  kvHead: u32,
  kvStride: u32,
  kOff: u32,
  vOff: u32,
  scale: f32, // 1 / √hs
  hs4: u32, // HS4 again, as a runtime value: loops bounded by it stay loops (see loadQ)
}

struct BackParams {
  T: u32,
  NH: u32,
  C4: u32,
  scale: f32,
  hs4: u32, // HS4 as a runtime value
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> qsrc: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> ksrc: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> vsrc: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

@group(0) @binding(0) var<uniform> bp: BackParams;
@group(0) @binding(1) var<storage, read_write> dqkv: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> delta: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> qkv: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> lseIn: array<f32>;
@group(0) @binding(6) var<storage, read> outIn: array<vec4<f32>>;

// Staged rows, 16 vec4 each (zero past HS4): keys and values (forward, decode, dq) or queries and output
// gradients (dkv); plus lse and delta of staged queries (dkv).
var<workgroup> tileA: array<vec4<f32>, KT * 16u>;
var<workgroup> tileB: array<vec4<f32>, KT * 16u>;
var<workgroup> tileL: array<f32, KT>;
var<workgroup> tileD: array<f32, KT>;

// ---- Row arithmetic ------------------------------------------------------------------------------------
// A head row (hs ≤ 64 floats) is a Row of four 4×4 matrices, and whole-row arithmetic is straight-line code.
// Why: llvmpipe keeps only straight-line values in registers; a private array indexed inside a loop that Mesa
// does not fully unroll (it unrolls only small loop nests) lives in memory, costing a per-lane gather per use.
// Dimensions past hs are zero; matrices past HS4 are skipped when the pipeline is created.

struct Row {
  a: mat4x4<f32>,
  b: mat4x4<f32>,
  c: mat4x4<f32>,
  d: mat4x4<f32>,
}

fn mdot(x: mat4x4<f32>, y: mat4x4<f32>) -> f32 {
  return (dot(x[0], y[0]) + dot(x[1], y[1])) + (dot(x[2], y[2]) + dot(x[3], y[3]));
}

// x · y
fn rdot(x: Row, y: Row) -> f32 {
  var s = mdot(x.a, y.a);
  if (HS4 > 4u) {
    s += mdot(x.b, y.b);
  }
  if (HS4 > 8u) {
    s += mdot(x.c, y.c);
  }
  if (HS4 > 12u) {
    s += mdot(x.d, y.d);
  }
  return s;
}

// y + s·x
fn raxpy(y: Row, s: f32, x: Row) -> Row {
  var r = y;
  r.a += s * x.a;
  if (HS4 > 4u) {
    r.b += s * x.b;
  }
  if (HS4 > 8u) {
    r.c += s * x.c;
  }
  if (HS4 > 12u) {
    r.d += s * x.d;
  }
  return r;
}

// s·x
fn rscale(x: Row, s: f32) -> Row {
  var r = x;
  r.a *= s;
  if (HS4 > 4u) {
    r.b *= s;
  }
  if (HS4 > 8u) {
    r.c *= s;
  }
  if (HS4 > 12u) {
    r.d *= s;
  }
  return r;
}

fn toRow(v: array<vec4<f32>, 16>) -> Row {
  return Row(
    mat4x4<f32>(v[0], v[1], v[2], v[3]),
    mat4x4<f32>(v[4], v[5], v[6], v[7]),
    mat4x4<f32>(v[8], v[9], v[10], v[11]),
    mat4x4<f32>(v[12], v[13], v[14], v[15]),
  );
}

fn fromRow(x: Row) -> array<vec4<f32>, 16> {
  return array<vec4<f32>, 16>(
    x.a[0], x.a[1], x.a[2], x.a[3], x.b[0], x.b[1], x.b[2], x.b[3],
    x.c[0], x.c[1], x.c[2], x.c[3], x.d[0], x.d[1], x.d[2], x.d[3],
  );
}

// Row j of a workgroup tile.
fn tileRowA(j: u32) -> Row {
  let i = j * 16u;
  var r: Row;
  r.a = mat4x4<f32>(tileA[i], tileA[i + 1u], tileA[i + 2u], tileA[i + 3u]);
  if (HS4 > 4u) {
    r.b = mat4x4<f32>(tileA[i + 4u], tileA[i + 5u], tileA[i + 6u], tileA[i + 7u]);
  }
  if (HS4 > 8u) {
    r.c = mat4x4<f32>(tileA[i + 8u], tileA[i + 9u], tileA[i + 10u], tileA[i + 11u]);
  }
  if (HS4 > 12u) {
    r.d = mat4x4<f32>(tileA[i + 12u], tileA[i + 13u], tileA[i + 14u], tileA[i + 15u]);
  }
  return r;
}

fn tileRowB(j: u32) -> Row {
  let i = j * 16u;
  var r: Row;
  r.a = mat4x4<f32>(tileB[i], tileB[i + 1u], tileB[i + 2u], tileB[i + 3u]);
  if (HS4 > 4u) {
    r.b = mat4x4<f32>(tileB[i + 4u], tileB[i + 5u], tileB[i + 6u], tileB[i + 7u]);
  }
  if (HS4 > 8u) {
    r.c = mat4x4<f32>(tileB[i + 8u], tileB[i + 9u], tileB[i + 10u], tileB[i + 11u]);
  }
  if (HS4 > 12u) {
    r.d = mat4x4<f32>(tileB[i + 12u], tileB[i + 13u], tileB[i + 14u], tileB[i + 15u]);
  }
  return r;
}

// ---- Forward and decode --------------------------------------------------------------------------------

// Online-softmax state of one query row.
struct Soft {
  acc: Row,
  m: f32, // reference max
  l: f32, // Σ exp(s − m)
}

// Row loads and stores loop to the runtime hs4 so they are not unrolled: on llvmpipe every global access
// expands to a per-lane loop with bounds checks, and 16 unrolled copies per row multiply compile time.
fn loadQ(base: u32) -> Row {
  var v: array<vec4<f32>, 16>;
  for (var d = 0u; d < p.hs4; d++) {
    v[d] = qsrc[base + d];
  }
  return toRow(v);
}

// Folds key k / value v into a query's state; invisible keys contribute exp(NEG − m) = 0.
fn attendKey(st: ptr<function, Soft>, q: Row, k: Row, v: Row, visible: bool) {
  let s = select(NEG, rdot(q, k), visible);
  // Key 0 is visible to every query and comes first, so this sets a finite m before anything else.
  if (s > (*st).m + SLACK) {
    let c = exp((*st).m - s);
    (*st).acc = rscale((*st).acc, c);
    (*st).l *= c;
    (*st).m = s;
  }
  let e = exp(s - (*st).m);
  (*st).acc = raxpy((*st).acc, e, v);
  (*st).l += e;
}

// Writes a query's normalised output row (when t < Tq) and returns its logsumexp.
fn finish(st: Soft, b: u32, h: u32, t: u32) -> f32 {
  if (t < p.Tq) {
    let v = fromRow(rscale(st.acc, 1.0 / st.l));
    let base = (b * p.Tq + t) * p.C4 + h * HS4;
    for (var d = 0u; d < p.hs4; d++) {
      out[base + d] = v[d];
    }
  }
  return st.m + log(st.l);
}

// Attention of the R queries t0 + lid + r·QB of (b, h) = (bh / NH, bh % NH); returns their logsumexps.
fn attend(block: u32, bh: u32, lid: u32) -> vec4<f32> {
  let b = bh / p.NH;
  let h = bh % p.NH;
  let t0 = block * QB * R;
  let C34 = 3u * p.C4;
  let qBase = b * p.Tq * C34 + h * HS4;
  // Invocations past the last query shadow it so every load stays in range; they write nothing.
  let last = p.Tq - 1u;
  let zero = Soft(Row(), NEG, 0.0);
  let q0 = rscale(loadQ(qBase + min(t0 + lid, last) * C34), p.scale);
  var s0 = zero;
  var q1: Row;
  var q2: Row;
  var q3: Row;
  var s1 = zero;
  var s2 = zero;
  var s3 = zero;
  if (R > 1u) {
    q1 = rscale(loadQ(qBase + min(t0 + QB + lid, last) * C34), p.scale);
  }
  if (R > 2u) {
    q2 = rscale(loadQ(qBase + min(t0 + 2u * QB + lid, last) * C34), p.scale);
  }
  if (R > 3u) {
    q3 = rscale(loadQ(qBase + min(t0 + 3u * QB + lid, last) * C34), p.scale);
  }
  // Position of this invocation's query in row group 0; group r adds r·QB.
  let pos = p.pos0 + t0 + lid;
  // Last position of row group 0.
  let top = p.pos0 + t0 + QB - 1u;
  let kvBase = b * p.kvBatch + h * p.kvHead;
  // One past the last key any query of this block can see.
  let jEnd = p.pos0 + min(t0 + QB * R, p.Tq);
  for (var j0 = 0u; j0 < jEnd; j0 += KT) {
    workgroupBarrier(); // the previous tile is consumed
    // Stage keys j0 .. j0 + KT − 1; rows past jEnd repeat the last key (after every query: never visible).
    for (var i = lid; i < KT * 16u; i += QB) {
      let d = i % 16u;
      var kx = vec4<f32>(0.0);
      var vx = vec4<f32>(0.0);
      if (d < HS4) {
        let row = kvBase + min(j0 + i / 16u, jEnd - 1u) * p.kvStride + d;
        kx = ksrc[row + p.kOff];
        vx = vsrc[row + p.vOff];
      }
      tileA[i] = kx;
      tileB[i] = vx;
    }
    workgroupBarrier();
    let nk = min(KT, jEnd - j0);
    for (var jj = 0u; jj < nk; jj++) {
      let j = j0 + jj;
      let k = tileRowA(jj);
      let v = tileRowB(jj);
      if (j <= top) {
        attendKey(&s0, q0, k, v, j <= pos);
      }
      if (R > 1u && j <= top + QB) {
        attendKey(&s1, q1, k, v, j <= pos + QB);
      }
      if (R > 2u && j <= top + 2u * QB) {
        attendKey(&s2, q2, k, v, j <= pos + 2u * QB);
      }
      if (R > 3u && j <= top + 3u * QB) {
        attendKey(&s3, q3, k, v, j <= pos + 3u * QB);
      }
    }
  }
  var rowLse = vec4<f32>(0.0);
  rowLse.x = finish(s0, b, h, t0 + lid);
  if (R > 1u) {
    rowLse.y = finish(s1, b, h, t0 + QB + lid);
  }
  if (R > 2u) {
    rowLse.z = finish(s2, b, h, t0 + 2u * QB + lid);
  }
  if (R > 3u) {
    rowLse.w = finish(s3, b, h, t0 + 3u * QB + lid);
  }
  return rowLse;
}

@compute @workgroup_size(QB)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  // Later query blocks see more keys: start them first so the causal triangle's tail balances across cores.
  let block = nwg.x - 1u - wid.x;
  let rowLse = attend(block, wid.y, lid);
  for (var r = 0u; r < R; r++) {
    let t = block * QB * R + r * QB + lid;
    if (t < p.Tq) {
      lse[wid.y * p.Tq + t] = rowLse[r];
    }
  }
}

@compute @workgroup_size(QB)
fn decode(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  _ = attend(nwg.x - 1u - wid.x, wid.y, lid);
}

// ---- Decode of a few tokens: keys split across invocations ---------------------------------------------
// With one new token per sequence, the query-block kernel would leave all but one invocation idle. Here a
// workgroup owns one query (t, b, h); invocation i folds keys i, i + QB, ... ≤ pos into its own softmax
// state, read straight from the cache, and invocation 0 merges the QB states in a fixed order.

var<workgroup> mergeM: array<f32, QB>;
var<workgroup> mergeL: array<f32, QB>;
var<workgroup> mergeAcc: array<vec4<f32>, QB * 16u>;

// Unrolled (few call sites), so the row stays in registers.
fn loadK(base: u32) -> Row {
  var v: array<vec4<f32>, 16>;
  for (var d = 0u; d < 16u; d++) {
    if (d < HS4) {
      v[d] = ksrc[base + d];
    }
  }
  return toRow(v);
}

fn loadV(base: u32) -> Row {
  var v: array<vec4<f32>, 16>;
  for (var d = 0u; d < 16u; d++) {
    if (d < HS4) {
      v[d] = vsrc[base + d];
    }
  }
  return toRow(v);
}

@compute @workgroup_size(QB)
fn decode_split(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.x;
  let b = wid.y / p.NH;
  let h = wid.y % p.NH;
  let pos = p.pos0 + t;
  let q = rscale(loadQ((b * p.Tq + t) * 3u * p.C4 + h * HS4), p.scale);
  let kvBase = b * p.kvBatch + h * p.kvHead;
  var st = Soft(Row(), NEG, 0.0);
  for (var j = lid; j <= pos; j += QB) {
    let row = kvBase + j * p.kvStride;
    attendKey(&st, q, loadK(row + p.kOff), loadV(row + p.vOff), true);
  }
  // Invocations that saw no key keep m = NEG, l = 0 and weigh 0 below (invocation 0 always sees key 0).
  mergeM[lid] = st.m;
  mergeL[lid] = st.l;
  let acc = fromRow(st.acc);
  for (var d = 0u; d < p.hs4; d++) {
    mergeAcc[lid * 16u + d] = acc[d];
  }
  workgroupBarrier();
  if (lid == 0u) {
    var m = NEG;
    for (var i = 0u; i < QB; i++) {
      m = max(m, mergeM[i]);
    }
    var l = 0.0;
    var sum: array<vec4<f32>, 16>;
    for (var i = 0u; i < QB; i++) {
      let c = exp(mergeM[i] - m);
      l += c * mergeL[i];
      for (var d = 0u; d < p.hs4; d++) {
        sum[d] += c * mergeAcc[i * 16u + d];
      }
    }
    let base = (b * p.Tq + t) * p.C4 + h * HS4;
    for (var d = 0u; d < p.hs4; d++) {
      out[base + d] = sum[d] / l;
    }
  }
}

// ---- Backward ------------------------------------------------------------------------------------------

fn loadQKV(base: u32) -> Row {
  var v: array<vec4<f32>, 16>;
  for (var d = 0u; d < bp.hs4; d++) {
    v[d] = qkv[base + d];
  }
  return toRow(v);
}

fn loadDout(base: u32) -> Row {
  var v: array<vec4<f32>, 16>;
  for (var d = 0u; d < bp.hs4; d++) {
    v[d] = dout[base + d];
  }
  return toRow(v);
}

fn loadOut(base: u32) -> Row {
  var v: array<vec4<f32>, 16>;
  for (var d = 0u; d < bp.hs4; d++) {
    v[d] = outIn[base + d];
  }
  return toRow(v);
}

fn storeGrad(base: u32, x: Row) {
  let v = fromRow(x);
  for (var d = 0u; d < bp.hs4; d++) {
    dqkv[base + d] = v[d];
  }
}

// dq state of one query row: scaled q, dout, D, lse and the dq accumulator.
struct QGrad {
  q: Row,
  g: Row,
  D: f32,
  L: f32,
  dq: Row,
}

fn loadQGrad(b: u32, h: u32, t: u32) -> QGrad {
  let tc = min(t, bp.T - 1u);
  let o = (b * bp.T + tc) * bp.C4 + h * HS4;
  let g = loadDout(o);
  let q = rscale(loadQKV((b * bp.T + tc) * 3u * bp.C4 + h * HS4), bp.scale);
  return QGrad(q, g, rdot(g, loadOut(o)), lseIn[(b * bp.NH + h) * bp.T + tc], Row());
}

fn dqKey(st: ptr<function, QGrad>, k: Row, v: Row, visible: bool) {
  let P = select(0.0, exp(rdot((*st).q, k) - (*st).L), visible);
  let dS = P * (rdot((*st).g, v) - (*st).D);
  (*st).dq = raxpy((*st).dq, dS, k);
}

fn finishQGrad(st: QGrad, b: u32, h: u32, t: u32) {
  if (t < bp.T) {
    storeGrad((b * bp.T + t) * 3u * bp.C4 + h * HS4, rscale(st.dq, bp.scale));
    delta[(b * bp.NH + h) * bp.T + t] = st.D;
  }
}

@compute @workgroup_size(QB)
fn dq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
      @builtin(local_invocation_index) lid: u32) {
  // Later query blocks see more keys: start them first.
  let t0 = (nwg.x - 1u - wid.x) * QB * R;
  let b = wid.y / bp.NH;
  let h = wid.y % bp.NH;
  var s0 = loadQGrad(b, h, t0 + lid);
  var s1: QGrad;
  var s2: QGrad;
  var s3: QGrad;
  if (R > 1u) {
    s1 = loadQGrad(b, h, t0 + QB + lid);
  }
  if (R > 2u) {
    s2 = loadQGrad(b, h, t0 + 2u * QB + lid);
  }
  if (R > 3u) {
    s3 = loadQGrad(b, h, t0 + 3u * QB + lid);
  }
  let t = t0 + lid;
  let top = t0 + QB - 1u;
  let C34 = 3u * bp.C4;
  let kBase = b * bp.T * C34 + bp.C4 + h * HS4;
  let jEnd = min(t0 + QB * R, bp.T);
  for (var j0 = 0u; j0 < jEnd; j0 += KT) {
    workgroupBarrier();
    for (var i = lid; i < KT * 16u; i += QB) {
      let d = i % 16u;
      var kx = vec4<f32>(0.0);
      var vx = vec4<f32>(0.0);
      if (d < HS4) {
        let row = kBase + min(j0 + i / 16u, jEnd - 1u) * C34 + d;
        kx = qkv[row];
        vx = qkv[row + bp.C4];
      }
      tileA[i] = kx;
      tileB[i] = vx;
    }
    workgroupBarrier();
    let nk = min(KT, jEnd - j0);
    for (var jj = 0u; jj < nk; jj++) {
      let j = j0 + jj;
      let k = tileRowA(jj);
      let v = tileRowB(jj);
      if (j <= top) {
        dqKey(&s0, k, v, j <= t);
      }
      if (R > 1u && j <= top + QB) {
        dqKey(&s1, k, v, j <= t + QB);
      }
      if (R > 2u && j <= top + 2u * QB) {
        dqKey(&s2, k, v, j <= t + 2u * QB);
      }
      if (R > 3u && j <= top + 3u * QB) {
        dqKey(&s3, k, v, j <= t + 3u * QB);
      }
    }
  }
  finishQGrad(s0, b, h, t);
  if (R > 1u) {
    finishQGrad(s1, b, h, t + QB);
  }
  if (R > 2u) {
    finishQGrad(s2, b, h, t + 2u * QB);
  }
  if (R > 3u) {
    finishQGrad(s3, b, h, t + 3u * QB);
  }
}

// dk/dv state of one key row: scaled k, v and the accumulators.
struct KVGrad {
  k: Row,
  v: Row,
  dk: Row,
  dv: Row,
}

fn loadKVGrad(b: u32, h: u32, j: u32) -> KVGrad {
  let base = (b * bp.T + min(j, bp.T - 1u)) * 3u * bp.C4 + bp.C4 + h * HS4;
  return KVGrad(rscale(loadQKV(base), bp.scale), loadQKV(base + bp.C4), Row(), Row());
}

fn kvQuery(st: ptr<function, KVGrad>, q: Row, g: Row, L: f32, D: f32, visible: bool) {
  let P = select(0.0, exp(rdot((*st).k, q) - L), visible);
  let dS = P * (rdot((*st).v, g) - D);
  (*st).dv = raxpy((*st).dv, P, g);
  (*st).dk = raxpy((*st).dk, dS, q);
}

fn finishKVGrad(st: KVGrad, b: u32, h: u32, j: u32) {
  if (j < bp.T) {
    let base = (b * bp.T + j) * 3u * bp.C4 + bp.C4 + h * HS4;
    storeGrad(base, rscale(st.dk, bp.scale));
    storeGrad(base + bp.C4, st.dv);
  }
}

@compute @workgroup_size(QB)
fn dkv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  // Early key blocks are seen by more queries; they come first in dispatch order already.
  let j0 = wid.x * QB * R;
  let b = wid.y / bp.NH;
  let h = wid.y % bp.NH;
  var s0 = loadKVGrad(b, h, j0 + lid);
  var s1: KVGrad;
  var s2: KVGrad;
  var s3: KVGrad;
  if (R > 1u) {
    s1 = loadKVGrad(b, h, j0 + QB + lid);
  }
  if (R > 2u) {
    s2 = loadKVGrad(b, h, j0 + 2u * QB + lid);
  }
  if (R > 3u) {
    s3 = loadKVGrad(b, h, j0 + 3u * QB + lid);
  }
  let j = j0 + lid;
  let C34 = 3u * bp.C4;
  let qBase = b * bp.T * C34 + h * HS4;
  let oBase = b * bp.T * bp.C4 + h * HS4;
  let sBase = wid.y * bp.T;
  let tStart = min(j0, bp.T - 1u);
  for (var tt0 = tStart; tt0 < bp.T; tt0 += KT) {
    workgroupBarrier();
    for (var i = lid; i < KT * 16u; i += QB) {
      let d = i % 16u;
      let t = min(tt0 + i / 16u, bp.T - 1u);
      var qx = vec4<f32>(0.0);
      var gx = vec4<f32>(0.0);
      if (d < HS4) {
        qx = qkv[qBase + t * C34 + d];
        gx = dout[oBase + t * bp.C4 + d];
      }
      tileA[i] = qx;
      tileB[i] = gx;
    }
    for (var i = lid; i < KT; i += QB) {
      let t = min(tt0 + i, bp.T - 1u);
      tileL[i] = lseIn[sBase + t];
      tileD[i] = delta[sBase + t];
    }
    workgroupBarrier();
    let nq = min(KT, bp.T - tt0);
    for (var ti = 0u; ti < nq; ti++) {
      let t = tt0 + ti;
      let q = tileRowA(ti);
      let g = tileRowB(ti);
      let L = tileL[ti];
      let D = tileD[ti];
      // Group r holds keys j0 + r·QB .. ; queries before its first key see none of them.
      if (t >= j0) {
        kvQuery(&s0, q, g, L, D, t >= j);
      }
      if (R > 1u && t >= j0 + QB) {
        kvQuery(&s1, q, g, L, D, t >= j + QB);
      }
      if (R > 2u && t >= j0 + 2u * QB) {
        kvQuery(&s2, q, g, L, D, t >= j + 2u * QB);
      }
      if (R > 3u && t >= j0 + 3u * QB) {
        kvQuery(&s3, q, g, L, D, t >= j + 3u * QB);
      }
    }
  }
  finishKVGrad(s0, b, h, j);
  if (R > 1u) {
    finishKVGrad(s1, b, h, j + QB);
  }
  if (R > 2u) {
    finishKVGrad(s2, b, h, j + 2u * QB);
  }
  if (R > 3u) {
    finishKVGrad(s3, b, h, j + 3u * QB);
  }
}
