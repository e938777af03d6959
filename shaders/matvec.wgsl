// Matrix-vector product for decode: y[M, N] = x[M, K] · wᵀ (+ bias) for a few rows of x (M ≤ 4),
// w in Hugging Face layout [N, K]. Memory-bound: every weight byte is read once.
//
// A workgroup holds SETS sets of LANES threads; each set computes ROWS consecutive output rows.
// The LANES threads of a set stride along K one "unit" at a time — 4 values of each of their
// ROWS weight rows for f32 (a vec4), 8 for f16 (vec4<u32>) and q8 (vec2<u32>), 16 for q4
// (vec2<u32>) — and multiply it with the matching x values, which are read once per unit and
// reused across the ROWS rows. Units are kept small because the lanes' x reads stride by the
// unit size (wide units made x reads, not weight reads, the limit), and codes are turned into
// floats with exact bit tricks rather than int→float conversions (see MAGIC). The per-thread
// partial sums are then reduced through workgroup memory (SUBGROUPS would let subgroupAdd do the
// first steps; that path is not written yet, the workgroup path is complete).
//
// Variants (defines): W_F32 / W_F16 / W_Q8 / W_Q4, X_VEC4 (K % 4 == 0), Y_PARTS2 / Y_PARTS3
// (output columns split over two or three tensors, linear_io.wgsl), X_SWIGLU (x is the MLP's
// act(silu(gate) · up) from two tensors: its down projection without a separate silu_mul dispatch),
// X_RMSNORM (x is RMSNorm(x) · norm_weight, computed in a prologue: the projection after a norm
// without a separate rms_norm dispatch), Y_RESIDUAL (y = residual + the product, a residual
// connection without a separate add; one output part only), X_ATTN (x is attention's output, merged
// from the decode kernel's split partials in a prologue: the o projection without attention's
// separate combine dispatch; one row of x). The bias (none, f32 or f16) is a uniform switch. Each
// fused form gives the bits of the unfused kernels (checked exactly).
// Overrides: M_ROWS (rows of x, 1..4, fixed per pipeline so accumulators stay in registers),
// LANES (a power of two), SETS, ROWS (≤ 4).

// Params, the bindings, MAX_M, MAX_ROWS and the overrides M_ROWS, LANES, SETS, ROWS: the contract in
// src/kernels/linear-kernels.ts (generated header); helpers shared with matmul: shaders/linear_io.wgsl;
// X_ATTN's merge, shared with attention's combine: shaders/split_merge.wgsl.

#if W_F32
const UNIT: u32 = 4u;
alias WUnit = vec4<f32>;
#elif W_F16
const UNIT: u32 = 8u;
alias WUnit = vec4<u32>;
#elif W_Q8
const UNIT: u32 = 8u;
alias WUnit = vec2<u32>;
#else
const UNIT: u32 = 16u;
alias WUnit = vec2<u32>;
#endif

var<workgroup> partial: array<f32, LANES * SETS * ROWS>;

#if X_RMSNORM
// 1 / rms of each x row, from the prologue of main
var<workgroup> inv_rms: array<f32, MAX_M>;

// RMSNorm outputs of elements k .. k+4 with values v: rms_scaled of shaders/norm.wgsl (v · inv cast
// to the activation dtype, then times the f32 weight, cast again), the same operations in the same
// order; rms_normed1 for one element.
fn rms_normed(v: vec4<f32>, inv: f32, k: u32) -> vec4<f32> {
  let w = vec4<f32>(norm_weight[k], norm_weight[k + 1u], norm_weight[k + 2u], norm_weight[k + 3u]);
  return vec4<f32>(vec4<act>(vec4<f32>(vec4<act>(v * inv)) * w));
}

fn rms_normed1(v: f32, inv: f32, k: u32) -> f32 {
  return f32(act(f32(act(v * inv)) * norm_weight[k]));
}

// x's flat element i as f32
fn x_at(i: u32) -> f32 {
#if X_VEC4
  return f32(x[i / 4u][i % 4u]);
#else
  return f32(x[i]);
#endif
}
#endif

#if X_ATTN
// x, merged from attention's split partials by the prologue of main: K / 4 vec4 (K ≤ 1024).
var<workgroup> x_attn: array<vec4<f32>, X_ATTN_MAX4>;

// Head h's vec4 `lane` of attention's output, as `combine` in shaders/attention_decode.wgsl computes
// it with attn_groups groups of threads: the same maximum, each group's sums over its splits and the
// groups added in order (split_merge.wgsl, shared with combine), the same rounding to the activation
// dtype. One thread does here what a column of combine's threads did, so every bit is the same
// (selfcheck: matvec attention merge = combine + matvec).
fn attn_merged(h: u32, lane: u32) -> vec4<f32> {
  let d4 = params.attn_d4;
  let splits = params.attn_splits;
  let groups = params.attn_groups;
  let base = h * splits * (d4 + 1u);
  var top = -3.0e38;
  for (var c = 0u; c < splits; c++) {
    let ml = partials[base + c * (d4 + 1u) + d4];
    if (ml.y > 0.0) { top = max(top, ml.x); }
  }
  var total = 0.0;
  var result = vec4<f32>(0.0);
  for (var g = 0u; g < groups; g++) {
    let sums = split_group_sums(base, d4, splits, groups, g, lane, top);
    total += sums.sum;
    result += sums.acc;
  }
  return vec4<f32>(vec4<act>(split_merged(result, total)));
}
#endif

// x[m, k .. k+4] as f32 (as the kernel's input: after X_SWIGLU's or X_RMSNORM's operation); zero
// past the end of the row
fn x4(m: u32, k: u32) -> vec4<f32> {
#if X_VEC4
  // K % 4 == 0 and k % 4 == 0, so a vec4 is either wholly inside the row or wholly past it
  if (k >= params.k) { return vec4<f32>(); }
#if X_SWIGLU
  return swiglu(vec4<f32>(x[(m * params.k + k) / 4u]), vec4<f32>(x_up[(m * params.k + k) / 4u]));
#elif X_RMSNORM
  return rms_normed(vec4<f32>(x[(m * params.k + k) / 4u]), inv_rms[m], k);
#elif X_ATTN
  return x_attn[k / 4u];
#else
  return vec4<f32>(x[(m * params.k + k) / 4u]);
#endif
#else
  var v = vec4<f32>();
  for (var c = 0u; c < 4u; c++) {
#if X_SWIGLU
    if (k + c < params.k) { v[c] = swiglu(vec4<f32>(f32(x[m * params.k + k + c])), vec4<f32>(f32(x_up[m * params.k + k + c]))).x; }
#elif X_RMSNORM
    if (k + c < params.k) { v[c] = rms_normed1(f32(x[m * params.k + k + c]), inv_rms[m], k + c); }
#else
    if (k + c < params.k) { v[c] = f32(x[m * params.k + k + c]); }
#endif
  }
  return v;
#endif
}

#if X_SWIGLU
// The MLP's act(silu(gate) · up), the expression of silu_mul (shaders/elementwise.wgsl) rounded to
// the activation dtype as that kernel stores it, so fusing it here changes no bit of the result.
fn swiglu(g: vec4<f32>, u: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(vec4<act>(g / (1.0 + exp(-g)) * u));
}
#endif

// q8_codes / q4_codes: shaders/linear_io.wgsl

// One weight unit as floats (before the group scale), UNIT / 4 vec4s.
alias UnitFloats = array<vec4<f32>, UNIT / 4u>;

fn dequantize(u: WUnit) -> UnitFloats {
#if W_F32
  return UnitFloats(u);
#elif W_F16
  return UnitFloats(vec4<f32>(unpack2x16float(u.x), unpack2x16float(u.y)),
                    vec4<f32>(unpack2x16float(u.z), unpack2x16float(u.w)));
#elif W_Q8
  return UnitFloats(q8_codes(u.x), q8_codes(u.y));
#else
  return UnitFloats(q4_codes(u.x, 0u), q4_codes(u.x, 16u), q4_codes(u.y, 0u), q4_codes(u.y, 16u));
#endif
}

fn unit_dot(a: UnitFloats, b: UnitFloats) -> f32 {
  var sum = 0.0;
  for (var q = 0u; q < UNIT / 4u; q++) { sum += dot(a[q], b[q]); }
  return sum;
}

@compute @workgroup_size(LANES * SETS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row_set = lid / LANES;
  let lane = lid % LANES;
  let row0 = (linear_workgroup(wid, nwg) * SETS + row_set) * ROWS;
  let units = params.row_stride / UNIT;
  let groups = params.row_stride / 32u;

#if X_RMSNORM
  // Prologue: each x row's 1 / rms, computed as rms_norm (shaders/norm.wgsl) computes it — the
  // same per-thread strided sums of squares over a workgroup of the same size (matmul.ts requires
  // LANES · SETS = its WG) and the same tree reduction — so every bit matches.
  for (var m = 0u; m < M_ROWS; m++) {
    var squares = 0.0;
    for (var i = lid; i < params.k; i += LANES * SETS) {
      let v = x_at(m * params.k + i);
      squares += v * v;
    }
    partial[lid] = squares;
    workgroupBarrier();
    for (var stride = LANES * SETS / 2u; stride > 0u; stride = stride / 2u) {
      if (lid < stride) { partial[lid] = partial[lid] + partial[lid + stride]; }
      workgroupBarrier();
    }
    if (lid == 0u) { inv_rms[m] = inverseSqrt(partial[0] / f32(params.k) + params.norm_eps); }
    workgroupBarrier();
  }
#endif

#if X_ATTN
  // Prologue: attention's output (one row, heads · head dim = K), merged from its split partials.
  // Every workgroup merges it again: the partials are a few hundred KB at most, read from cache, and
  // the merge saves a dispatch, which costs more at decode's sizes.
  for (var i = lid; i < params.k / 4u; i += LANES * SETS) {
    x_attn[i] = attn_merged(i / params.attn_d4, i % params.attn_d4);
  }
  workgroupBarrier();
#endif

  // acc[r][m]: row row0 + r, x row m
  var acc: array<array<f32, MAX_M>, MAX_ROWS>;
  for (var u = lane; u < units; u += LANES) {
    // each row's unit is dequantized once, then used for every x row
    var wf: array<UnitFloats, MAX_ROWS>;
    var scale: array<f32, MAX_ROWS>;
    for (var r = 0u; r < ROWS; r++) {
      // rows past N re-read the last row; their sums are never stored
      let row = min(row0 + r, params.n - 1u);
      wf[r] = dequantize(w[row * units + u]);
#if W_Q8
      let g = row * groups + u * UNIT / 32u;
      scale[r] = f16_from_words(scales[g / 2u], g);
#elif W_Q4
      let g = row * groups + u * UNIT / 32u;
      scale[r] = f16_from_words(scales[g / 2u], g);
#endif
    }
    for (var m = 0u; m < M_ROWS; m++) {
      // x values of this unit, read once and used for all ROWS rows
      var xv: UnitFloats;
      for (var q = 0u; q < UNIT / 4u; q++) { xv[q] = x4(m, u * UNIT + 4u * q); }
      for (var r = 0u; r < ROWS; r++) {
#if W_Q8
        acc[r][m] += unit_dot(wf[r], xv) * scale[r];
#elif W_Q4
        acc[r][m] += unit_dot(wf[r], xv) * scale[r];
#else
        acc[r][m] += unit_dot(wf[r], xv);
#endif
      }
    }
  }

  // Reduce the LANES partial sums of each (row, m) by halving; one x row at a time so the
  // workgroup buffer stays LANES·SETS·ROWS floats.
  for (var m = 0u; m < M_ROWS; m++) {
    for (var r = 0u; r < ROWS; r++) { partial[(row_set * ROWS + r) * LANES + lane] = acc[r][m]; }
    workgroupBarrier();
    for (var stride = LANES / 2u; stride > 0u; stride /= 2u) {
      if (lane < stride) {
        for (var r = 0u; r < ROWS; r++) {
          let i = (row_set * ROWS + r) * LANES + lane;
          partial[i] += partial[i + stride];
        }
      }
      workgroupBarrier();
    }
    if (lane < ROWS) {
      let row = row0 + lane;
      if (row < params.n) {
        let value = act(partial[(row_set * ROWS + lane) * LANES] + bias_at(row));
#if Y_RESIDUAL
        // the residual add as add / add_rms_norm compute it: act(residual + value), in f32
        store_y(m, row, act(f32(y_res[m * params.n + row]) + f32(value)));
#else
        store_y(m, row, value);
#endif
      }
    }
    workgroupBarrier();
  }
}
