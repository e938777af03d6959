import { LOGIT_REDUCE_BODY, plainLogitReduce } from './logit-reduce';
import { compileSimdModule } from './simd-dot';
import { i32Const, locals, op, simd, simdModule, uleb, v128Const } from '../wasm-asm';

/**
 * The inner loop of token-level ranking (attention-keys.ts): integer dot products of a question's
 * query rows, quantized to int16, with every stored frame's int8 keys, followed by the logit
 * reduction of logit-reduce.ts. Scalar JavaScript does ~0.3 G multiply-adds a second, so the ranking
 * budget (retriever.ts, 3·10⁸) cost ~1.1 s a question in Chromium on the H100 machine's CPU (the
 * 20,000-frame soak, bench/RESULTS.md); WebAssembly SIMD's i32x4.dot_i16x8_s does eight a step on
 * sign-extended int8 loads.
 *
 * Integer dots are exact, so the WebAssembly path and the plain loop (where SIMD or compiling is
 * refused) return the same numbers and rank the same frames. Queries are quantized per row to
 * int16 (a relative error of 1.5·10⁻⁵ of the row's largest value, far below the keys' int8 steps).
 *
 * In text form (memory imported as env.mem):
 *
 *   (func (export "dots") (param $q i32) (param $n i32) (param $k i32) (param $T i32) (param $stride i32) (param $hd i32) (param $out i32)
 *     ;; for r < n, t < T: out[r·T + t] = Σ_{i<hd} q[r·hd + i] · k[t·stride + i]   (q int16, k int8, out int32; hd a multiple of 8)
 *     (local $r i32) (local $t i32) (local $i i32) (local $qrow i32) (local $krow i32) (local $acc v128)
 *     (block $done (loop $row
 *       (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
 *       (local.set $qrow (i32.add (local.get $q) (i32.shl (i32.mul (local.get $r) (local.get $hd)) (i32.const 1))))
 *       (local.set $t (i32.const 0))
 *       (block $tdone (loop $tok
 *         (br_if $tdone (i32.ge_u (local.get $t) (local.get $T)))
 *         (local.set $krow (i32.add (local.get $k) (i32.mul (local.get $t) (local.get $stride))))
 *         (local.set $acc (v128.const 0)) (local.set $i (i32.const 0))
 *         (loop $col
 *           (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s
 *             (v128.load (i32.add (local.get $qrow) (i32.shl (local.get $i) (i32.const 1))))
 *             (v128.load8x8_s (i32.add (local.get $krow) (local.get $i))))))
 *           (local.set $i (i32.add (local.get $i) (i32.const 8)))
 *           (br_if $col (i32.lt_u (local.get $i) (local.get $hd))))
 *         (i32.store (local.get $out) (lane 0 + lane 1 + lane 2 + lane 3 of $acc))
 *         (local.set $out (i32.add (local.get $out) (i32.const 4)))
 *         (local.set $t (i32.add (local.get $t) (i32.const 1)))
 *         (br $tok)))
 *       (local.set $r (i32.add (local.get $r) (i32.const 1)))
 *       (br $row)))
 */

// params 0–6: q, n, k, T, stride, hd, out; locals 7–11 (i32): r, t, i, qrow, krow; 12 (v128): acc
const [Q, N, K, T, STRIDE, HD, OUT, R, TT, I, QROW, KROW, ACC] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

const lane = (l: number) => [op.get, ACC, ...simd.i32x4ExtractLane, l];
const addTo = (local: number, n: number) => [op.get, local, ...i32Const(n), op.i32Add, op.set, local];

const body = [
  ...locals(5, 1),
  op.block, op.void, op.loop, op.void,
  op.get, R, op.get, N, op.i32GeU, op.brIf, 1,
  op.get, Q, op.get, R, op.get, HD, op.i32Mul, ...i32Const(1), op.i32Shl, op.i32Add, op.set, QROW,
  ...i32Const(0), op.set, TT,
  op.block, op.void, op.loop, op.void,
  op.get, TT, op.get, T, op.i32GeU, op.brIf, 1,
  op.get, K, op.get, TT, op.get, STRIDE, op.i32Mul, op.i32Add, op.set, KROW,
  ...v128Const(new Array(16).fill(0)), op.set, ACC, ...i32Const(0), op.set, I,
  op.loop, op.void,
  op.get, ACC,
  op.get, QROW, op.get, I, ...i32Const(1), op.i32Shl, op.i32Add, ...simd.v128Load, 1, 0,
  op.get, KROW, op.get, I, op.i32Add, ...simd.v128Load8x8S, 0, 0,
  ...simd.i32x4DotI16x8S, ...simd.i32x4Add, op.set, ACC,
  ...addTo(I, 8),
  op.get, I, op.get, HD, op.i32LtU, op.brIf, 0,
  op.end,
  op.get, OUT, ...lane(0), ...lane(1), op.i32Add, ...lane(2), ...lane(3), op.i32Add, op.i32Add, op.i32Store, 2, 0,
  ...addTo(OUT, 4),
  ...addTo(TT, 1),
  op.br, 0,
  op.end, op.end,
  ...addTo(R, 1),
  op.br, 0,
  op.end, op.end,
  op.end,
];

/**
 * `frames`: dots and reduce for many frames in one call, so a first pass over tens of thousands of
 * frames (one row a KV group, a few thousand multiply-adds a frame) does not cross from JavaScript
 * into WebAssembly twice a group a frame. The same calls with the same arguments as `frame` makes,
 * so the same bits.
 *
 *   (func (export "frames") (param $table i32) (param $count i32) (param $hdr i32) …
 *     ;; hdr: i32 [kvHeads, hd, stride, q, rowScales, dots, out, rowBytes, groupStart[0 … kvHeads]]
 *     ;; table: i32 [count, 4]: each frame's slot, T4, key scales and mask (byte offsets)
 *     for f < count, g < kvHeads with rows (start = groupStart[g], n = groupStart[g+1] − start):
 *       dots(q + start·hd·2, n, slot + g·hd, T4, stride, hd, dots)
 *       reduce(dots, n, T4, keyScales + g·T4·4, mask, rowScales + start·4, out + f·rowBytes + start·8))
 */
// params 0–2: table, count, hdr (3–6 unused); locals 7–24 (i32)
const [TABLE, COUNT, HDR] = [0, 1, 2];
const [F, G, E, SLOT, T4, KS, MASK, OUTF, START, CNT, KVH, HDV, STRIDEV, QAT, SAT, DAT, OAT, RB] = Array.from({ length: 18 }, (_, i) => 7 + i);
const load = (offset: number) => [op.i32Load, 2, ...uleb(offset)];
const framesBody = [
  ...locals(18, 0),
  ...[KVH, HDV, STRIDEV, QAT, SAT, DAT, OAT, RB].flatMap((local, j) => [op.get, HDR, ...load(j * 4), op.set, local]),
  ...i32Const(0), op.set, F,
  op.block, op.void, op.loop, op.void,
  op.get, F, op.get, COUNT, op.i32GeU, op.brIf, 1,
  op.get, TABLE, op.get, F, ...i32Const(4), op.i32Shl, op.i32Add, op.set, E,
  ...[SLOT, T4, KS, MASK].flatMap((local, j) => [op.get, E, ...load(j * 4), op.set, local]),
  op.get, OAT, op.get, F, op.get, RB, op.i32Mul, op.i32Add, op.set, OUTF,
  ...i32Const(0), op.set, G,
  op.block, op.void, op.loop, op.void,
  op.get, G, op.get, KVH, op.i32GeU, op.brIf, 1,
  op.get, HDR, op.get, G, ...i32Const(2), op.i32Shl, op.i32Add, ...load(32), op.set, START,
  op.get, HDR, op.get, G, ...i32Const(2), op.i32Shl, op.i32Add, ...load(36), op.get, START, op.i32Sub, op.set, CNT,
  op.block, op.void,
  op.get, CNT, op.i32Eqz, op.brIf, 0,
  op.get, QAT, op.get, START, op.get, HDV, op.i32Mul, ...i32Const(1), op.i32Shl, op.i32Add,
  op.get, CNT,
  op.get, SLOT, op.get, G, op.get, HDV, op.i32Mul, op.i32Add,
  op.get, T4, op.get, STRIDEV, op.get, HDV, op.get, DAT,
  op.call, 0,
  op.get, DAT, op.get, CNT, op.get, T4,
  op.get, KS, op.get, G, op.get, T4, op.i32Mul, ...i32Const(2), op.i32Shl, op.i32Add,
  op.get, MASK,
  op.get, SAT, op.get, START, ...i32Const(2), op.i32Shl, op.i32Add,
  op.get, OUTF, op.get, START, ...i32Const(3), op.i32Shl, op.i32Add,
  op.call, 1,
  op.end,
  ...addTo(G, 1),
  op.br, 0,
  op.end, op.end,
  ...addTo(F, 1),
  op.br, 0,
  op.end, op.end,
  op.end,
];

// the functions take (i32 × 7); their indices are their order here (frames calls 0 and 1)
const MODULE = simdModule(7, [
  { name: 'dots', body },
  { name: 'reduce', body: LOGIT_REDUCE_BODY },
  { name: 'frames', body: framesBody },
]);

type DotsFn = (q: number, n: number, k: number, tokens: number, stride: number, headDim: number, out: number) => void;
type ReduceFn = (dots: number, n: number, tokens: number, ks: number, mask: number, rs: number, out: number) => void;
type FramesFn = (table: number, count: number, header: number) => void;

let compiledModule: WebAssembly.Module | null | undefined;

/** Query rows [rows, headDim] quantized to int16, one scale per row: code · scale ≈ value. */
export interface Int16Rows {
  codes: Int16Array;
  scales: Float32Array;
}

/** Quantizes each of `rows` rows of `headDim` values to int16 with its own scale (max |value| / 32767). */
export function quantizeRowsInt16(values: Float32Array, headDim: number): Int16Rows {
  const rows = values.length / headDim;
  const codes = new Int16Array(values.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let d = 0; d < headDim; d++) max = Math.max(max, Math.abs(values[r * headDim + d]));
    const scale = max / 32767;
    scales[r] = scale;
    const inv = scale > 0 ? 1 / scale : 0;
    for (let d = 0; d < headDim; d++) codes[r * headDim + d] = Math.round(values[r * headDim + d] * inv);
  }
  return { codes, scales };
}

const PAGE = 65536;
/** Frames a `frames` call takes: its table and results (20 B and 8 B a row a frame) stay a few MB. */
export const FRAMES_PER_CALL = 4096;
const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** Where a frame's keys are kept: byte offset, its tokens, and those rounded up to 4. */
interface Slot {
  at: number;
  tokens: number;
  t4: number;
}

/**
 * Every stored frame's int8 keys at the retrieval layer, kept where the ranking kernels read them,
 * and the question's rows against them: `storeFrame` as frames arrive; per question `setQuestion`,
 * then `frame(i)` for each frame to score, which gives every row's logit max and
 * Σ exp(logit − max) (logit-reduce.ts). In WebAssembly memory where SIMD compiles and headDim is a
 * multiple of 8, otherwise in an ArrayBuffer of the same layout read by the plain loops; the same
 * bits either way.
 *
 * Keeping the keys in the kernels' memory, rather than copying each frame in per question, is what
 * makes a first pass over tens of thousands of frames cheap: it reads them in place.
 *
 * Layout: frame slots one after another — int8 codes [T4, kvHeads·headDim] (zero past the tokens),
 * key scales f32 [kvHeads, T4] (zero past them), mask f32 [T4] (−∞ past them), T4 being the tokens
 * rounded up to 4 — then the question's scratch: int16 rows, their f32 scales, the dots / logits of
 * one KV group's rows, the results [rows, 2].
 */
export class Int8Logits {
  private readonly dotsFn: DotsFn | null;
  private readonly reduceFn: ReduceFn | null;
  private readonly framesFn: FramesFn | null;
  private readonly memory: WebAssembly.Memory | null;
  /** The plain path's memory (grown by copying). */
  private plain: ArrayBuffer | null = null;
  private readonly slots: (Slot | undefined)[] = [];
  private used = 0;
  private slotBytes = 0;
  private maxT4 = 4;
  private viewsOf: { buffer: ArrayBuffer; i8: Int8Array; i16: Int16Array; i32: Int32Array; f32: Float32Array } | null = null;
  // the question's scratch: offsets, and the rows of each KV group
  private rows = 0;
  private queriesAt = 0;
  private scalesAt = 0;
  private dotsAt = 0;
  private outAt = 0;

  constructor(
    readonly headDim: number,
    readonly kvHeads: number,
  ) {
    if (compiledModule === undefined) compiledModule = compileSimdModule(MODULE);
    const module = headDim % 8 === 0 ? compiledModule : null;
    if (module) {
      this.memory = new WebAssembly.Memory({ initial: 1 });
      const exports = new WebAssembly.Instance(module, { env: { mem: this.memory } }).exports;
      this.dotsFn = exports.dots as DotsFn;
      this.reduceFn = exports.reduce as ReduceFn;
      this.framesFn = exports.frames as FramesFn;
    } else {
      this.memory = null;
      this.dotsFn = null;
      this.reduceFn = null;
      this.framesFn = null;
      this.plain = new ArrayBuffer(PAGE);
    }
  }

  /** Whether the work runs in WebAssembly SIMD. */
  get simd(): boolean {
    return this.dotsFn !== null;
  }

  /** Bytes of the frames' slots (codes and scales padded to 4 tokens, and their masks). */
  get bytes(): number {
    return this.slotBytes;
  }

  /**
   * Keeps frame i's keys: `codes` int8 [tokens, kvHeads·headDim] with `keyScales` [tokens, kvHeads].
   * A frame kept again with as many tokens is rewritten in place; with another count it takes a new
   * slot (the old one's bytes are not reused).
   */
  storeFrame(i: number, codes: Int8Array, keyScales: Float32Array, tokens: number): void {
    const { headDim: hd, kvHeads } = this;
    const stride = kvHeads * hd;
    if (!Number.isInteger(tokens) || tokens < 1 || codes.length !== tokens * stride || keyScales.length !== tokens * kvHeads) throw new RangeError(`Int8Logits: keys of ${codes.length} and scales of ${keyScales.length} for ${tokens} tokens of ${kvHeads}·${hd}`);
    const t4 = Math.ceil(tokens / 4) * 4;
    let slot = this.slots[i];
    if (!slot || slot.t4 !== t4) {
      const size = slotSize(t4, stride, kvHeads);
      if (slot) this.slotBytes -= slotSize(slot.t4, stride, kvHeads);
      slot = { at: this.used, tokens, t4 };
      this.used += size;
      this.slotBytes += size;
      this.ensure(this.used, true);
      this.slots[i] = slot;
    }
    slot.tokens = tokens;
    this.maxT4 = Math.max(this.maxT4, t4);
    const { i8, f32 } = this.views();
    i8.set(codes, slot.at);
    i8.fill(0, slot.at + codes.length, slot.at + t4 * stride);
    const parts = slotParts(slot, stride, kvHeads);
    const ksAt = parts.scalesAt >> 2;
    for (let g = 0; g < kvHeads; g++) {
      for (let t = 0; t < tokens; t++) f32[ksAt + g * t4 + t] = keyScales[t * kvHeads + g];
      f32.fill(0, ksAt + g * t4 + tokens, ksAt + (g + 1) * t4);
    }
    const maskAt = parts.maskAt >> 2;
    f32.fill(0, maskAt, maskAt + tokens);
    f32.fill(-Infinity, maskAt + tokens, maskAt + t4);
  }

  has(i: number): boolean {
    return this.slots[i] !== undefined;
  }

  /**
   * The question: int16 query rows [rows, headDim], gathered so each KV group's rows are one run,
   * and each row's scale (its int16 step times 1/√headDim: logit = dot · rowScale · key scale).
   * Valid until the next storeFrame.
   */
  setQuestion(codes: Int16Array, rowScales: Float32Array): void {
    const rows = codes.length / this.headDim;
    if (!Number.isInteger(rows) || rowScales.length !== rows) throw new RangeError(`Int8Logits: ${codes.length} query values and ${rowScales.length} scales are not rows of ${this.headDim}`);
    this.rows = rows;
    this.queriesAt = align16(this.used);
    this.scalesAt = align16(this.queriesAt + codes.byteLength);
    this.dotsAt = align16(this.scalesAt + rows * 4);
    this.outAt = align16(this.dotsAt + rows * this.maxT4 * 4);
    this.ensure(this.outAt + rows * 8, false);
    const { i16, f32 } = this.views();
    i16.set(codes, this.queriesAt >> 1);
    f32.set(rowScales, this.scalesAt >> 2);
  }

  /**
   * Frame i against the question, whose rows of KV group g are groupStart[g] … groupStart[g+1]−1.
   * Returns [rows, 2]: each row's logit max and Σ exp(logit − max), a view valid until the next call.
   */
  frame(i: number, groupStart: Int32Array): Float32Array {
    const slot = this.slots[i];
    if (!slot) throw new RangeError(`Int8Logits: frame ${i} has no keys`);
    const { headDim: hd, kvHeads } = this;
    const stride = kvHeads * hd;
    const { t4 } = slot;
    const { scalesAt: ksAt, maskAt } = slotParts(slot, stride, kvHeads);
    const { i8, i16, f32 } = this.views();
    for (let g = 0; g < kvHeads; g++) {
      const start = groupStart[g];
      const count = groupStart[g + 1] - start;
      if (count === 0) continue;
      if (this.dotsFn && this.reduceFn) {
        this.dotsFn(this.queriesAt + start * hd * 2, count, slot.at + g * hd, t4, stride, hd, this.dotsAt);
        this.reduceFn(this.dotsAt, count, t4, ksAt + g * t4 * 4, maskAt, this.scalesAt + start * 4, this.outAt + start * 8);
      } else {
        const queries = i16.subarray(this.queriesAt >> 1, (this.queriesAt >> 1) + this.rows * hd);
        const dots = plainInt8Dots(queries, i8.subarray(slot.at, slot.at + t4 * stride), hd, t4, stride, g * hd, start, count);
        const f = (at: number, n: number) => f32.subarray(at >> 2, (at >> 2) + n);
        plainLogitReduce(dots, count, t4, f(ksAt + g * t4 * 4, t4), f(maskAt, t4), f(this.scalesAt + start * 4, count), f(this.outAt + start * 8, count * 2));
      }
    }
    return f32.subarray(this.outAt >> 2, (this.outAt >> 2) + this.rows * 2);
  }

  /**
   * `frame` for each listed frame, in one call into WebAssembly where SIMD runs (elsewhere frame
   * by frame): [frames, rows, 2], each frame's rows as `frame` returns them, the same bits. A view
   * valid until the next call; at most FRAMES_PER_CALL frames a call.
   */
  frames(list: ArrayLike<number>, groupStart: Int32Array): Float32Array {
    const count = list.length;
    if (count > FRAMES_PER_CALL) throw new RangeError(`Int8Logits: ${count} frames in one call; at most ${FRAMES_PER_CALL}`);
    const rowBytes = this.rows * 8;
    if (!this.framesFn) {
      const out = new Float32Array(count * this.rows * 2);
      for (let n = 0; n < count; n++) out.set(this.frame(list[n], groupStart), n * this.rows * 2);
      return out;
    }
    const { headDim: hd, kvHeads } = this;
    const stride = kvHeads * hd;
    const headerAt = align16(this.outAt + rowBytes);
    const tableAt = align16(headerAt + (8 + kvHeads + 1) * 4);
    const statsAt = align16(tableAt + count * 16);
    this.ensure(statsAt + count * rowBytes, false);
    const { i32, f32 } = this.views();
    i32.set([kvHeads, hd, stride, this.queriesAt, this.scalesAt, this.dotsAt, statsAt, rowBytes], headerAt >> 2);
    i32.set(groupStart.subarray(0, kvHeads + 1), (headerAt >> 2) + 8);
    for (let n = 0; n < count; n++) {
      const slot = this.slots[list[n]];
      if (!slot) throw new RangeError(`Int8Logits: frame ${list[n]} has no keys`);
      const { scalesAt, maskAt } = slotParts(slot, stride, kvHeads);
      const e = (tableAt >> 2) + n * 4;
      i32[e] = slot.at;
      i32[e + 1] = slot.t4;
      i32[e + 2] = scalesAt;
      i32[e + 3] = maskAt;
    }
    this.framesFn(tableAt, count, headerAt);
    return f32.subarray(statsAt >> 2, (statsAt >> 2) + count * this.rows * 2);
  }

  /**
   * The integer dot products alone, for the question's rows rowStart … rowStart+rowCount−1 and
   * `tokens` rows of `keys` [tokens, stride] read at `offset`: [rowCount, tokens] int32 (the kernel
   * `frame` runs first; exposed to test it against plainInt8Dots). Uses the scratch after the question.
   */
  dots(keys: Int8Array, tokens: number, stride: number, offset: number, rowStart: number, rowCount: number): Int32Array {
    const hd = this.headDim;
    const keysAt = align16(this.outAt + this.rows * 8);
    const dotsAt = align16(keysAt + keys.length);
    this.ensure(dotsAt + rowCount * tokens * 4, false);
    const { i8, i16, i32 } = this.views();
    i8.set(keys, keysAt);
    if (!this.dotsFn) return plainInt8Dots(i16.subarray(this.queriesAt >> 1, (this.queriesAt >> 1) + this.rows * hd), keys, hd, tokens, stride, offset, rowStart, rowCount);
    this.dotsFn(this.queriesAt + rowStart * hd * 2, rowCount, keysAt + offset, tokens, stride, hd, dotsAt);
    return i32.slice(dotsAt >> 2, (dotsAt >> 2) + rowCount * tokens);
  }

  /** Room for `bytes`: doubling for slots (amortised appends), as needed for scratch. */
  private ensure(bytes: number, doubling: boolean): void {
    const current = this.memory ? this.memory.buffer.byteLength : this.plain!.byteLength;
    if (bytes <= current) return;
    // wasm32 memory ends at 4 GiB (the keys of ~270,000 SmolVLM2-256M frames)
    const limit = 65536 * PAGE;
    if (bytes > limit) throw new RangeError(`Int8Logits: ${bytes} bytes of retrieval keys exceed the 4 GiB a WebAssembly memory can hold`);
    const want = Math.min(limit, Math.max(bytes, doubling ? current * 2 : 0));
    if (this.memory) {
      this.memory.grow(Math.ceil((want - current) / PAGE));
    } else {
      const grown = new ArrayBuffer(Math.ceil(want / PAGE) * PAGE);
      new Uint8Array(grown).set(new Uint8Array(this.plain!));
      this.plain = grown;
    }
  }

  /** Views of the whole memory, made again after it grows. */
  private views() {
    const buffer = this.memory ? this.memory.buffer : this.plain!;
    if (this.viewsOf?.buffer !== buffer) this.viewsOf = { buffer, i8: new Int8Array(buffer), i16: new Int16Array(buffer), i32: new Int32Array(buffer), f32: new Float32Array(buffer) };
    return this.viewsOf;
  }
}

/** Bytes Int8Logits keeps for a frame of `tokens` tokens (its `bytes` is their sum over the frames kept). */
export function keptFrameBytes(tokens: number, kvHeads: number, headDim: number): number {
  return slotSize(Math.ceil(tokens / 4) * 4, kvHeads * headDim, kvHeads);
}

/** Byte offsets of a slot's key scales [kvHeads, T4] and mask [T4] (after its codes). */
function slotParts(slot: Slot, stride: number, kvHeads: number): { scalesAt: number; maskAt: number } {
  const scalesAt = slot.at + align16(slot.t4 * stride);
  return { scalesAt, maskAt: scalesAt + kvHeads * slot.t4 * 4 };
}

/** Bytes of a frame slot of t4 tokens: codes, key scales, mask. */
function slotSize(t4: number, stride: number, kvHeads: number): number {
  return align16(align16(t4 * stride) + kvHeads * t4 * 4 + t4 * 4);
}

/** The same integer dot products in plain JavaScript. */
export function plainInt8Dots(queries: Int16Array, keys: Int8Array, hd: number, tokens: number, stride: number, offset: number, rowStart: number, rowCount: number): Int32Array {
  const out = new Int32Array(rowCount * tokens);
  for (let r = 0; r < rowCount; r++) {
    const qo = (rowStart + r) * hd;
    for (let t = 0; t < tokens; t++) {
      const ko = t * stride + offset;
      let dot = 0;
      for (let d = 0; d < hd; d++) dot += queries[qo + d] * keys[ko + d];
      out[r * tokens + t] = dot;
    }
  }
  return out;
}
