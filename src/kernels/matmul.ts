/**
 * Linear layers: y[M, N] = x[M, K] · wᵀ + bias with weights in Hugging Face layout `[N, K]`
 * (f32, f16, q8 or q4; see weights.ts), plus the plain matmul the benchmarks use as their peak.
 *
 * `matmul` picks the kernel: `matvec` (memory-bound, decode) for a few rows of x, `matmulTiled`
 * (register-tiled, prefill) otherwise. x and y are activations (`f32`, or `f16` for f16 math);
 * the precision is x's dtype. Accumulation is f32 in both kernels.
 */
import matmulSource from '../../shaders/matmul.wgsl?raw';
import linearIo from '../../shaders/linear_io.wgsl?raw';
import matvecSource from '../../shaders/matvec.wgsl?raw';
import plainSource from '../../shaders/plain_matmul.wgsl?raw';
import { InputError } from '../errors';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { UniformWriter } from '../gpu/uniforms';
import { grid, pipeline, type Precision } from './common';
import type { Weight, WeightFormat } from './weights';

/** Up to this many rows of x, `matmul` uses the matrix-vector kernel. */
export const MATVEC_MAX_ROWS = 4;

/** Output tile of the tiled kernel (and of the plain baseline): TILE × TILE. */
const TILE = 64;

export interface MatmulOptions {
  /** `[N]` bias, f32 or the activation dtype; defaults to the weight's own bias. */
  bias?: Tensor | null;
}

/** Work split of the matrix-vector kernel: SETS sets of LANES threads, ROWS output rows per set. */
export interface MatvecConfig {
  /** Threads striding along K for one set of rows; a power of two. */
  lanes: number;
  /** Sets per workgroup (lanes · sets threads). */
  sets: number;
  /** Output rows per set, 1..4: x values are reused across them. */
  rows: number;
}

/**
 * Chosen on an H100 (Dawn/Vulkan; 16384×4096, 65536×4096 and 49280×960 weights, M = 1) among
 * lanes 16–128 and rows 1–4: within a few percent of the best for every format, while each other
 * split fell well behind for at least one.
 */
export const DEFAULT_MATVEC_CONFIG: MatvecConfig = { lanes: 64, sets: 4, rows: 4 };

interface LinearProblem {
  m: number;
  n: number;
  k: number;
  precision: Precision;
  bias: Tensor | null;
}

function linearProblem(kernel: string, x: Tensor, w: Weight, out: Tensor, options: MatmulOptions): LinearProblem {
  if (x.dtype !== 'f32' && x.dtype !== 'f16') throw new InputError(`${kernel}: x must be an f32 or f16 tensor, got ${x.dtype}`);
  if (out.dtype !== x.dtype) throw new InputError(`${kernel}: out is ${out.dtype} but x is ${x.dtype}; they must match`);
  const precision = x.dtype;
  const k = w.inFeatures;
  const n = w.outFeatures;
  if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== k) {
    throw new InputError(`${kernel}: x has shape [${x.shape.join(', ')}], its last dimension must be the weight's ${k} inputs`);
  }
  const m = x.size / k;
  if (out.shape.length === 0 || out.shape[out.shape.length - 1] !== n || out.size !== m * n) {
    throw new InputError(`${kernel}: out has shape [${out.shape.join(', ')}], expected ${m} rows of the weight's ${n} outputs`);
  }
  const bias = options.bias ?? w.bias ?? null;
  if (bias) {
    if (bias.size !== n) throw new InputError(`${kernel}: bias has ${bias.size} elements, the weight has ${n} outputs`);
    if (bias.dtype !== 'f32' && bias.dtype !== precision) {
      throw new InputError(`${kernel}: bias must be f32 or ${precision} like x, got ${bias.dtype}`);
    }
  }
  if ((w.format === 'q8' || w.format === 'q4') && !w.scales) throw new InputError(`${kernel}: ${w.format} weight without scales`);
  return { m, n, k, precision, bias };
}

/** `#if` switches shared by the tiled and matrix-vector shaders. */
function linearDefines(format: WeightFormat, p: LinearProblem): Record<string, boolean> {
  return {
    W_F32: format === 'f32',
    W_F16: format === 'f16',
    W_Q8: format === 'q8',
    W_Q4: format === 'q4',
    X_VEC4: p.k % 4 === 0,
  };
}

/** The shaders' `bias_kind` uniform: 0 none, 1 f32, 2 f16 (read from raw words either way). */
function biasKind(bias: Tensor | null): number {
  return bias === null ? 0 : bias.dtype === 'f32' ? 1 : 2;
}

/**
 * Storage bindings of both linear shaders. Without a bias, x stands in for it (the shader reads
 * it only when bias_kind says so; both are read-only, so the aliasing is allowed).
 */
function linearBindings(x: Tensor, w: Weight, p: LinearProblem, out: Tensor): (Tensor | null)[] {
  return [x, w.data, w.scales, p.bias ?? x, out];
}

/**
 * y = x · wᵀ + bias, choosing the kernel: the matrix-vector kernel for up to MATVEC_MAX_ROWS rows
 * of x (decode), the tiled kernel otherwise (prefill). x is `[..., K]`, out `[..., N]`.
 */
export function matmul(rec: CommandRecorder, x: Tensor, w: Weight, out: Tensor, options: MatmulOptions = {}): void {
  const rows = x.size / w.inFeatures;
  if (rows <= MATVEC_MAX_ROWS) matvec(rec, x, w, out, options);
  else matmulTiled(rec, x, w, out, options);
}

/** The register-tiled kernel (64×64 output tiles, f32 accumulation), any M, N, K. */
export function matmulTiled(rec: CommandRecorder, x: Tensor, w: Weight, out: Tensor, options: MatmulOptions = {}): void {
  const p = linearProblem('matmulTiled', x, w, out, options);
  if (p.m === 0) return;
  const tilesN = Math.ceil(p.n / TILE);
  const tilesM = Math.ceil(p.m / TILE);
  const max = rec.gpu.limits.maxComputeWorkgroupsPerDimension;
  if (tilesN > max || tilesM > max) throw new InputError(`matmulTiled: ${p.m}×${p.n} output needs more than ${max} tiles per dimension`);
  const pipe = pipeline(rec.gpu, { name: 'matmul', source: [matmulSource, linearIo], precision: p.precision, defines: linearDefines(w.format, p) });
  const uniforms = new UniformWriter().u32(p.m).u32(p.n).u32(p.k).u32(w.rowStride).u32(biasKind(p.bias)).finish();
  rec.dispatch(pipe, uniforms, linearBindings(x, w, p, out), [tilesN, tilesM]);
}

/** The matrix-vector kernel for 1..4 rows of x (decode). */
export function matvec(
  rec: CommandRecorder,
  x: Tensor,
  w: Weight,
  out: Tensor,
  options: MatmulOptions & { config?: Partial<MatvecConfig> } = {},
): void {
  const p = linearProblem('matvec', x, w, out, options);
  if (p.m === 0) return;
  if (p.m > MATVEC_MAX_ROWS) throw new InputError(`matvec: x has ${p.m} rows; at most ${MATVEC_MAX_ROWS} (use matmul or matmulTiled)`);
  const config = { ...DEFAULT_MATVEC_CONFIG, ...options.config };
  const { lanes, sets, rows } = config;
  if (!(lanes > 0 && (lanes & (lanes - 1)) === 0) || rows < 1 || rows > 4 || sets < 1) {
    throw new InputError(`matvec: bad config ${JSON.stringify(config)} (lanes a power of two, rows 1..4)`);
  }
  if (lanes * sets > rec.gpu.limits.maxComputeInvocationsPerWorkgroup) {
    throw new InputError(`matvec: ${lanes}·${sets} threads exceed this GPU's ${rec.gpu.limits.maxComputeInvocationsPerWorkgroup} per workgroup`);
  }
  const pipe = pipeline(rec.gpu, {
    name: 'matvec',
    source: [matvecSource, linearIo],
    precision: p.precision,
    defines: linearDefines(w.format, p),
    overrides: { M_ROWS: p.m, LANES: lanes, SETS: sets, ROWS: rows },
  });
  const uniforms = new UniformWriter().u32(p.n).u32(p.k).u32(w.rowStride).u32(biasKind(p.bias)).finish();
  rec.dispatch(pipe, uniforms, linearBindings(x, w, p, out), grid(rec.gpu, Math.ceil(p.n / (sets * rows))));
}

/**
 * The benchmark's yardstick: c[M, N] = a[M, K] · b[K, N], all row-major and of one activation
 * dtype, every dimension a multiple of 64. Accumulates in that dtype (f16 for f16 tensors).
 */
export function plainMatmul(rec: CommandRecorder, a: Tensor, b: Tensor, c: Tensor): void {
  if (a.shape.length !== 2 || b.shape.length !== 2 || c.shape.length !== 2) {
    throw new InputError('plainMatmul: a, b and c must be 2-D');
  }
  const [m, k] = a.shape;
  const [kb, n] = b.shape;
  if (kb !== k || c.shape[0] !== m || c.shape[1] !== n) {
    throw new InputError(`plainMatmul: shapes [${a.shape}] · [${b.shape}] → [${c.shape}] do not match`);
  }
  if (m % TILE || n % TILE || k % TILE) throw new InputError(`plainMatmul: M, N, K (${m}, ${n}, ${k}) must be multiples of ${TILE}`);
  if (a.dtype !== b.dtype || a.dtype !== c.dtype || (a.dtype !== 'f32' && a.dtype !== 'f16')) {
    throw new InputError(`plainMatmul: a, b, c must all be f32 or all f16 (got ${a.dtype}, ${b.dtype}, ${c.dtype})`);
  }
  const pipe = pipeline(rec.gpu, { name: 'plain_matmul', source: plainSource, precision: a.dtype });
  const uniforms = new UniformWriter().u32(m).u32(n).u32(k).finish();
  rec.dispatch(pipe, uniforms, [a, b, c], [n / TILE, m / TILE]);
}
