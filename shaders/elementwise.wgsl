// Element-wise kernels over activations: residual add, GELU (tanh form), SiLU-gated product.
// One thread per element, grid-strided over a 2-D dispatch.
// Params, bindings and WG: the contract in src/kernels/elementwise.ts (generated header).

fn element_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// out = a + b (residual connections).
@compute @workgroup_size(WG)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = element_index(gid, nwg);
  if (i >= params.count) { return; }
  out[i] = act(f32(a[i]) + f32(b[i]));
}

// out = gelu(a), the tanh approximation used by SigLIP ("gelu_pytorch_tanh"), computed in f32.
@compute @workgroup_size(WG)
fn gelu_tanh(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = element_index(gid, nwg);
  if (i >= params.count) { return; }
  let x = f32(a[i]);
  let inner = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  // tanh written out through exp of a non-positive argument: WGSL's tanh overflows to NaN on
  // some drivers for |x| > 44, and this form is exact to f32 rounding.
  let e = exp(-2.0 * abs(inner));
  let t = sign(inner) * (1.0 - e) / (1.0 + e);
  out[i] = act(0.5 * x * (1.0 + t));
}

// out = silu(a) * b: Llama's MLP, a = gate_proj(x), b = up_proj(x).
@compute @workgroup_size(WG)
fn silu_mul(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = element_index(gid, nwg);
  if (i >= params.count) { return; }
  let g = f32(a[i]);
  out[i] = act(g / (1.0 + exp(-g)) * f32(b[i]));
}
