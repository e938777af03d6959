/**
 * Linear layers: y[M, N] = x[M, K] · wᵀ + bias with weights in Hugging Face layout `[N, K]`
 * (f32, f16, q8 or q4; see weights.ts), plus the plain matmul the benchmarks use as their peak.
 *
 * `matmul` picks the kernel: `matvec` (memory-bound, decode) for a few rows of x, `matmulTiled`
 * (register-tiled, prefill) otherwise. x and y are activations (`f32`, or `f16` for f16 math);
 * the precision is x's dtype. Accumulation is f32 in both kernels.
 */
import { InputError } from '../errors';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { dispatchKernel, grid, type Precision } from './common';
import { siluMul } from './elementwise';
import { RMS_NORM_WORKGROUP } from './norm';
import { MATVEC_MAX_ROWS, MATVEC_MAX_ROWS_PER_SET, matmulKernel, matmulSmallTileKernel, matvecKernel, plainMatmulKernel, type LinearDefine } from './linear-kernels';
import type { SplitPartials } from './attention';
import type { Weight, WeightFormat } from './weights';

export { MATVEC_MAX_ROWS };

/**
 * A slice of a linear layer's output columns written to its own tensor: a fused q/k/v (or
 * gate/up) weight computed in one dispatch, each part landing where the next kernel wants it.
 * Parts take the columns in order; each is row-major `[M, columns]` from element `offset` of
 * `tensor` (the activation dtype), e.g. the next free row of a KV cache.
 */
export interface OutputPart {
  tensor: Tensor;
  columns: number;
  /** Element of `tensor` where row 0 of this part starts (default 0). */
  offset?: number;
}

/** A linear layer's output: one `[..., N]` tensor, or up to three parts whose columns add up to N. */
export type LinearOutput = Tensor | readonly OutputPart[];

export interface MatmulOptions {
  /** `[N]` bias, f32 or the activation dtype; defaults to the weight's own bias. */
  bias?: Tensor | null;
  /** The tiled kernel's output tile (32 or 64); by default chosen by `tiledTileSize`. */
  tile?: TileSize;
}

export type TileSize = 32 | 64;

/**
 * Short x (at most SMALL_TILE_MAX_ROWS rows) whose output is fewer than this many 64×64 tiles
 * takes 32×32 ones. A GPU runs thousands of threads at once (an H100: 132 SMs × 2048); a 64-tile
 * grid of a frame's prefill (M ≈ 80: two tile rows, 9–48 tile columns) is 18–96 workgroups of 64
 * threads, most of the card idle. Taller x (a SigLIP frame's 1024 patches) keeps the 64 tiles and
 * their higher reuse until measured otherwise. Both sizes give identical bits: speed only.
 */
export const SMALL_TILE_BELOW_WORKGROUPS = 256;
export const SMALL_TILE_MAX_ROWS = 256;

/** The tile the tiled kernel uses for an M×N output unless told. */
export function tiledTileSize(m: number, n: number): TileSize {
  return m <= SMALL_TILE_MAX_ROWS && Math.ceil(m / 64) * Math.ceil(n / 64) < SMALL_TILE_BELOW_WORKGROUPS ? 32 : 64;
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
  /** The output tensors (1–3) and the part fields of the shaders' uniforms. */
  outs: Tensor[];
  part1: number;
  part2: number;
  offsets: [number, number, number];
}

function linearProblem(kernel: string, x: Tensor, w: Weight, out: LinearOutput, options: MatmulOptions): LinearProblem {
  if (x.dtype !== 'f32' && x.dtype !== 'f16') throw new InputError(`${kernel}: x must be an f32 or f16 tensor, got ${x.dtype}`);
  const precision = x.dtype;
  const k = w.inFeatures;
  const n = w.outFeatures;
  if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== k) {
    throw new InputError(`${kernel}: x has shape [${x.shape.join(', ')}], its last dimension must be the weight's ${k} inputs`);
  }
  const m = x.size / k;
  let outs: Tensor[];
  let part1 = n;
  let part2 = n;
  const offsets: [number, number, number] = [0, 0, 0];
  if (!Array.isArray(out)) {
    const y = out as Tensor;
    if (y.dtype !== x.dtype) throw new InputError(`${kernel}: out is ${y.dtype} but x is ${x.dtype}; they must match`);
    if (y.shape.length === 0 || y.shape[y.shape.length - 1] !== n || y.size !== m * n) {
      throw new InputError(`${kernel}: out has shape [${y.shape.join(', ')}], expected ${m} rows of the weight's ${n} outputs`);
    }
    outs = [y];
  } else {
    const parts = out as readonly OutputPart[];
    if (parts.length < 1 || parts.length > 3) throw new InputError(`${kernel}: ${parts.length} output parts; give 1 to 3`);
    let columns = 0;
    parts.forEach((part, i) => {
      const offset = part.offset ?? 0;
      if (!Number.isInteger(part.columns) || part.columns < 1) throw new InputError(`${kernel}: output part ${i} has ${part.columns} columns`);
      if (!Number.isInteger(offset) || offset < 0) throw new InputError(`${kernel}: output part ${i} offset ${offset} must be a non-negative integer`);
      if (part.tensor.dtype !== x.dtype) throw new InputError(`${kernel}: output part ${i} is ${part.tensor.dtype} but x is ${x.dtype}; they must match`);
      if (part.tensor.size < offset + m * part.columns) {
        throw new InputError(`${kernel}: output part ${i} needs ${offset + m * part.columns} elements from offset ${offset}, its tensor has ${part.tensor.size}`);
      }
      // two writable bindings of one buffer in a dispatch are a WebGPU validation error
      if (parts.some((other, j) => j < i && other.tensor.buffer === part.tensor.buffer)) throw new InputError(`${kernel}: output parts ${i} and an earlier one share a buffer`);
      offsets[i] = offset;
      columns += part.columns;
      if (i === 0) part1 = columns;
      if (i === 1) part2 = columns;
    });
    if (columns !== n) throw new InputError(`${kernel}: output parts have ${columns} columns in all, the weight has ${n} outputs`);
    outs = parts.map((part) => part.tensor);
  }
  const bias = options.bias ?? w.bias ?? null;
  if (bias) {
    if (bias.size !== n) throw new InputError(`${kernel}: bias has ${bias.size} elements, the weight has ${n} outputs`);
    if (bias.dtype !== 'f32' && bias.dtype !== precision) {
      throw new InputError(`${kernel}: bias must be f32 or ${precision} like x, got ${bias.dtype}`);
    }
  }
  if ((w.format === 'q8' || w.format === 'q4') && !w.scales) throw new InputError(`${kernel}: ${w.format} weight without scales`);
  return { m, n, k, precision, bias, outs, part1, part2, offsets };
}

/** `#if` switches shared by the tiled and matrix-vector shaders. */
function linearDefines(format: WeightFormat, p: LinearProblem): Record<LinearDefine, boolean> {
  return {
    W_F32: format === 'f32',
    W_F16: format === 'f16',
    W_Q8: format === 'q8',
    W_Q4: format === 'q4',
    X_VEC4: p.k % 4 === 0,
    Y_PARTS2: p.outs.length === 2,
    Y_PARTS3: p.outs.length === 3,
    X_SWIGLU: false,
    X_RMSNORM: false,
    X_ATTN: false,
    Y_RESIDUAL: false,
    TILE32: false,
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
function linearBindings(x: Tensor, w: Weight, p: LinearProblem) {
  return { x, w: w.data, scales: w.scales, bias: p.bias ?? x, y: p.outs[0], y1: p.outs[1], y2: p.outs[2] };
}

/** The uniform fields both shaders end with: the weight row stride, bias kind and the output parts. */
function linearTail(w: Weight, p: LinearProblem) {
  const [offset0, offset1, offset2] = p.offsets;
  return { row_stride: w.rowStride, bias_kind: biasKind(p.bias), part1: p.part1, part2: p.part2, offset0, offset1, offset2 };
}

/**
 * y = x · wᵀ + bias, choosing the kernel: the matrix-vector kernel for up to MATVEC_MAX_ROWS rows
 * of x (decode), the tiled kernel otherwise (prefill). x is `[..., K]`, out `[..., N]` or output
 * parts (see OutputPart).
 */
export function matmul(rec: CommandRecorder, x: Tensor, w: Weight, out: LinearOutput, options: MatmulOptions = {}): void {
  const rows = x.size / w.inFeatures;
  if (rows <= MATVEC_MAX_ROWS) matvec(rec, x, w, out, options);
  else matmulTiled(rec, x, w, out, options);
}

/** The register-tiled kernel (64×64 or 32×32 output tiles, f32 accumulation), any M, N, K. */
export function matmulTiled(rec: CommandRecorder, x: Tensor, w: Weight, out: LinearOutput, options: MatmulOptions = {}): void {
  const p = linearProblem('matmulTiled', x, w, out, options);
  if (p.m === 0) return;
  const tile = options.tile ?? tiledTileSize(p.m, p.n);
  if (tile !== 32 && tile !== 64) throw new InputError(`matmulTiled: tile must be 32 or 64, got ${String(tile)}`);
  const TILE = tile === 32 ? matmulSmallTileKernel.constants.TILE : matmulKernel.constants.TILE;
  const tilesN = Math.ceil(p.n / TILE);
  const tilesM = Math.ceil(p.m / TILE);
  const max = rec.gpu.limits.maxComputeWorkgroupsPerDimension;
  if (tilesN > max || tilesM > max) throw new InputError(`matmulTiled: ${p.m}×${p.n} output needs more than ${max} tiles per dimension`);
  const call = { precision: p.precision, variant: { ...linearDefines(w.format, p), TILE32: tile === 32 } };
  const uniforms = { m: p.m, n: p.n, k: p.k, ...linearTail(w, p) };
  if (tile === 32) dispatchKernel(rec, matmulSmallTileKernel, call, uniforms, linearBindings(x, w, p), [tilesN, tilesM]);
  else dispatchKernel(rec, matmulKernel, call, uniforms, linearBindings(x, w, p), [tilesN, tilesM]);
}

/**
 * The MLP's down projection of act(silu(gate) · up): for up to MATVEC_MAX_ROWS rows (decode) one
 * matrix-vector dispatch that computes silu(gate) · up as it reads x (X_SWIGLU), otherwise
 * silu_mul into `scratch` then the tiled kernel. In f32 math both give the bits of siluMul followed
 * by matmul (f16 math: within selfcheck/compare.ts compareFused's bound).
 */
export function matmulSwiGlu(rec: CommandRecorder, gate: Tensor, up: Tensor, w: Weight, out: Tensor, scratch: Tensor): void {
  if (gate.size / w.inFeatures > MATVEC_MAX_ROWS) {
    siluMul(rec, gate, up, scratch);
    matmulTiled(rec, scratch, w, out);
  } else {
    matvec(rec, gate, w, out, { swigluUp: up });
  }
}

/** What the matrix-vector kernel may compute around its product, each in the same dispatch. */
export interface MatvecFusion {
  /** x is the MLP's gate and this its up projection: the kernel's input is act(silu(x) · up) (X_SWIGLU). */
  swigluUp?: Tensor;
  /** The kernel's input is RMSNorm(x) with this f32 `[K]` weight, as `rmsNorm` computes it (X_RMSNORM). */
  rmsNorm?: { weight: Tensor; eps: number };
  /** `[M, N]`, added to the product as it is stored, as `add` would (Y_RESIDUAL; one output tensor). */
  residual?: Tensor;
  /**
   * x is attention's output, still split: these partials (attention's `deferCombine`) are merged as
   * `combine` would merge them, in a prologue of every workgroup, and x itself is not read (X_ATTN;
   * one row of x, K = heads · head dim ≤ 1024). Saves attention's combine dispatch.
   */
  attention?: SplitPartials;
}

/**
 * The matrix-vector kernel for 1..4 rows of x (decode). In f32 math its fusions (MatvecFusion) give
 * the bits of the separate kernels they replace — silu_mul, rms_norm and add; in f16 math a
 * driver may round their in-register f16 values differently (selfcheck/compare.ts compareFused).
 */
export function matvec(
  rec: CommandRecorder,
  x: Tensor,
  w: Weight,
  out: LinearOutput,
  options: MatmulOptions & MatvecFusion & { config?: Partial<MatvecConfig> } = {},
): void {
  const { swigluUp: up, rmsNorm: norm, residual } = options;
  if (up && (up.dtype !== x.dtype || up.size !== x.size)) throw new InputError(`matvec: swigluUp [${up.shape.join(', ')}] ${up.dtype} must match x [${x.shape.join(', ')}] ${x.dtype}`);
  const attn = options.attention;
  if ([up, norm, attn].filter(Boolean).length > 1) throw new InputError('matvec: swigluUp, rmsNorm and attention each transform x; one at most');
  const p = linearProblem('matvec', x, w, out, options);
  if (p.m === 0) return;
  if (p.m > MATVEC_MAX_ROWS) throw new InputError(`matvec: x has ${p.m} rows; at most ${MATVEC_MAX_ROWS} (use matmul or matmulTiled)`);
  const config = { ...DEFAULT_MATVEC_CONFIG, ...options.config };
  const { lanes, sets, rows } = config;
  if (!(lanes > 0 && (lanes & (lanes - 1)) === 0) || rows < 1 || rows > MATVEC_MAX_ROWS_PER_SET || sets < 1) {
    throw new InputError(`matvec: bad config ${JSON.stringify(config)} (lanes a power of two, rows 1..${MATVEC_MAX_ROWS_PER_SET})`);
  }
  if (lanes * sets > rec.gpu.limits.maxComputeInvocationsPerWorkgroup) {
    throw new InputError(`matvec: ${lanes}·${sets} threads exceed this GPU's ${rec.gpu.limits.maxComputeInvocationsPerWorkgroup} per workgroup`);
  }
  if (norm) {
    if (norm.weight.dtype !== 'f32' || norm.weight.size !== p.k) throw new InputError(`matvec: rmsNorm weight must be f32 [${p.k}], got ${norm.weight.dtype} [${norm.weight.shape.join(', ')}]`);
    // the same reduction as rms_norm's, over a workgroup of its size: the same bits
    if (lanes * sets !== RMS_NORM_WORKGROUP) throw new InputError(`matvec: rmsNorm needs lanes · sets = ${RMS_NORM_WORKGROUP} (rms_norm's workgroup), got ${lanes}·${sets}`);
  }
  if (residual) {
    if (p.outs.length !== 1) throw new InputError('matvec: a residual needs one output tensor, not parts');
    if (residual.dtype !== p.precision || residual.size !== p.m * p.n) throw new InputError(`matvec: residual must be ${p.precision} [${p.m}, ${p.n}], got ${residual.dtype} [${residual.shape.join(', ')}]`);
    if (residual.buffer === p.outs[0].buffer) throw new InputError('matvec: residual and out must be distinct tensors');
  }
  if (attn) checkAttentionInput(attn, p);
  const variant = { ...linearDefines(w.format, p), X_SWIGLU: !!up, X_RMSNORM: !!norm, X_ATTN: !!attn, Y_RESIDUAL: !!residual };
  const call = { precision: p.precision, variant, overrides: { M_ROWS: p.m, LANES: lanes, SETS: sets, ROWS: rows } };
  const workgroups = grid(rec.gpu, Math.ceil(p.n / (sets * rows)));
  const attnUniforms = { attn_splits: attn?.splits ?? 0, attn_groups: attn?.groups ?? 0, attn_d4: attn ? attn.headDim / 4 : 0 };
  const uniforms = { n: p.n, k: p.k, norm_eps: norm?.eps ?? 0, ...attnUniforms, ...linearTail(w, p) };
  const { x: input, ...linear } = linearBindings(x, w, p);
  // X_ATTN reads the partials instead of x, so x is left out of its bind group (not in its layout)
  const bindings = { ...linear, x: attn ? undefined : input, x_up: up, norm_weight: norm?.weight, partials: attn?.partials, y_res: residual };
  dispatchKernel(rec, matvecKernel, call, uniforms, bindings, workgroups);
}

/** The largest K (heads · head dim) matvec's attention fusion takes: its merged x fills a workgroup buffer. */
export const MATVEC_ATTENTION_MAX_K = 4 * matvecKernel.constants.X_ATTN_MAX4;

/**
 * The most key splits the text model lets matvec's attention fusion merge. Every workgroup of the
 * projection merges all splits again before its own rows, so the fusion trades one dispatch for
 * work that grows with the cache: on the H100 (2026-12-07, 256M, 1,000 cached keys, 63 splits) the
 * decode's GPU time was 2.03–2.43 ms a token with it against 1.51–2.23 without, wall time the same
 * within the host's noise. Up to this many splits (256 keys at head dim 64) the merge reads a few
 * KB a workgroup, against a dispatch saved (~5 µs of GPU, ~9 µs of host time): not yet timed on a
 * card; beyond it `combine` runs on its own, as before the fusion.
 */
export const MATVEC_ATTENTION_MAX_SPLITS = 16;

/** matvec's attention fusion: one row of x, K = heads · head dim in its workgroup buffer, partials that fit. */
function checkAttentionInput(a: SplitPartials, p: LinearProblem): void {
  const fail = (msg: string): never => {
    throw new InputError(`matvec: attention partials: ${msg}`);
  };
  if (p.m !== 1) fail(`one row of x only, got ${p.m}`);
  if (a.headDim <= 0 || a.headDim % 8 || p.k % a.headDim) fail(`K = ${p.k} must be heads · head dim (${a.headDim}, a multiple of 8)`);
  if (p.k > MATVEC_ATTENTION_MAX_K) fail(`K = ${p.k} is over ${MATVEC_ATTENTION_MAX_K}`);
  if (!Number.isInteger(a.splits) || a.splits < 2 || !Number.isInteger(a.groups) || a.groups < 1) fail(`splits ${a.splits} (≥ 2) and groups ${a.groups} (≥ 1) must be whole`);
  const needed = (p.k / a.headDim) * a.splits * (a.headDim + 4);
  if (a.partials.dtype !== 'f32' || a.partials.size < needed) fail(`need f32 [≥ ${needed}], got ${a.partials.dtype} [${a.partials.size}]`);
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
  const { TILE } = plainMatmulKernel.constants;
  if (m % TILE || n % TILE || k % TILE) throw new InputError(`plainMatmul: M, N, K (${m}, ${n}, ${k}) must be multiples of ${TILE}`);
  if (a.dtype !== b.dtype || a.dtype !== c.dtype || (a.dtype !== 'f32' && a.dtype !== 'f16')) {
    throw new InputError(`plainMatmul: a, b, c must all be f32 or all f16 (got ${a.dtype}, ${b.dtype}, ${c.dtype})`);
  }
  dispatchKernel(rec, plainMatmulKernel, { precision: a.dtype }, { m, n, k }, { a, b, c }, [n / TILE, m / TILE]);
}
