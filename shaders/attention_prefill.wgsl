// Flash-style attention for many queries (prefill, the vision tower).
//
// Layouts: q and out [Tq, Hq, D] (q already rotated), k and v [capacity, Hkv, D] with the first
// `keys` rows valid. Keys are cached before RoPE: with ROPE, key j is rotated to k_positions[j]
// while its tile is loaded, from the CPU-built cos/sin table (row p: D/2 cos, then D/2 sin).
//
// A workgroup owns ROWS query rows of one kv head: row r is query r / G, q head kvh·G + r % G
// (G = Hq/Hkv), so the heads sharing a kv head share every K/V tile it loads. One thread per row
// holds its q (pre-scaled) and its output accumulator in registers; K and V tiles of KEYS_PER_TILE
// keys go through workgroup memory (K rotated on load); the softmax is online, in f32: a running max
// m and sum l; keys go four at a time, and the accumulator is rescaled only when a group raises m.
//
// With SPLIT, workgroup z handles only the keys [z·keys_per_split, (z+1)·keys_per_split) and writes
// its unnormalised (acc, m, l) to `partials` for the `combine` entry of attention_decode.wgsl; this
// gives a GPU enough workgroups when Tq·Hq is small next to the key count.

// Params, bindings, MAX_D4, TILE_VEC4, the MASK_* codes and the overrides HEAD_DIM, ROWS, KEYS_PER_TILE: the contract in
// src/kernels/attention-kernels.ts (generated header); load_k / load_v: shaders/attention_io.wgsl.

const NEG_INF: f32 = -3.0e38;            // "no score yet" (WGSL has no infinity literal)

var<workgroup> k_tile: array<vec4<f32>, TILE_VEC4>;
var<workgroup> v_tile: array<vec4<f32>, TILE_VEC4>;

// Key `key` is visible from the query at cache index `at` (the caller bounds key < keys).
fn visible(key: u32, at: u32) -> bool {
  if (params.mask_kind == MASK_BIDIRECTIONAL) { return true; }
  if (key > at) { return false; }
  return params.mask_kind != MASK_SINKS_WINDOW || key < params.sinks || key + params.window > at;
}

// Loads keys [first, first + KEYS_PER_TILE) of kv head `kvh` into k_tile (rotated) and v_tile;
// rows past `end` are zero.
fn load_tiles(first: u32, end: u32, kvh: u32, lid: u32) {
  let d4 = HEAD_DIM / 4u;
  let half4 = HEAD_DIM / 8u;
  for (var item = lid; item < KEYS_PER_TILE * half4; item += ROWS) {
    let j = item / half4;
    let c = item % half4;
    let key = first + j;
    var lo = vec4<f32>(0.0);
    var hi = vec4<f32>(0.0);
    if (key < end) {
      let base = (key * params.hkv + kvh) * d4;
      lo = load_k(base + c);
      hi = load_k(base + c + half4);
#if ROPE
      let row = min(k_positions[key], params.max_positions - 1u) * d4;
      let cs = rope_table[row + c];
      let sn = rope_table[row + half4 + c];
      let rotated_lo = lo * cs - hi * sn;
      hi = hi * cs + lo * sn;
      lo = rotated_lo;
#endif
    }
    k_tile[j * d4 + c] = lo;
    k_tile[j * d4 + c + half4] = hi;
  }
  for (var item = lid; item < KEYS_PER_TILE * d4; item += ROWS) {
    let key = first + item / d4;
    var value = vec4<f32>(0.0);
    if (key < end) { value = load_v((key * params.hkv + kvh) * d4 + item % d4); }
    v_tile[item] = value;
  }
}

@compute @workgroup_size(ROWS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let d4 = HEAD_DIM / 4u;
  let group = params.hq / params.hkv;
  let rows = params.tq * group;
  let kvh = wid.y;
  let split = wid.z;

  let row = wid.x * ROWS + lid;
  let in_range = row < rows;
  let my_row = min(row, rows - 1u);
  let t = my_row / group;
  let h = kvh * group + my_row % group;
  let at = params.q_start + t;

  // Keys this workgroup must visit (uniform across it): the split's range, cut after the last
  // query's cache index when causal.
  let first_t = (wid.x * ROWS) / group;
  let last_t = (min(wid.x * ROWS + ROWS, rows) - 1u) / group;
  let begin = split * params.keys_per_split;
  var end = min(params.keys, begin + params.keys_per_split);
  if (params.mask_kind != MASK_BIDIRECTIONAL) { end = min(end, params.q_start + last_t + 1u); }

  var qr: array<vec4<f32>, MAX_D4>;
  var acc: array<vec4<f32>, MAX_D4>;
  let q_base = (t * params.hq + h) * d4;
  for (var c = 0u; c < d4; c++) {
    qr[c] = vec4<f32>(q[q_base + c]) * params.scale;
    acc[c] = vec4<f32>(0.0);
  }
  var m = NEG_INF;
  var l = 0.0;

  for (var first = begin; first < end; first += KEYS_PER_TILE) {
    // a tile between the sinks and every row's window is masked for the whole workgroup
    if (params.mask_kind == MASK_SINKS_WINDOW && first >= params.sinks &&
        first + KEYS_PER_TILE - 1u + params.window <= params.q_start + first_t) {
      continue;
    }
    workgroupBarrier();
    load_tiles(first, end, kvh, lid);
    workgroupBarrier();
    if (in_range) {
      // keys four at a time: four independent dot products, one max test and one rescale per group.
      // Rows of the tile past `end` are zero and masked here.
      for (var j = 0u; j < KEYS_PER_TILE; j += 4u) {
        let key = first + j;
        if (key >= end) { break; }
        var s0 = vec4<f32>(0.0);
        var s1 = vec4<f32>(0.0);
        var s2 = vec4<f32>(0.0);
        var s3 = vec4<f32>(0.0);
        for (var c = 0u; c < d4; c++) {
          let qc = qr[c];
          s0 = fma(qc, k_tile[j * d4 + c], s0);
          s1 = fma(qc, k_tile[(j + 1u) * d4 + c], s1);
          s2 = fma(qc, k_tile[(j + 2u) * d4 + c], s2);
          s3 = fma(qc, k_tile[(j + 3u) * d4 + c], s3);
        }
        let raw = vec4<f32>((s0.x + s0.y) + (s0.z + s0.w), (s1.x + s1.y) + (s1.z + s1.w),
                            (s2.x + s2.y) + (s2.z + s2.w), (s3.x + s3.y) + (s3.z + s3.w));
        let seen = vec4<bool>(visible(key, at), key + 1u < end && visible(key + 1u, at),
                              key + 2u < end && visible(key + 2u, at), key + 3u < end && visible(key + 3u, at));
        let s = select(vec4<f32>(NEG_INF), raw, seen);
        let top = max(max(s.x, s.y), max(s.z, s.w));
        if (top > m) {
          let shrink = exp(m - top);
          l *= shrink;
          for (var c = 0u; c < d4; c++) { acc[c] *= shrink; }
          m = top;
        }
        // masked keys weigh 0 (also while m is still NEG_INF)
        let p = select(vec4<f32>(0.0), exp(s - m), seen);
        l += (p.x + p.y) + (p.z + p.w);
        for (var c = 0u; c < d4; c++) {
          let o = fma(vec4<f32>(p.x), v_tile[j * d4 + c], acc[c]);
          acc[c] = fma(vec4<f32>(p.w), v_tile[(j + 3u) * d4 + c],
                   fma(vec4<f32>(p.z), v_tile[(j + 2u) * d4 + c], fma(vec4<f32>(p.y), v_tile[(j + 1u) * d4 + c], o)));
        }
      }
    }
  }

  if (!in_range) { return; }
  let row_index = t * params.hq + h;
#if SPLIT
  let base = (row_index * params.splits + split) * (d4 + 1u);
  for (var c = 0u; c < d4; c++) { partials[base + c] = acc[c]; }
  partials[base + d4] = vec4<f32>(m, l, 0.0, 0.0);
#else
  // a row that sees no key comes out as zeros
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var c = 0u; c < d4; c++) { out[row_index * d4 + c] = act4(acc[c] * inv); }
#endif
}
