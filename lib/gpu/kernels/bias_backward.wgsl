// Bias gradient: dbias[o] += Σ_n dout[n, o], deterministic (fixed partition, fixed summation order; no
// atomics).
//
// dbias (OC), dout (N, OC) row-major, partial (blocks, OC) scratch.
//
// partial — invocation (column o, row block y) sums rows [y·ROWS, min((y+1)·ROWS, N)) of column o in
//           order. With one block (direct = 1) it adds the sum into dbias; otherwise it writes partial[y, o].
// finish  — invocation o adds Σ_y partial[y, o], summed in order y = 0, 1, …, into dbias[o].
// Adjacent invocations own adjacent columns, so every row is read contiguously.
//
// Bindings: 0 Params; 1 dbias (read_write); 2 partial (read_write); 3 dout (partial only).
// Dispatch: partial (ceil(OC / WG), blocks); finish ceil(OC / WG).

override WG: u32 = 64u;

struct Params {
  N: u32,
  OC: u32,
  rows: u32,   // ROWS, rows per block
  blocks: u32,
  direct: u32, // 1: a single block adds straight into dbias
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;

@compute @workgroup_size(WG)
fn partial_sums(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let o = gid.x;
  if (o >= p.OC) {
    return;
  }
  let r0 = wid.y * p.rows;
  let r1 = min(r0 + p.rows, p.N);
  var sum = 0.0;
  var idx = r0 * p.OC + o;
  for (var r = r0; r < r1; r++) {
    sum += dout[idx];
    idx += p.OC;
  }
  if (p.direct == 1u) {
    dbias[o] += sum;
  } else {
    partial[wid.y * p.OC + o] = sum;
  }
}

@compute @workgroup_size(WG)
fn finish(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o = gid.x;
  if (o >= p.OC) {
    return;
  }
  var sum = 0.0;
  for (var y = 0u; y < p.blocks; y++) {
    sum += partial[y * p.OC + o];
  }
  dbias[o] += sum;
}
