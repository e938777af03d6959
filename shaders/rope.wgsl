// Rotary position embedding, Hugging Face rotate-half form: element i of a head pairs with i + D/2,
//   out[i]       = x[i] * cos - x[i + D/2] * sin
//   out[i + D/2] = x[i + D/2] * cos + x[i] * sin
// cos/sin come from a table built on the CPU (RopeTable): GPU cos/sin of angles in the thousands
// are far less precise than transformers' f32 ones. Table row p holds D/2 cos then D/2 sin.
// One thread per (token, head, pair); math in f32, stored as `act`.
// Params, bindings and WG: the contract in src/kernels/rope.ts (generated header).


struct Pair {
  lo: u32,    // index of element i
  hi: u32,    // index of element i + D/2
  cos: f32,
  sin: f32,
}

fn pair_at(p: u32) -> Pair {
  let half = params.half_dim;
  let i = p % half;
  let token_head = p / half;
  let token = token_head / params.heads;
  // an out-of-range position would read another row; clamp so it at least stays in the table
  let pos = min(positions[token], params.max_positions - 1u);
  let base = token_head * 2u * half;
  let row = pos * 2u * half;
  return Pair(base + i, base + i + half, table[row + i], table[row + half + i]);
}

@compute @workgroup_size(WG)
fn rope(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = gid.x + gid.y * nwg.x * WG;
  if (p >= params.pairs) { return; }
  let r = pair_at(p);
  let a = f32(x[r.lo]);
  let b = f32(x[r.hi]);
  out[r.lo] = act(a * r.cos - b * r.sin);
  out[r.hi] = act(b * r.cos + a * r.sin);
}

@compute @workgroup_size(WG)
fn rope_in_place(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = gid.x + gid.y * nwg.x * WG;
  if (p >= params.pairs) { return; }
  let r = pair_at(p);
  let a = f32(x_in_place[r.lo]);
  let b = f32(x_in_place[r.hi]);
  x_in_place[r.lo] = act(a * r.cos - b * r.sin);
  x_in_place[r.hi] = act(b * r.cos + a * r.sin);
}
