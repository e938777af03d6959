/** Plain TypeScript references of the element-wise kernels, in f64 then rounded to f32. */
export function addRef(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((x, i) => x + b[i]);
}

/** GELU, tanh approximation, as torch's `gelu(approximate="tanh")`. */
export function geluTanhRef(a: Float32Array): Float32Array {
  return a.map((x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))));
}

export function siluMulRef(gate: Float32Array, up: Float32Array): Float32Array {
  return gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
}
