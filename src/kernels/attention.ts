import { InputError } from '../errors';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { MASK_KINDS, attentionDecodeKernel, attentionPrefillKernel, type AttentionDefine } from './attention-kernels';
import { dispatchKernel, grid, threadsFor, type Precision } from './common';
import { applyRope, type RopeTable } from './rope';

/**
 * Which keys a query sees. Query i sits at cache index qStart + i.
 * - `bidirectional`: every valid key (the vision tower).
 * - `causal`: keys j ≤ qStart + i.
 * - `sinks-window`: causal, and only the first `sinks` keys or the last `window` (j > qStart + i − window).
 */
export type AttentionMask = 'bidirectional' | 'causal' | 'sinks-window';

/** The `mask_kind` uniform of each mask (the shaders compare it with the MASK_* constants of their contract). */
const MASK_CODE: Record<AttentionMask, number> = { bidirectional: MASK_KINDS.MASK_BIDIRECTIONAL, causal: MASK_KINDS.MASK_CAUSAL, 'sinks-window': MASK_KINDS.MASK_SINKS_WINDOW };

export interface AttentionOptions {
  mask: AttentionMask;
  /** Valid keys S (the cache buffers may be larger). Default: k.shape[0]. */
  keys?: number;
  /** Cache index of query 0 for the causal masks. Default: keys − Tq (the queries are the newest keys). */
  qStart?: number;
  /** `sinks-window`: the first `sinks` keys are always visible. */
  sinks?: number;
  /** `sinks-window`: the `window` most recent keys (the query's own included) are visible. */
  window?: number;
  /** Score scale. Default 1/√D. */
  scale?: number;
  /**
   * RoPE of the cached keys, which are stored before RoPE: key j is rotated to `kPositions[j]`
   * ([≥ S] u32, each < rope.maxPositions) while it is read. Give both or neither (no RoPE: SigLIP).
   */
  kPositions?: Tensor;
  rope?: RopeTable;
  /**
   * Rotate q here (RoPE from these positions, [≥ Tq] u32) instead of passing it rotated: the decode
   * kernel rotates each query as it reads it (no separate dispatch), the prefill kernel's path
   * rotates q in place first. Needs `rope`. q's contents afterwards are unspecified.
   */
  qPositions?: Tensor;
  /**
   * f32 scratch for per-split partial results (at least `attentionScratchElements(...)` elements).
   * Without it the keys are not split: correct, but a long cache then runs on few workgroups.
   */
  scratch?: Tensor;
  /**
   * Decode kernel only: when the keys are split into at most this many splits, leave the split
   * partials in `scratch` for the next kernel to merge as it reads them (matvec's `attention`
   * fusion) instead of recording `combine`; the call then returns them and `out` is not written.
   * Without a split, or with more splits (0 or absent: always), `out` is written as usual and the
   * call returns null.
   */
  deferCombine?: number;
}

/**
 * A decode's split partials, left unmerged (AttentionOptions.deferCombine): [Tq·Hq, splits, D/4 + 1]
 * vec4 in `partials`, and the thread groups (`groups`) `combine` would have used, whose order of
 * additions a fused merge repeats to give the same bits.
 */
export interface SplitPartials {
  partials: Tensor;
  splits: number;
  headDim: number;
  groups: number;
}

export interface PrefillOptions extends AttentionOptions {
  /** Force the number of key splits (tuning, tests); default: enough workgroups to fill a large GPU. */
  splits?: number;
}

export interface DecodeOptions extends AttentionOptions {
  /** Force the keys per workgroup (tuning, tests); default: the cache in at most attentionTuning.decodeMaxChunks chunks. */
  keysPerChunk?: number;
}

/**
 * Tuning knobs, exported so benchmarks can sweep them. Chosen on an H100 (Dawn, Vulkan): 64 rows beat
 * 128 by ~15% on frame-sized prefills (80 queries × 4096 keys) and tie on 1024²; splitting to ~1024
 * workgroups gives 1.2–17× over no split; ≤128 decode chunks was fastest at 4096 keys, within 4% of
 * the best at 32768.
 * - prefillRows: threads (= query rows) per prefill workgroup.
 * - prefillTargetWorkgroups: with scratch, keys are split until about this many workgroups run,
 *   each split at least prefillMinTilesPerSplit tiles long, at most prefillMaxSplits splits.
 * - decodeMaxChunks: a decode cuts the cache into at most this many chunks (one workgroup each per kv head).
 */
export const attentionTuning = {
  prefillRows: 64,
  prefillTargetWorkgroups: 1024,
  prefillMaxSplits: 16,
  prefillMinTilesPerSplit: 4,
  decodeMaxChunks: 128,
};

/** Keys per prefill tile (a multiple of 4): the K and V tiles hold 4·TILE_VEC4 = 2048 f32 each (32 keys at D = 64). */
export function prefillKeysPerTile(headDim: number): number {
  return 4 * Math.floor((4 * attentionPrefillKernel.constants.TILE_VEC4) / headDim / 4);
}

/** Keys per decode tile: the K and V tiles hold 4·TILE_VEC4 = 1024 f32 each (16 keys at D = 64, 8 at D = 128), at most 32. */
export function decodeKeysPerTile(headDim: number): number {
  return Math.min(32, Math.floor((4 * attentionDecodeKernel.constants.TILE_VEC4) / headDim));
}

/** Rows (queries × q heads per kv head) the decode kernel takes at once. */
export function decodeMaxRows(headDim: number): number {
  const { MAX_ROWS, ACC_SLOTS, WG } = attentionDecodeKernel.constants;
  return Math.min(MAX_ROWS, ACC_SLOTS * Math.floor(WG / (headDim / 4)));
}

interface Geometry {
  tq: number;
  hq: number;
  hkv: number;
  headDim: number;
  keys: number;
  qStart: number;
  /** Keys any query can see: causal masks end at qStart + Tq. */
  reach: number;
  precision: Precision;
  kvPacked: boolean;
  rope: boolean;
}

function validate(kernel: string, q: Tensor, k: Tensor, v: Tensor, out: Tensor, o: AttentionOptions): Geometry {
  const fail = (msg: string): never => {
    throw new InputError(`${kernel}: ${msg}`);
  };
  if (q.shape.length !== 3) fail(`q must be [Tq, Hq, D], got [${q.shape.join(', ')}]`);
  if (k.shape.length !== 3 || v.shape.length !== 3) fail(`k and v must be [S, Hkv, D], got [${k.shape.join(', ')}] and [${v.shape.join(', ')}]`);
  const [tq, hq, headDim] = q.shape;
  const [capacity, hkv] = k.shape;
  if (k.shape.join() !== v.shape.join()) fail(`k [${k.shape.join(', ')}] and v [${v.shape.join(', ')}] differ`);
  if (k.shape[2] !== headDim) fail(`q has head dimension ${headDim}, k ${k.shape[2]}`);
  if (headDim % 8 || headDim > 128 || headDim <= 0) fail(`head dimension must be a multiple of 8 up to 128, got ${headDim}`);
  if (hkv <= 0 || hq % hkv) fail(`${hq} query heads are not a multiple of ${hkv} kv heads`);
  if (out.shape.join() !== q.shape.join()) fail(`out [${out.shape.join(', ')}] must match q [${q.shape.join(', ')}]`);
  if (q.dtype !== 'f32' && q.dtype !== 'f16') fail(`q must be f32 or f16, got ${q.dtype}`);
  if (out.dtype !== q.dtype) fail(`out is ${out.dtype}, q is ${q.dtype}`);
  const precision = q.dtype as Precision;
  if (k.dtype !== v.dtype) fail(`k is ${k.dtype}, v is ${v.dtype}`);
  // f16 caches also serve f32 math (read as packed pairs), halving cache memory where shader-f16 is missing
  const kvPacked = precision === 'f32' && k.dtype === 'f16';
  if (k.dtype !== precision && !kvPacked) fail(`k/v are ${k.dtype}; with ${precision} math they must be ${precision}${precision === 'f32' ? ' or f16' : ''}`);

  const keys = o.keys ?? capacity;
  if (!Number.isInteger(keys) || keys < 0 || keys > capacity) fail(`keys = ${keys} must be an integer in [0, ${capacity}]`);
  const qStart = o.qStart ?? keys - tq;
  if (o.mask !== 'bidirectional' && (!Number.isInteger(qStart) || qStart < 0)) fail(`qStart = ${qStart} must be a non-negative integer (default keys − Tq)`);
  if (!(o.mask in MASK_CODE)) fail(`unknown mask '${o.mask}'`);
  if (o.mask === 'sinks-window') {
    if (!Number.isInteger(o.sinks) || o.sinks! < 0) fail(`sinks-window needs sinks ≥ 0, got ${o.sinks}`);
    if (!Number.isInteger(o.window) || o.window! < 1) fail(`sinks-window needs window ≥ 1, got ${o.window}`);
  }
  if ((o.kPositions === undefined) !== (o.rope === undefined)) fail('give kPositions and rope together, or neither (no RoPE)');
  if (o.kPositions && o.rope) {
    if (o.kPositions.dtype !== 'u32') fail(`kPositions must be u32, got ${o.kPositions.dtype}`);
    if (o.kPositions.size < keys) fail(`kPositions holds ${o.kPositions.size} positions for ${keys} keys`);
    if (o.rope.headDim !== headDim) fail(`the RoPE table is for head dimension ${o.rope.headDim}, not ${headDim}`);
  }
  if (o.qPositions) {
    if (!o.rope) fail('qPositions (rotate q here) needs rope');
    if (o.qPositions.dtype !== 'u32' || o.qPositions.size < tq) fail(`qPositions must be u32 [≥ ${tq}], got ${o.qPositions.dtype} [${o.qPositions.size}]`);
  }
  if (o.scratch && o.scratch.dtype !== 'f32') fail(`scratch must be f32, got ${o.scratch.dtype}`);
  if (o.scale !== undefined && !Number.isFinite(o.scale)) fail(`scale must be finite, got ${o.scale}`);
  const reach = o.mask === 'bidirectional' ? keys : Math.min(keys, qStart + tq);
  return { tq, hq, hkv, headDim, keys, qStart: Math.max(0, qStart), reach, precision, kvPacked, rope: !!o.rope };
}

function uniforms(g: Geometry, o: AttentionOptions, keysPerSplit: number, splits: number) {
  return {
    tq: g.tq,
    keys: g.keys,
    hq: g.hq,
    hkv: g.hkv,
    q_start: g.qStart,
    mask_kind: MASK_CODE[o.mask],
    sinks: o.sinks ?? 0,
    window: o.window ?? 1,
    scale: o.scale ?? 1 / Math.sqrt(g.headDim),
    keys_per_split: keysPerSplit,
    splits,
    max_positions: o.rope?.maxPositions ?? 1,
  };
}

/** The bindings of one prefill or decode dispatch: RoPE inputs when rotating, `out` or (split) `partials`. */
function bindings(q: Tensor, k: Tensor, v: Tensor, out: Tensor, o: AttentionOptions, split: boolean) {
  const rope = o.kPositions && o.rope ? { k_positions: o.kPositions, rope_table: o.rope.tensor } : {};
  return { q, k, v, ...rope, ...(split ? { partials: o.scratch! } : { out }) };
}

function scratchElements(g: { tq: number; hq: number; headDim: number }, splits: number): number {
  return g.tq * g.hq * splits * (g.headDim + 4);
}

function checkScratch(kernel: string, scratch: Tensor, needed: number): void {
  if (scratch.size < needed) {
    throw new InputError(`${kernel}: scratch holds ${scratch.size} f32, this call needs ${needed} (see attentionScratchElements)`);
  }
}

interface Split {
  keysPerSplit: number;
  splits: number;
}

function prefillSplit(g: Geometry, hasScratch: boolean, forced?: number): Split {
  const tile = prefillKeysPerTile(g.headDim);
  const tiles = Math.max(1, Math.ceil(g.reach / tile));
  let wanted = 1;
  if (forced !== undefined) {
    if (!Number.isInteger(forced) || forced < 1) throw new InputError(`attentionPrefill: splits must be a positive integer, got ${forced}`);
    wanted = forced;
  } else if (hasScratch) {
    const t = attentionTuning;
    const workgroups = Math.ceil((g.tq * (g.hq / g.hkv)) / t.prefillRows) * g.hkv;
    wanted = Math.min(Math.ceil(t.prefillTargetWorkgroups / workgroups), Math.ceil(tiles / t.prefillMinTilesPerSplit), t.prefillMaxSplits);
  }
  if (wanted <= 1) return { keysPerSplit: Math.max(1, g.keys), splits: 1 };
  const keysPerSplit = Math.ceil(tiles / wanted) * tile;
  return { keysPerSplit, splits: Math.max(1, Math.ceil(g.reach / keysPerSplit)) };
}

function decodeSplit(g: Geometry, hasScratch: boolean, forced?: number): Split {
  const tile = decodeKeysPerTile(g.headDim);
  if (forced !== undefined) {
    if (!Number.isInteger(forced) || forced < 1) throw new InputError(`attentionDecode: keysPerChunk must be a positive integer, got ${forced}`);
    return { keysPerSplit: forced, splits: Math.max(1, Math.ceil(g.reach / forced)) };
  }
  if (!hasScratch) return { keysPerSplit: Math.max(1, g.keys), splits: 1 };
  const tiles = Math.max(1, Math.ceil(g.reach / tile));
  const keysPerSplit = Math.ceil(tiles / attentionTuning.decodeMaxChunks) * tile;
  return { keysPerSplit, splits: Math.max(1, Math.ceil(g.reach / keysPerSplit)) };
}

function defines(g: Geometry, split: boolean, rotateQ = false): Record<AttentionDefine, boolean> {
  return { KV_PACKED: g.kvPacked, ROPE: g.rope, SPLIT: split, ROTATE_Q: rotateQ };
}

/**
 * Threads of a `combine` workgroup: the fewest (a power of two) that give every split a group of
 * HEAD_DIM/4 threads, at most the kernel's WG. Any count with a group per split gives the same
 * bits (the shader's note); with few splits (a frame's prefill: 2) the WG's 128 threads mostly
 * wait at its barriers, which a CPU adapter pays per thread.
 */
export function combineThreads(splits: number, headDim: number): number {
  return threadsFor(splits * (headDim / 4), 1, attentionDecodeKernel.constants.WG);
}

function combine(rec: CommandRecorder, g: Geometry, o: AttentionOptions, s: Split, out: Tensor, scratch: Tensor): void {
  const overrides = { HEAD_DIM: g.headDim, COMBINE_THREADS: combineThreads(s.splits, g.headDim) };
  const call = { precision: g.precision, variant: defines(g, true), overrides, entryPoint: 'combine' };
  dispatchKernel(rec, attentionDecodeKernel, call, uniforms(g, o, s.keysPerSplit, s.splits), { out, partials: scratch }, grid(rec.gpu, g.tq * g.hq));
}

/**
 * Flash-style attention for many queries: out = softmax(Q·Kᵀ·scale + mask)·V with grouped-query heads
 * (q head h reads kv head h / (Hq/Hkv)).
 * q, out: [Tq, Hq, D] activations (q already rotated); k, v: [capacity, Hkv, D], first `keys` valid,
 * k before RoPE (rotated here from `kPositions` when `rope` is given). Precision follows q's dtype;
 * with f32 math, k/v may also be f16. D a multiple of 8 up to 128.
 * With `scratch`, keys are split across workgroups when Tq·Hq alone gives too few (1–2 dispatches).
 */
export function attentionPrefill(rec: CommandRecorder, q: Tensor, k: Tensor, v: Tensor, out: Tensor, options: PrefillOptions): void {
  const g = validate('attentionPrefill', q, k, v, out, options);
  if (options.qPositions) applyRope(rec, q, options.qPositions, options.rope!, q);
  if (options.splits !== undefined && options.splits > 1 && !options.scratch) throw new InputError('attentionPrefill: splits > 1 needs scratch');
  const s = prefillSplit(g, !!options.scratch, options.splits);
  const split = s.splits > 1;
  if (split) checkScratch('attentionPrefill', options.scratch!, scratchElements(g, s.splits));
  const rows = attentionTuning.prefillRows;
  const rowTiles = Math.ceil((g.tq * (g.hq / g.hkv)) / rows);
  const limit = rec.gpu.limits.maxComputeWorkgroupsPerDimension;
  if (rowTiles > limit || s.splits > limit) throw new InputError(`attentionPrefill: ${g.tq} queries need ${rowTiles} workgroups, over this GPU's ${limit}`);
  const call = { precision: g.precision, variant: defines(g, split), overrides: { HEAD_DIM: g.headDim, ROWS: rows, KEYS_PER_TILE: prefillKeysPerTile(g.headDim) } };
  const workgroups = [rowTiles, g.hkv, s.splits] as const;
  dispatchKernel(rec, attentionPrefillKernel, call, uniforms(g, options, s.keysPerSplit, s.splits), bindings(q, k, v, out, options, split), workgroups);
  if (split) combine(rec, g, options, s, out, options.scratch!);
}

/**
 * Attention for a few queries against a long cache, split over keys: each workgroup takes one
 * (key chunk, kv head) for all Tq·G rows of that kv head, then a small kernel merges the chunks
 * (the merge is skipped when there is one chunk). Same layouts and options as attentionPrefill;
 * Tq·(Hq/Hkv) must be at most decodeMaxRows(D) (32 for D = 64). Pass `scratch` for long caches.
 */
export function attentionDecode(rec: CommandRecorder, q: Tensor, k: Tensor, v: Tensor, out: Tensor, options: DecodeOptions): SplitPartials | null {
  const g = validate('attentionDecode', q, k, v, out, options);
  const rows = g.tq * (g.hq / g.hkv);
  if (rows > decodeMaxRows(g.headDim)) {
    throw new InputError(`attentionDecode: Tq·Hq/Hkv = ${rows} rows, at most ${decodeMaxRows(g.headDim)}; use attentionPrefill`);
  }
  const s = decodeSplit(g, !!options.scratch, options.keysPerChunk);
  const split = s.splits > 1;
  if (split) {
    if (!options.scratch) throw new InputError('attentionDecode: keysPerChunk shorter than the cache needs scratch');
    checkScratch('attentionDecode', options.scratch, scratchElements(g, s.splits));
  }
  if (s.splits > rec.gpu.limits.maxComputeWorkgroupsPerDimension) throw new InputError(`attentionDecode: ${s.splits} chunks is over this GPU's dispatch limit`);
  const rotateQ = !!options.qPositions;
  const call = { precision: g.precision, variant: defines(g, split, rotateQ), overrides: { HEAD_DIM: g.headDim, KEYS_PER_TILE: decodeKeysPerTile(g.headDim) } };
  const bound = { ...bindings(q, k, v, out, options, split), ...(rotateQ ? { q_positions: options.qPositions, rope_table: options.rope!.tensor } : {}) };
  dispatchKernel(rec, attentionDecodeKernel, call, uniforms(g, options, s.keysPerSplit, s.splits), bound, [s.splits, g.hkv]);
  if (!split) return null;
  if (s.splits <= (options.deferCombine ?? 0)) return { partials: options.scratch!, splits: s.splits, headDim: g.headDim, groups: Math.floor(combineThreads(s.splits, g.headDim) / (g.headDim / 4)) };
  combine(rec, g, options, s, out, options.scratch!);
  return null;
}

/** Whether `attention()` takes the decode kernel for these sizes. */
export function usesDecodeKernel(tq: number, hq: number, hkv: number, headDim: number): boolean {
  return tq * (hq / hkv) <= decodeMaxRows(headDim);
}

/**
 * f32 elements of scratch that `attention()` (and the two kernels with their default splits) may need
 * for these sizes. It grows with `keys` up to a cap; size the scratch for the largest call.
 */
export function attentionScratchElements(sizes: AttentionSizes): number {
  const { splits } = defaultSplit(sizes).split;
  return splits > 1 ? scratchElements(sizes, splits) : 0;
}

/**
 * How `attention()` splits the keys for these sizes (causal, from the first key): which kernel, keys
 * a split, splits. Within one value the commands it records differ only in values that move with
 * the number of keys; a step plan's key (gpu/step-plan.ts, TextModel.decodeStepKey).
 */
export function attentionSplitKey(sizes: AttentionSizes): string {
  const { decode, split } = defaultSplit(sizes);
  return `${decode ? 'decode' : 'prefill'} ${split.keysPerSplit}/${split.splits}`;
}

type AttentionSizes = { tq: number; hq: number; hkv: number; headDim: number; keys: number };

/** The kernel `attention()` takes for these sizes (causal, from the first key, with scratch) and its default key split. */
function defaultSplit(sizes: AttentionSizes): { decode: boolean; split: Split } {
  const g = { ...sizes, reach: sizes.keys } as Geometry;
  const decode = usesDecodeKernel(sizes.tq, sizes.hq, sizes.hkv, sizes.headDim);
  return { decode, split: decode ? decodeSplit(g, true) : prefillSplit(g, true) };
}

/**
 * Picks the decode kernel for few rows (Tq·Hq/Hkv ≤ decodeMaxRows), the prefill kernel otherwise.
 * Returns the unmerged partials where `deferCombine` left them (decode kernel, split keys), else null.
 */
export function attention(rec: CommandRecorder, q: Tensor, k: Tensor, v: Tensor, out: Tensor, options: AttentionOptions): SplitPartials | null {
  const [tq, hq, headDim] = q.shape;
  const hkv = k.shape[1];
  if (q.shape.length === 3 && k.shape.length === 3 && hkv > 0 && usesDecodeKernel(tq, hq, hkv, headDim)) {
    return attentionDecode(rec, q, k, v, out, options);
  }
  attentionPrefill(rec, q, k, v, out, options);
  return null;
}
