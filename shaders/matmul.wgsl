// Tiled matmul for prefill: y[M, N] = x[M, K] · wᵀ (+ bias), w in Hugging Face layout [N, K].
//
// Each workgroup of 8×8 threads computes a TILE×TILE output tile (64, or 32 for short x: more
// workgroups where a 64-tile grid would leave most of the GPU idle, as a prefill of ~80 tokens
// does); each thread owns an R×R block of it in registers (R = TILE/8; rows ty·R.., columns tx·R..).
// K is walked in slices of 16: thread t < TILE stages row t of the x slice and row t of the w slice
// into workgroup memory, k-major, dequantizing w to f32 on the way, so the inner loop reads R/4
// vec4 of x and of w per k for R² FMAs. Every output element is the same fma chain over k = 0…K−1
// in both tile sizes, so the two give identical bits. The next slice's
// global loads are issued before the current slice is multiplied (raw words held in registers), so
// memory latency overlaps the math. Tiles and accumulators are f32 in both precisions: the F16
// variant only reads x and writes y as f16. Quantized codes become floats through exact bit
// tricks (q8_codes, q4_codes) rather than int→float conversions.
//
// Variants (defines): W_F32 / W_F16 / W_Q8 / W_Q4 (weight format), X_VEC4 (K % 4 == 0: x is read
// as vec4), Y_PARTS2 / Y_PARTS3 (output columns split over two or three tensors, linear_io.wgsl),
// TILE32 (set by the 32-tile kernel, whose TILE is 32: its staging and inner loop).
// The bias (none, f32 or f16) is a uniform switch. Any M, N, K: loads outside the matrices read
// zeros and stores outside are skipped. Weight rows are stored padded with zeros to `row_stride`
// (a multiple of 32), so weight loads need no check along K.

// Params, the bindings, TILE, TILE_K and WG (= 8×8 threads): the contract in src/kernels/linear-kernels.ts
// (generated header); helpers shared with matvec: shaders/linear_io.wgsl.

// vec4 columns of one k-row of a staged slice
const TILE_V: u32 = TILE / 4u;
// rows (and columns) of the output each thread owns, and the vec4 that hold them
const R: u32 = TILE / 8u;
const RV: u32 = R / 4u;
// the loop of main is written for each tile size: a kernel of another TILE does not compile
#if TILE32
const_assert TILE == 32u;
#else
const_assert TILE == 64u;
#endif

// Staged slices, k-major so the inner loop reads 4 consecutive rows (or columns) as one vec4:
// xs[k·TILE_V + i/4][i%4] = x[m0 + i, k0 + k], ws[k·TILE_V + j/4][j%4] = w[n0 + j, k0 + k].
var<workgroup> xs: array<vec4<f32>, TILE_K * TILE_V>;
var<workgroup> ws: array<vec4<f32>, TILE_K * TILE_V>;

// ---- x: one thread stages 16 consecutive k of one row ----

fn load_x(row: u32, k0: u32) -> array<vec4<act>, 4> {
  var v: array<vec4<act>, 4>;
  if (row >= params.m) { return v; }
#if X_VEC4
  let base = (row * params.k + k0) / 4u;
  for (var j = 0u; j < 4u; j++) {
    if (k0 + 4u * j < params.k) { v[j] = x[base + j]; }
  }
#else
  let base = row * params.k;
  for (var j = 0u; j < 16u; j++) {
    if (k0 + j < params.k) { v[j / 4u][j % 4u] = x[base + k0 + j]; }
  }
#endif
  return v;
}

fn store_x(v: array<vec4<act>, 4>, i: u32) {
  for (var j = 0u; j < 4u; j++) {
    for (var c = 0u; c < 4u; c++) {
      xs[(4u * j + c) * TILE_V + i / 4u][i % 4u] = f32(v[j][c]);
    }
  }
}

// ---- w: one thread stages the 16 k of one row, kept as raw words until it is stored ----

// q8_codes / q4_codes: shaders/linear_io.wgsl

#if W_F32
struct WSlice { v: array<vec4<f32>, 4> }
#elif W_F16
struct WSlice { v: array<vec4<u32>, 2> }
#elif W_Q8
struct WSlice { codes: vec4<u32>, scale_word: u32, scale_index: u32 }
#else
struct WSlice { codes: vec2<u32>, scale_word: u32, scale_index: u32 }
#endif

fn load_w(row: u32, k0: u32) -> WSlice {
  var s: WSlice;
  if (row >= params.n) { return s; }
  // k0 is a multiple of 16 and rows hold whole groups of 32, so the slice never leaves its row
  let element = row * params.row_stride + k0;
#if W_F32
  for (var j = 0u; j < 4u; j++) { s.v[j] = w[element / 4u + j]; }
#elif W_F16
  for (var j = 0u; j < 2u; j++) { s.v[j] = w[element / 8u + j]; }
#elif W_Q8
  s.codes = w[element / 16u];
#else
  s.codes = w[element / 16u];
#endif
#if W_Q8
  s.scale_index = row * (params.row_stride / 32u) + k0 / 32u;
  s.scale_word = scales[s.scale_index / 2u];
#elif W_Q4
  s.scale_index = row * (params.row_stride / 32u) + k0 / 32u;
  s.scale_word = scales[s.scale_index / 2u];
#endif
  return s;
}

fn store_w(s: WSlice, j: u32) {
  let col = j / 4u;
  let lane = j % 4u;
#if W_F32
  for (var q = 0u; q < 4u; q++) {
    for (var c = 0u; c < 4u; c++) { ws[(4u * q + c) * TILE_V + col][lane] = s.v[q][c]; }
  }
#elif W_F16
  for (var q = 0u; q < 2u; q++) {
    for (var c = 0u; c < 4u; c++) {
      let pair = unpack2x16float(s.v[q][c]);
      let k = 8u * q + 2u * c;
      ws[k * TILE_V + col][lane] = pair.x;
      ws[(k + 1u) * TILE_V + col][lane] = pair.y;
    }
  }
#elif W_Q8
  let scale = f16_from_words(s.scale_word, s.scale_index);
  for (var q = 0u; q < 4u; q++) {
    let v = q8_codes(s.codes[q]) * scale;
    for (var c = 0u; c < 4u; c++) { ws[(4u * q + c) * TILE_V + col][lane] = v[c]; }
  }
#else
  let scale = f16_from_words(s.scale_word, s.scale_index);
  for (var q = 0u; q < 2u; q++) {
    let lo = q4_codes(s.codes[q], 0u) * scale;
    let hi = q4_codes(s.codes[q], 16u) * scale;
    for (var c = 0u; c < 4u; c++) {
      ws[(8u * q + c) * TILE_V + col][lane] = lo[c];
      ws[(8u * q + 4u + c) * TILE_V + col][lane] = hi[c];
    }
  }
#endif
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tx = lid % 8u;
  let ty = lid / 8u;
  let m0 = wid.y * TILE;
  let n0 = wid.x * TILE;
  // acc[RV·i + h]: row ty·R + i, columns tx·R + 4h .. +4
  var acc: array<vec4<f32>, R * RV>;
  let slices = (params.k + TILE_K - 1u) / TILE_K;
#if TILE32
  // 32×32 tiles, 64 threads: threads TILE… stage nothing (their loads return zeros and are not
  // stored); each thread owns 4×4 outputs, one vec4 of x and of w per k
  let stager = lid < TILE;
  var xr = load_x(select(params.m, m0 + lid, stager), 0u);
  var wr = load_w(select(params.n, n0 + lid, stager), 0u);
  for (var s = 0u; s < slices; s++) {
    if (stager) {
      store_x(xr, lid);
      store_w(wr, lid);
    }
    workgroupBarrier();
    if (s + 1u < slices && stager) {
      xr = load_x(m0 + lid, (s + 1u) * TILE_K);
      wr = load_w(n0 + lid, (s + 1u) * TILE_K);
    }
    for (var k = 0u; k < TILE_K; k++) {
      let a = xs[k * TILE_V + ty];
      let b = ws[k * TILE_V + tx];
      for (var i = 0u; i < 4u; i++) { acc[i] = fma(vec4<f32>(a[i]), b, acc[i]); }
    }
    workgroupBarrier();
  }
#else
  // 64×64 tiles: every thread stages a row of each slice and owns 8×8 outputs, two vec4 of x and of
  // w per k. Written for this size alone: the one loop generic in the tile (arrays of R/4 vec4
  // filled in loops, a staging test of lid) made this kernel 1–3 % slower on the H100 than this
  // form (same-run kernel benchmark against 06dc053, 2026-12-07).
  var xr = load_x(m0 + lid, 0u);
  var wr = load_w(n0 + lid, 0u);
  for (var s = 0u; s < slices; s++) {
    store_x(xr, lid);
    store_w(wr, lid);
    workgroupBarrier();
    if (s + 1u < slices) {
      xr = load_x(m0 + lid, (s + 1u) * TILE_K);
      wr = load_w(n0 + lid, (s + 1u) * TILE_K);
    }
    for (var k = 0u; k < TILE_K; k++) {
      let a = array<vec4<f32>, 2>(xs[k * TILE_V + 2u * ty], xs[k * TILE_V + 2u * ty + 1u]);
      let b0 = ws[k * TILE_V + 2u * tx];
      let b1 = ws[k * TILE_V + 2u * tx + 1u];
      for (var i = 0u; i < 8u; i++) {
        let ai = vec4<f32>(a[i / 4u][i % 4u]);
        acc[2u * i] = fma(ai, b0, acc[2u * i]);
        acc[2u * i + 1u] = fma(ai, b1, acc[2u * i + 1u]);
      }
    }
    workgroupBarrier();
  }
#endif

  let col0 = n0 + R * tx;
  var bias_v: array<f32, R>;
  for (var j = 0u; j < R; j++) {
    if (col0 + j < params.n) { bias_v[j] = bias_at(col0 + j); }
  }
  for (var i = 0u; i < R; i++) {
    let row = m0 + R * ty + i;
    if (row >= params.m) { break; }
    for (var j = 0u; j < R; j++) {
      let col = col0 + j;
      if (col < params.n) { store_y(row, col, act(acc[RV * i + j / 4u][j % 4u] + bias_v[j])); }
    }
  }
}
