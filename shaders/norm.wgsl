// Row normalisations: LayerNorm (SigLIP) and RMSNorm (Llama), one workgroup per row of x [rows, H].
// Statistics are always f32; norm weights and bias are f32 in both variants (they are tiny, and
// f32 holds the checkpoint's bf16/f16 values exactly), activations are `act`.
// Params, bindings, WG (the largest workgroup) and the override THREADS (this pipeline's
// workgroup, a power of two ≤ WG): the contract in src/kernels/norm.ts (generated header).


var<workgroup> partial: array<f32, WG>;

// Sum of `value` over the workgroup (tree reduction). Must be reached by every invocation.
fn workgroup_sum(value: f32, lid: u32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var stride = THREADS / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      partial[lid] = partial[lid] + partial[lid + stride];
    }
    workgroupBarrier();
  }
  let total = partial[0];
  // the next reduction overwrites `partial`: every invocation must have read the total first
  workgroupBarrier();
  return total;
}

// out = (x − mean) / sqrt(var + eps) · weight + bias, biased variance, as torch.nn.LayerNorm
// (which also computes in f32 for f16 inputs and rounds once at the end). Two passes over the row
// (mean, then centred squares) rather than E[x²] − E[x]², which cancels badly when |mean| ≫ std.
@compute @workgroup_size(THREADS)
fn layer_norm(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = linear_workgroup(wid, nwg);
  if (row >= params.rows) { return; }
  let h = params.width;
  let base = row * h;

  var sum = 0.0;
  for (var i = lid; i < h; i += THREADS) {
    sum += f32(x[base + i]);
  }
  let mean = workgroup_sum(sum, lid) / f32(h);

  var squares = 0.0;
  for (var i = lid; i < h; i += THREADS) {
    let d = f32(x[base + i]) - mean;
    squares += d * d;
  }
  let rstd = inverseSqrt(workgroup_sum(squares, lid) / f32(h) + params.eps);

  for (var i = lid; i < h; i += THREADS) {
    out[base + i] = act((f32(x[base + i]) - mean) * rstd * weight[i] + bias[i]);
  }
}

// An RMSNorm output element: v · inv cast to the activation dtype, then times weight[i] (below).
fn rms_scaled(v: f32, inv: f32, i: u32) -> act {
  let normalised = f32(act(v * inv));
  return act(normalised * weight[i]);
}

// out = weight · (x · rsqrt(mean(x²) + eps)), as transformers' LlamaRMSNorm: statistics in f32,
// the normalised value cast back to the activation dtype, then multiplied by the weight. With f16
// activations and f16-exact weights, the f32 product of two f16 values is exact, so rounding it
// once to f16 gives what torch's f16 multiply gives.
@compute @workgroup_size(THREADS)
fn rms_norm(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = linear_workgroup(wid, nwg);
  if (row >= params.rows) { return; }
  let h = params.width;
  let base = row * h;

  var squares = 0.0;
  for (var i = lid; i < h; i += THREADS) {
    let v = f32(x[base + i]);
    squares += v * v;
  }
  let inv = inverseSqrt(workgroup_sum(squares, lid) / f32(h) + params.eps);

  for (var i = lid; i < h; i += THREADS) {
    out[base + i] = rms_scaled(f32(x[base + i]), inv, i);
  }
}

// A residual add and the RMSNorm after it in one pass (Llama's `h = x + attn(x)` then
// `post_attention_layernorm(h)`, and the same between layers): sum_out = act(x + residual), then
// out = rms_norm(sum_out) exactly as rms_norm computes it from the stored (rounded) sum, so the
// two results are bit-identical to the add kernel followed by rms_norm.
@compute @workgroup_size(THREADS)
fn add_rms_norm(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = linear_workgroup(wid, nwg);
  if (row >= params.rows) { return; }
  let h = params.width;
  let base = row * h;

  var squares = 0.0;
  for (var i = lid; i < h; i += THREADS) {
    let s = act(f32(x[base + i]) + f32(residual[base + i]));
    sum_out[base + i] = s;
    let v = f32(s);
    squares += v * v;
  }
  let inv = inverseSqrt(workgroup_sum(squares, lid) / f32(h) + params.eps);

  for (var i = lid; i < h; i += THREADS) {
    // each thread reads back only the elements it wrote above
    out[base + i] = rms_scaled(f32(sum_out[base + i]), inv, i);
  }
}
