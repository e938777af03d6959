/**
 * Plain references of the matmul kernels, f64 accumulation, like `torch.nn.functional.linear`.
 */

/**
 * y[m, n] = Σ_k x[m, k] · w[n, k] + bias[n]: a Linear layer with Hugging Face's `[out, in]` weight.
 * `w` is the matrix the GPU multiplies by (for quantized formats: the dequantized weights).
 */
export function linearRef(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
  bias?: ArrayLike<number> | null,
): Float32Array {
  const y = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = bias ? bias[j] : 0;
      for (let t = 0; t < k; t++) sum += x[i * k + t] * w[j * k + t];
      y[i * n + j] = sum;
    }
  }
  return y;
}

/** c[m, n] = Σ_k a[m, k] · b[k, n]: the plain matmul baseline, both operands row-major. */
export function matmulRef(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let t = 0; t < k; t++) sum += a[i * k + t] * b[t * n + j];
      c[i * n + j] = sum;
    }
  }
  return c;
}
