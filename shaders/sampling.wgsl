// Token selection from one row of logits, on the GPU, so a decode step reads back only the chosen
// id (4 bytes) or feeds it straight to the next embedding lookup.
//   argmax: greedy decoding; ties go to the lowest index (torch.argmax).
//   sample: logits / temperature → top-k → softmax → top-p (nucleus) → draw with a uniform u that
//           the caller supplies, so runs are reproducible.
// Both entry points are ONE workgroup: a row is at most ~50k values (~200 KB), a handful of passes
// over it from one compute unit costs microseconds, and one workgroup needs no cross-workgroup
// synchronisation, no scratch buffers and only one dispatch.
//
// Sampling never sorts. Each filter is a threshold found by searching over the bit patterns of
// the quantity it filters on (for non-negative floats, and for the order-preserving key of signed
// ones, the u32 order is the float order), so the search ends on an exact value of the row:
//   top-k keeps logits whose key ≥ τk, the largest τk with #{key ≥ τk} ≥ k (= the k-th largest;
//         ties with it stay, like transformers' TopKLogitsWarper);
//   top-p keeps tokens whose e = exp(x − max x) ≥ τp, the largest τp whose kept mass
//         Σ e·[e ≥ τp] ≥ top_p · Σ e (the smallest highest-probability set reaching top_p, plus
//         any token tied with its last one; the max token, e = 1, is always kept).
// Each search step probes 4 thresholds at once (vec4 reductions), cutting the range 5-fold, so a
// search over 2^30 values takes ~14 passes over the row instead of 30.
// The draw walks the kept tokens in index order: per-thread contiguous chunk sums, a workgroup
// prefix scan, then the one thread whose chunk holds target = u · kept mass scans its chunk.
// Params, bindings and WG: the contract in src/kernels/sampling.ts (generated header).

const NONE: u32 = 0xffffffffu;
const SCAN_GROUPS: u32 = 16u;
const SCAN_GROUP: u32 = WG / SCAN_GROUPS;
// Bit pattern just above 1.0 = exp(0), the largest e: no threshold at or above it keeps anything.
const ABOVE_ONE: u32 = 0x3f800001u;

var<workgroup> red_value: array<f32, WG>;
var<workgroup> red_index: array<u32, WG>;
var<workgroup> red_mass: array<vec4<f32>, WG>;
var<workgroup> red_count: array<vec4<u32>, WG>;
var<workgroup> scan: array<f32, WG>;
var<workgroup> group_base: array<f32, SCAN_GROUPS + 1u>;
var<workgroup> max_logit: f32;
var<workgroup> chosen: u32;

fn logit(i: u32) -> f32 {
  return f32(logits[params.offset + i]);
}

// ---------------------------------------------------------------------------------------------
// argmax

// Does (v, i) beat the best so far? Larger value wins; equal values go to the lower index.
fn beats(v: f32, i: u32, best_v: f32, best_i: u32) -> bool {
  return i != NONE && (best_i == NONE || v > best_v || (v == best_v && i < best_i));
}

// Leaves the row's largest logit in red_value[0] and its lowest index in red_index[0].
fn reduce_argmax(lid: u32) {
  var best_v = 0.0;
  var best_i = NONE;
  // Strided: neighbouring threads read neighbouring logits. Indices rise, so within a thread a
  // strictly larger value is needed to move, which keeps the lowest index of a tie.
  for (var i = lid; i < params.vocab; i += WG) {
    let v = logit(i);
    if (best_i == NONE || v > best_v) {
      best_v = v;
      best_i = i;
    }
  }
  red_value[lid] = best_v;
  red_index[lid] = best_i;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s && beats(red_value[lid + s], red_index[lid + s], red_value[lid], red_index[lid])) {
      red_value[lid] = red_value[lid + s];
      red_index[lid] = red_index[lid + s];
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn argmax(@builtin(local_invocation_index) lid: u32) {
  reduce_argmax(lid);
  if (lid == 0u) {
    out_id[params.out_index] = red_index[0];
  }
}

// ---------------------------------------------------------------------------------------------
// sampling: helpers

// Workgroup sums; the results come from workgroupUniformLoad so that loops steered by them stay
// in uniform control flow (they contain barriers).
fn sum_f32x4(v: vec4<f32>, lid: u32) -> vec4<f32> {
  red_mass[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      red_mass[lid] += red_mass[lid + s];
    }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&red_mass[0]);
}

fn sum_u32x4(v: vec4<u32>, lid: u32) -> vec4<u32> {
  red_count[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      red_count[lid] += red_count[lid + s];
    }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&red_count[0]);
}

// A u32 whose unsigned order is the order of the float (-0 and +0 map to the same key).
fn order_key(x: f32) -> u32 {
  let b = bitcast<u32>(select(x, 0.0, x == 0.0));
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// Four thresholds strictly inside (lo, hi), evenly spread (hi − lo > 1).
fn probes(lo: u32, hi: u32) -> vec4<u32> {
  let stride = max((hi - lo) / 5u, 1u);
  return min(vec4<u32>(lo) + stride * vec4<u32>(1u, 2u, 3u, 4u), vec4<u32>(hi - 1u));
}

// One search step. `ok` says which probes meet the requirement; requirements weaken as the
// threshold falls, so the probes that pass come first. Keeps lo passing and hi failing.
fn narrow(lo: u32, hi: u32, t: vec4<u32>, ok: vec4<bool>) -> vec2<u32> {
  let passing = dot(select(vec4<u32>(0u), vec4<u32>(1u), ok), vec4<u32>(1u));
  var range = vec2<u32>(lo, hi);
  if (passing > 0u) {
    range.x = t[passing - 1u];
  }
  if (passing < 4u) {
    range.y = t[passing];
  }
  return range;
}

// Key threshold of top-k: the largest τ with #{key ≥ τ} ≥ k, i.e. the key of the k-th largest logit.
fn top_k_threshold(lid: u32, max_key: u32) -> u32 {
  var lo = 0u;             // passes: all V ≥ k keys are ≥ 0
  var hi = max_key + 1u;   // fails: no key is above the max
  loop {
    if (hi - lo <= 1u) {
      break;
    }
    let t = probes(lo, hi);
    var count = vec4<u32>(0u);
    for (var i = lid; i < params.vocab; i += WG) {
      count += select(vec4<u32>(0u), vec4<u32>(1u), vec4<u32>(order_key(logit(i))) >= t);
    }
    let range = narrow(lo, hi, t, sum_u32x4(count, lid) >= vec4<u32>(params.top_k));
    lo = range.x;
    hi = range.y;
  }
  return lo;
}

// Unnormalised probability of token i after temperature: exp(x − max x), in (0, 1].
fn weight(l: f32, shift: f32) -> f32 {
  return exp(l * params.inv_temperature - shift);
}

// Σ e·[key ≥ tau_k]·[e ≥ t] over the row, for four thresholds t (bit patterns of e).
fn kept_mass(lid: u32, shift: f32, tau_k: u32, t: vec4<u32>) -> vec4<f32> {
  var mass = vec4<f32>(0.0);
  for (var i = lid; i < params.vocab; i += WG) {
    let l = logit(i);
    if (order_key(l) >= tau_k) {
      let e = weight(l, shift);
      mass += select(vec4<f32>(0.0), vec4<f32>(e), vec4<u32>(bitcast<u32>(e)) >= t);
    }
  }
  return sum_f32x4(mass, lid);
}

// Threshold of top-p on e: the largest τ whose kept mass is still ≥ top_p of the top-k survivors'.
fn top_p_threshold(lid: u32, shift: f32, tau_k: u32) -> u32 {
  let needed = params.top_p * kept_mass(lid, shift, tau_k, vec4<u32>(0u)).x;
  var lo = 0u;          // passes: keeps every survivor
  var hi = ABOVE_ONE;   // counted as failing: keeps nothing
  loop {
    if (hi - lo <= 1u) {
      break;
    }
    let t = probes(lo, hi);
    let range = narrow(lo, hi, t, kept_mass(lid, shift, tau_k, t) >= vec4<f32>(needed));
    lo = range.x;
    hi = range.y;
  }
  return lo;
}

// e of token i if both filters keep it, else 0.
fn kept_weight(i: u32, shift: f32, tau_k: u32, tau_p: u32) -> f32 {
  let l = logit(i);
  if (order_key(l) < tau_k) {
    return 0.0;
  }
  let e = weight(l, shift);
  return select(0.0, e, bitcast<u32>(e) >= tau_p);
}

// Inverse-CDF draw over the kept tokens in index order: the first token whose running mass
// exceeds u · (kept mass).
fn draw(lid: u32, shift: f32, tau_k: u32, tau_p: u32) {
  let chunk = (params.vocab + WG - 1u) / WG;
  let begin = min(lid * chunk, params.vocab);
  let end = min(begin + chunk, params.vocab);
  var own = 0.0;
  for (var i = begin; i < end; i++) {
    own += kept_weight(i, shift, tau_k, tau_p);
  }
  // Prefix sums of the chunk sums, built so that thread t's interval [before, through) of the
  // kept mass is exactly where thread t−1's ends, and empty when its chunk holds nothing: then one
  // and only one thread's interval holds any goal in [0, total). (A parallel Hillis–Steele scan
  // adds the same terms in different groupings per thread, so its float prefixes need not even
  // rise: an empty chunk could claim the draw.) 16 groups of 16: serial within a group, then
  // serially over the group totals; every prefix is base[group] + a rising in-group sum.
  scan[lid] = own;
  workgroupBarrier();
  if (lid < SCAN_GROUPS) {
    var run = 0.0;
    for (var j = 0u; j < SCAN_GROUP; j++) {
      run += scan[lid * SCAN_GROUP + j];
      scan[lid * SCAN_GROUP + j] = run;
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    var base = 0.0;
    for (var g = 0u; g < SCAN_GROUPS; g++) {
      group_base[g] = base;
      base += scan[g * SCAN_GROUP + SCAN_GROUP - 1u];
    }
    group_base[SCAN_GROUPS] = base;
  }
  workgroupBarrier();
  let group = lid / SCAN_GROUP;
  let through = group_base[group] + scan[lid];
  // Thread t−1's `through`, the same sum of the same two numbers (or, at a group's start, the
  // serial loop's own sum of them).
  var before = group_base[group];
  if (lid % SCAN_GROUP != 0u) {
    before = group_base[group] + scan[lid - 1u];
  }
  let total = group_base[SCAN_GROUPS];  // ≥ 1: the max token (e = 1) is always kept
  // u · total rounds up to total when u is within an f32 step of 1: stay inside [0, total).
  let goal = min(uniform_draw() * total, bitcast<f32>(bitcast<u32>(total) - 1u));
  if (before <= goal && goal < through) {
    // Exactly one thread gets here, and its chunk has mass. Its running sum repeats `own`'s
    // additions, but goal − before is rounded, so the walk may end without crossing it: then the
    // chunk's last positive token is the one.
    let local_goal = goal - before;
    var run = 0.0;
    var last = NONE;
    var pick = NONE;
    for (var i = begin; i < end; i++) {
      let e = kept_weight(i, shift, tau_k, tau_p);
      if (e > 0.0) {
        last = i;
        run += e;
        if (run > local_goal) {
          pick = i;
          break;
        }
      }
    }
    chosen = select(pick, last, pick == NONE);
  }
  workgroupBarrier();
  if (lid == 0u) {
    out_id[params.out_index] = chosen;
  }
}

// ---------------------------------------------------------------------------------------------
// sampling: entry point

@compute @workgroup_size(WG)
fn sample(@builtin(local_invocation_index) lid: u32) {
  reduce_argmax(lid);
  if (lid == 0u) {
    max_logit = red_value[0];
  }
  let top = workgroupUniformLoad(&max_logit);
  // Scaling by 1/T (> 0) is a correctly rounded multiply, hence monotone: the largest scaled
  // logit is top · (1/T), and every e = exp(x − shift) is ≤ exp(0) = 1.
  let shift = top * params.inv_temperature;

  var tau_k = 0u;  // key 0 is below every logit: keeps all
  if (params.top_k > 0u && params.top_k < params.vocab) {
    tau_k = top_k_threshold(lid, order_key(top));
  }
  var tau_p = 0u;  // e ≥ 0 always: keeps all
  if (params.top_p < 1.0) {
    tau_p = top_p_threshold(lid, shift, tau_k);
  }
  draw(lid, shift, tau_k, tau_p);
}

// The uniform draw in [0, 1): from the uniform block, or (U_FROM_DRAWS) from a buffer the host
// writes before each step, so a decode step's commands are the same from one token to the next
// (gpu/step-plan.ts records them from a plan).
fn uniform_draw() -> f32 {
#if U_FROM_DRAWS
  return draws[0];
#else
  return params.u;
#endif
}
