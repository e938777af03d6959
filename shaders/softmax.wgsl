// Numerically stable softmax over the rows of x [rows, N], one workgroup per row, f32 math.
// Pass 1 keeps a running (max, sum of exp(x − max)) per invocation ("online softmax"), merged across
// the workgroup; pass 2 writes exp(x − max) / sum. Two reads of the row instead of three.
// Params, bindings and WG: the contract in src/kernels/softmax.ts (generated header).

// Lowest finite f32 as the "no value yet" maximum: unlike −inf it never gives inf − inf = NaN, and
// exp(anything − it) of an invocation with no elements is multiplied by a zero sum.
const LOWEST: f32 = -3.402823466e+38;

var<workgroup> maxima: array<f32, WG>;
var<workgroup> sums: array<f32, WG>;

@compute @workgroup_size(WG)
fn softmax(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = linear_workgroup(wid, nwg);
  if (row >= params.rows) { return; }
  let n = params.width;
  let base = row * n;

  var m = LOWEST;
  var s = 0.0;
  for (var i = lid; i < n; i += WG) {
    let v = f32(x[base + i]);
    if (v > m) {
      s = s * exp(m - v) + 1.0;
      m = v;
    } else {
      s += exp(v - m);
    }
  }
  maxima[lid] = m;
  sums[lid] = s;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      let m1 = maxima[lid];
      let m2 = maxima[lid + stride];
      let mm = max(m1, m2);
      sums[lid] = sums[lid] * exp(m1 - mm) + sums[lid + stride] * exp(m2 - mm);
      maxima[lid] = mm;
    }
    workgroupBarrier();
  }
  let row_max = maxima[0];
  let inv_sum = 1.0 / sums[0];

  for (var i = lid; i < n; i += WG) {
    out[base + i] = act(exp(f32(x[base + i]) - row_max) * inv_sum);
  }
}
