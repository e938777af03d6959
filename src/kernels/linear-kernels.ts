/**
 * Contracts of the linear-layer shaders (shaders/matmul.wgsl, matvec.wgsl, their shared
 * linear_io.wgsl, and plain_matmul.wgsl): uniforms, bindings, tile and workgroup constants and the
 * variant switches, declared once; matmul.ts dispatches them.
 */
import matmulSource from '../../shaders/matmul.wgsl?raw';
import linearIo from '../../shaders/linear_io.wgsl?raw';
import matvecSource from '../../shaders/matvec.wgsl?raw';
import plainSource from '../../shaders/plain_matmul.wgsl?raw';
import splitMergeSource from '../../shaders/split_merge.wgsl?raw';
import { defineKernel, read, readWrite, type WgslType } from '../gpu/kernel-contract';

/** Up to this many rows of x, `matmul` uses the matrix-vector kernel (its accumulators: MAX_M rows). */
export const MATVEC_MAX_ROWS = 4;

/** Output rows per set of the matrix-vector kernel, at most (its accumulators: MAX_ROWS). */
export const MATVEC_MAX_ROWS_PER_SET = 4;

/**
 * Variants of both linear shaders: the weight format (one of W_F32 / W_F16 / W_Q8 / W_Q4), X_VEC4
 * (K % 4 == 0: x is read as vec4), Y_PARTS2 / Y_PARTS3 (output columns split over two or three
 * tensors), and for the matrix-vector kernel X_SWIGLU / X_RMSNORM / X_ATTN (x transformed as it is
 * read: the MLP's act(silu(gate) · up), RMSNorm, or attention's output merged from its split
 * partials) and Y_RESIDUAL (a residual added as y is stored); TILE32 is the 32-tile tiled kernel's
 * own loop (matmulSmallTileKernel sets it with its TILE).
 */
const LINEAR_DEFINES = ['W_F32', 'W_F16', 'W_Q8', 'W_Q4', 'X_VEC4', 'Y_PARTS2', 'Y_PARTS3', 'X_SWIGLU', 'X_RMSNORM', 'X_ATTN', 'Y_RESIDUAL', 'TILE32'] as const;
export type LinearDefine = (typeof LINEAR_DEFINES)[number];

/** The uniform fields both linear shaders end with. */
const LINEAR_TAIL = {
  row_stride: 'u32', // elements per stored weight row: k rounded up to a multiple of 32
  bias_kind: 'u32', // 0: no bias, 1: f32 bias, 2: f16 bias
  // output parts (store_y in linear_io.wgsl): first columns of parts 1 and 2, element offsets of
  // the three parts; without parts part1 = part2 = n and offsets are 0
  part1: 'u32',
  part2: 'u32',
  offset0: 'u32',
  offset1: 'u32',
  offset2: 'u32',
} as const;

/**
 * The bindings of both linear shaders; `w`'s element type is each kernel's unit of loading. Binding
 * numbers follow this order: the plain layer's (x, w, scales, bias, y, y1, y2) first, in the slots
 * they had before the fusions came, so a kernel without a fusion is the same shader it was; the
 * fusions' inputs after them.
 */
function linearBindings(w: WgslType) {
  return {
    x: read((d) => (d.X_VEC4 ? 'array<vec4<act>>' : 'array<act>')),
    w: read(w),
    // q8/q4: f16 scale of (row, group) at row·(row_stride/32) + group, two per word
    scales: read('array<u32>'),
    // bias as raw words: f32 values or f16 pairs (params.bias_kind), so one pipeline serves all three
    bias: read('array<u32>'),
    y: readWrite('array<act>'),
    // Y_PARTS2 / Y_PARTS3 only
    y1: readWrite('array<act>'),
    y2: readWrite('array<act>'),
    // X_SWIGLU only (the matrix-vector kernel): x is the MLP's gate, x_up its up projection, and
    // the kernel's input is act(silu(gate) · up), computed as it reads them
    x_up: read((d) => (d.X_VEC4 ? 'array<vec4<act>>' : 'array<act>')),
    // X_RMSNORM only (the matrix-vector kernel): the norm's f32 weight
    norm_weight: read('array<f32>'),
    // X_ATTN only (the matrix-vector kernel): attention's split partials, as attention_decode.wgsl
    // writes them (per head and split: D/4 vec4 of acc, then vec4(m, l, 0, 0)); x is not read
    partials: read('array<vec4<f32>>'),
    // Y_RESIDUAL only (the matrix-vector kernel): [M, N], added to the product as it is stored
    y_res: read('array<act>'),
  } as const;
}

/** The register-tiled kernel: 8×8 threads, TILE×TILE output tiles, K in slices of TILE_K. */
export const matmulKernel = defineKernel({
  name: 'matmul',
  body: [matmulSource, linearIo],
  uniforms: { m: 'u32', n: 'u32', k: 'u32', ...LINEAR_TAIL },
  bindings: linearBindings((d) => (d.W_F32 ? 'array<vec4<f32>>' : d.W_Q4 ? 'array<vec2<u32>>' : 'array<vec4<u32>>')),
  constants: { TILE: 64, TILE_K: 16, WG: 64 },
  defines: LINEAR_DEFINES,
});

/**
 * The same kernel with 32×32 tiles (each thread 4×4 outputs): four times the workgroups of the
 * 64-tile kernel for the same output, for short x (a prefill of a frame's ~80 tokens), where the
 * 64-tile grid leaves most of the GPU idle. Identical bits (the same fma chain per element).
 */
export const matmulSmallTileKernel = defineKernel({
  name: 'matmul_tile32',
  body: [matmulSource, linearIo],
  uniforms: matmulKernel.declaration.uniforms,
  bindings: matmulKernel.declaration.bindings,
  constants: { TILE: 32, TILE_K: 16, WG: 64 },
  defines: LINEAR_DEFINES,
});

/** The matrix-vector kernel (decode). */
export const matvecKernel = defineKernel({
  name: 'matvec',
  body: [matvecSource, linearIo, splitMergeSource],
  // norm_eps: X_RMSNORM's epsilon; attn_*: X_ATTN's splits, combine's thread groups and D/4 (unread
  // otherwise); after the plain layer's fields, which keep their offsets from before the fusions
  uniforms: { n: 'u32', k: 'u32', ...LINEAR_TAIL, norm_eps: 'f32', attn_splits: 'u32', attn_groups: 'u32', attn_d4: 'u32' },
  bindings: linearBindings((d) => (d.W_F32 ? 'array<vec4<f32>>' : d.W_F16 ? 'array<vec4<u32>>' : 'array<vec2<u32>>')),
  // X_ATTN_MAX4: K / 4 at most for X_ATTN (its merged x lives in workgroup memory, 4 KiB)
  constants: { MAX_M: MATVEC_MAX_ROWS, MAX_ROWS: MATVEC_MAX_ROWS_PER_SET, X_ATTN_MAX4: 256 },
  // rows of x (fixed per pipeline so accumulators stay in registers) and the work split (MatvecConfig);
  // matmul.ts always sets all four
  overrides: { M_ROWS: 1, LANES: 64, SETS: 4, ROWS: 4 },
  defines: LINEAR_DEFINES,
});

/** The benchmark's plain matmul: 8×8 threads, a TILE×TILE tile, K in slices of TILE_K. */
export const plainMatmulKernel = defineKernel({
  name: 'plain_matmul',
  body: [plainSource],
  uniforms: { m: 'u32', n: 'u32', k: 'u32' },
  bindings: { a: read('array<act4>'), b: read('array<act4>'), c: readWrite('array<act4>') },
  constants: { TILE: 64, TILE_K: 16, WG: 64 },
});
