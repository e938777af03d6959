// Attention for a few queries against a long cache (decode), split over keys.
//
// Layouts as in attention_prefill.wgsl: q and out [Tq, Hq, D], k and v [capacity, Hkv, D] with the
// first `keys` rows valid, keys cached before RoPE and rotated here from k_positions.
//
// `main`: workgroup (x = chunk, y = kv head) handles keys [x·keys_per_split, (x+1)·keys_per_split) for
// every row that reads this kv head (R = Tq·G rows: query r / G, q head kvh·G + r % G), in tiles of
// KEYS_PER_TILE keys:
//   1. the K and V tiles are loaded coalesced into workgroup memory, K rotated and transposed
//      ([vec4 of D][key]) so that threads scoring consecutive keys read consecutive addresses;
//   2. one thread per (row, key) computes a score;
//   3. one thread per row updates its running max and sum (f32) and turns scores into weights;
//   4. one thread per (row, vec4 of D) rescales its accumulator and adds the weighted V rows.
// Every phase is short and parallel: a decode is bound by memory latency, so loads are issued
// together (fixed-count loops) and chunks are many.
// Without SPLIT there is one chunk and the normalised output is written directly; with SPLIT each
// chunk writes (acc, m, l) to `partials` and `combine` merges the chunks of every row.

// Params, bindings, WG, MAX_ROWS, ACC_SLOTS, TILE_VEC4, the MASK_* codes and the overrides HEAD_DIM, KEYS_PER_TILE, COMBINE_THREADS: the
// contract in src/kernels/attention-kernels.ts (generated header); load_k / load_v: shaders/attention_io.wgsl;
// split_group_sums / split_merged (combine's arithmetic, shared with matvec's X_ATTN): shaders/split_merge.wgsl.

const NEG_INF: f32 = -3.0e38;

var<workgroup> k_tile: array<vec4<f32>, TILE_VEC4>;   // [c][key]
var<workgroup> v_tile: array<vec4<f32>, TILE_VEC4>;   // [key][c]
var<workgroup> weights: array<f32, 1024>;            // [row][key]: scores, then softmax weights
var<workgroup> row_max: array<f32, MAX_ROWS>;
var<workgroup> row_sum: array<f32, MAX_ROWS>;
var<workgroup> row_shrink: array<f32, MAX_ROWS>;

fn visible(key: u32, at: u32) -> bool {
  if (params.mask_kind == MASK_BIDIRECTIONAL) { return true; }
  if (key > at) { return false; }
  return params.mask_kind != MASK_SINKS_WINDOW || key < params.sinks || key + params.window > at;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let d4 = HEAD_DIM / 4u;
  let half4 = HEAD_DIM / 8u;
  let group = params.hq / params.hkv;
  let rows = params.tq * group;
  let chunk = wid.x;
  let kvh = wid.y;
  let key_stride = params.hkv * d4;      // vec4 from one key's row to the next

  let begin = chunk * params.keys_per_split;
  var end = min(params.keys, begin + params.keys_per_split);
  if (params.mask_kind != MASK_BIDIRECTIONAL) { end = min(end, params.q_start + params.tq); }

  if (lid < rows) {
    row_max[lid] = NEG_INF;
    row_sum[lid] = 0.0;
  }
  // accumulator slots of this thread: rows lane_row + s·rows_per_pass, vec4 `lane` of D
  let rows_per_pass = WG / d4;
  let lane = lid % d4;
  let lane_row = lid / d4;
  var acc: array<vec4<f32>, ACC_SLOTS>;
  for (var s = 0u; s < ACC_SLOTS; s++) { acc[s] = vec4<f32>(0.0); }

  for (var first = begin; first < end; first += KEYS_PER_TILE) {
    // a tile between the sinks and every query's window is masked for all rows
    if (params.mask_kind == MASK_SINKS_WINDOW && first >= params.sinks &&
        first + KEYS_PER_TILE - 1u + params.window <= params.q_start) {
      continue;
    }
    let n = min(KEYS_PER_TILE, end - first);
    let tile_base = (first * params.hkv + kvh) * d4;
    workgroupBarrier();
    // 1. K (rotated, transposed) and V tiles; KEYS_PER_TILE · D/8 ≤ WG: one K pair per thread
    if (lid < n * half4) {
      let j = lid / half4;
      let c = lid % half4;
      let at = tile_base + j * key_stride + c;
      var lo = load_k(at);
      var hi = load_k(at + half4);
#if ROPE
      let row = min(k_positions[first + j], params.max_positions - 1u) * d4;
      let cs = rope_table[row + c];
      let sn = rope_table[row + half4 + c];
      let rotated_lo = lo * cs - hi * sn;
      hi = hi * cs + lo * sn;
      lo = rotated_lo;
#endif
      k_tile[c * KEYS_PER_TILE + j] = lo;
      k_tile[(c + half4) * KEYS_PER_TILE + j] = hi;
    }
    for (var i = 0u; i < TILE_VEC4 / WG; i++) {
      let item = i * WG + lid;
      if (item < n * d4) { v_tile[item] = load_v(tile_base + (item / d4) * key_stride + item % d4); }
    }
    workgroupBarrier();
    // 2. scores
    for (var pair = lid; pair < rows * KEYS_PER_TILE; pair += WG) {
      let r = pair / KEYS_PER_TILE;
      let j = pair % KEYS_PER_TILE;
      var score = NEG_INF;
      let t = r / group;
      if (j < n && visible(first + j, params.q_start + t)) {
        let q_base = (t * params.hq + kvh * group + r % group) * d4;
        var s4 = vec4<f32>(0.0);
#if ROTATE_Q
        // the query rotated as shaders/rope.wgsl would store it (same expressions, rounded to act),
        // in the same order over c, so the scores are those of a separately rotated q
        let q_row = min(q_positions[t], params.max_positions - 1u) * d4;
        for (var c = 0u; c < half4; c++) {
          let a = vec4<f32>(q[q_base + c]);
          let b = vec4<f32>(q[q_base + c + half4]);
          let rotated = vec4<f32>(act4(a * rope_table[q_row + c] - b * rope_table[q_row + half4 + c]));
          s4 = fma(rotated, k_tile[c * KEYS_PER_TILE + j], s4);
        }
        for (var c = half4; c < d4; c++) {
          let a = vec4<f32>(q[q_base + c - half4]);
          let b = vec4<f32>(q[q_base + c]);
          let rotated = vec4<f32>(act4(b * rope_table[q_row + c - half4] + a * rope_table[q_row + c]));
          s4 = fma(rotated, k_tile[c * KEYS_PER_TILE + j], s4);
        }
#else
        for (var c = 0u; c < d4; c++) { s4 = fma(vec4<f32>(q[q_base + c]), k_tile[c * KEYS_PER_TILE + j], s4); }
#endif
        score = ((s4.x + s4.y) + (s4.z + s4.w)) * params.scale;
      }
      weights[pair] = score;
    }
    workgroupBarrier();
    // 3. online softmax, one thread per row
    if (lid < rows) {
      let old_max = row_max[lid];
      var new_max = old_max;
      for (var j = 0u; j < n; j++) { new_max = max(new_max, weights[lid * KEYS_PER_TILE + j]); }
      var sum = 0.0;
      for (var j = 0u; j < n; j++) {
        let score = weights[lid * KEYS_PER_TILE + j];
        let w = select(0.0, exp(score - new_max), score > NEG_INF);
        weights[lid * KEYS_PER_TILE + j] = w;
        sum += w;
      }
      let shrink = exp(old_max - new_max);   // 1 while nothing is visible yet; acc and sum are 0 then
      row_shrink[lid] = shrink;
      row_max[lid] = new_max;
      row_sum[lid] = row_sum[lid] * shrink + sum;
    }
    workgroupBarrier();
    // 4. accumulate weighted values
    if (lane_row < rows_per_pass) {
      for (var s = 0u; s < ACC_SLOTS; s++) {
        let r = lane_row + s * rows_per_pass;
        if (r < rows) {
          var o = acc[s] * row_shrink[r];
          for (var j = 0u; j < n; j++) {
            o = fma(vec4<f32>(weights[r * KEYS_PER_TILE + j]), v_tile[j * d4 + lane], o);
          }
          acc[s] = o;
        }
      }
    }
  }
  workgroupBarrier();

  if (lane_row >= rows_per_pass) { return; }
  for (var s = 0u; s < ACC_SLOTS; s++) {
    let r = lane_row + s * rows_per_pass;
    if (r < rows) {
      let row_index = (r / group) * params.hq + kvh * group + r % group;
#if SPLIT
      let base = (row_index * params.splits + chunk) * (d4 + 1u);
      partials[base + lane] = acc[s];
      if (lane == 0u) { partials[base + d4] = vec4<f32>(row_max[r], row_sum[r], 0.0, 0.0); }
#else
      let l = row_sum[r];
      out[row_index * d4 + lane] = act4(acc[s] * select(0.0, 1.0 / l, l > 0.0));
#endif
    }
  }
}

// Merges the splits of every (query, q head) row: out = Σ acc_c e^(m_c − M) / Σ l_c e^(m_c − M),
// M the largest m_c. One workgroup of COMBINE_THREADS (≤ WG) per row (split over x and y when there
// are many). All threads first find M; then thread (group g, vec4 `lane` of D) sums the splits g,
// g + groups, … four at a time (independent loads in flight hide the latency), and the groups are
// added in workgroup memory. With at least as many groups as splits each group holds one split and
// the rest add zeros, so any such COMBINE_THREADS gives the same bits (attention.ts picks the fewest).
var<workgroup> merge_max: array<f32, WG>;
var<workgroup> merge_sum: array<f32, WG>;
var<workgroup> merge_acc: array<vec4<f32>, WG>;

@compute @workgroup_size(COMBINE_THREADS)
fn combine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let d4 = HEAD_DIM / 4u;
  let stride = d4 + 1u;
  let row = linear_workgroup(wid, nwg);     // uniform: the early return keeps barriers uniform
  if (row >= params.tq * params.hq) { return; }
  let splits = params.splits;
  let base = row * splits * stride;

  var top = NEG_INF;
  for (var c = lid; c < splits; c += COMBINE_THREADS) {
    let ml = partials[base + c * stride + d4];
    if (ml.y > 0.0) { top = max(top, ml.x); }
  }
  merge_max[lid] = top;
  workgroupBarrier();
  for (var width = COMBINE_THREADS / 2u; width > 0u; width /= 2u) {
    if (lid < width) { merge_max[lid] = max(merge_max[lid], merge_max[lid + width]); }
    workgroupBarrier();
  }
  top = merge_max[0];

  let groups = COMBINE_THREADS / d4;
  let g = lid / d4;
  let lane = lid % d4;
  var sum = 0.0;
  var o = vec4<f32>(0.0);
  if (g < groups) {
    let sums = split_group_sums(base, d4, splits, groups, g, lane, top);
    sum = sums.sum;
    o = sums.acc;
  }
  merge_acc[lid] = o;
  merge_sum[lid] = sum;
  workgroupBarrier();
  if (lid >= d4) { return; }
  var total = 0.0;
  var result = vec4<f32>(0.0);
  for (var k = 0u; k < groups; k++) {
    total += merge_sum[k * d4];         // every lane of a group holds the same sum
    result += merge_acc[k * d4 + lid];
  }
  out[row * d4 + lid] = act4(split_merged(result, total));
}
