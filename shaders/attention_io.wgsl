// Shared by attention_prefill.wgsl and attention_decode.wgsl (appended after each): the uniform
// block, the bindings, and K/V loads as f32 from act4 or from f16 pairs packed in u32.

struct Params {
  tq: u32,
  keys: u32,              // valid keys S
  hq: u32,
  hkv: u32,
  q_start: u32,           // cache index of query 0 (causal masks)
  mask_kind: u32,         // 0 bidirectional, 1 causal, 2 sinks + window (causal too)
  sinks: u32,
  window: u32,
  scale: f32,
  keys_per_split: u32,
  splits: u32,
  max_positions: u32,     // rows of the RoPE table
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<act4>;
#if KV_PACKED
// f16 K/V read as packed pairs (no shader-f16 needed): one vec2<u32> = 4 values.
@group(0) @binding(2) var<storage, read> k: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> v: array<vec2<u32>>;
fn load_k(i: u32) -> vec4<f32> { let w = k[i]; return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)); }
fn load_v(i: u32) -> vec4<f32> { let w = v[i]; return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)); }
#else
@group(0) @binding(2) var<storage, read> k: array<act4>;
@group(0) @binding(3) var<storage, read> v: array<act4>;
fn load_k(i: u32) -> vec4<f32> { return vec4<f32>(k[i]); }
fn load_v(i: u32) -> vec4<f32> { return vec4<f32>(v[i]); }
#endif
@group(0) @binding(4) var<storage, read> k_positions: array<u32>;
@group(0) @binding(5) var<storage, read> rope_table: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> out: array<act4>;
// per (query, q head, split or chunk): D/4 vec4 of acc, then vec4(m, l, 0, 0)
@group(0) @binding(7) var<storage, read_write> partials: array<vec4<f32>>;
