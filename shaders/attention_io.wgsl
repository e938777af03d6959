// Shared by attention_prefill.wgsl and attention_decode.wgsl (appended after each): K/V loads as
// f32 from act4 or from f16 pairs packed in u32 (KV_PACKED). The uniform block and the bindings are
// both kernels' contracts in src/kernels/attention-kernels.ts (generated header).

#if KV_PACKED
fn load_k(i: u32) -> vec4<f32> { let w = k[i]; return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)); }
fn load_v(i: u32) -> vec4<f32> { let w = v[i]; return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)); }
#else
fn load_k(i: u32) -> vec4<f32> { return vec4<f32>(k[i]); }
fn load_v(i: u32) -> vec4<f32> { return vec4<f32>(v[i]); }
#endif
