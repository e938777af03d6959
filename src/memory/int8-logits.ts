import { compileSimdModule, name, section, uleb } from './simd-dot';

/**
 * The inner loop of token-level ranking (attention-keys.ts): integer dot products of a question's
 * query rows, quantized to int16, with one frame's int8 keys. Scalar JavaScript does ~0.3 G of
 * these multiply-adds a second, so the ranking budget (retriever.ts, 3·10⁸) cost ~1.1 s a question
 * in Chromium on the H100 machine's CPU (the 20,000-frame soak, bench/RESULTS.md); WebAssembly
 * SIMD's i32x4.dot_i16x8_s does eight a step on sign-extended int8 loads.
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

const op = {
  block: 0x02, loop: 0x03, br: 0x0c, brIf: 0x0d, end: 0x0b, void: 0x40,
  get: 0x20, set: 0x21, i32Const: 0x41, i32Add: 0x6a, i32Mul: 0x6c, i32Shl: 0x74, i32GeU: 0x4f, i32LtU: 0x49,
  i32Store: 0x36, simd: 0xfd,
};
// SIMD opcodes after the 0xfd prefix (unsigned LEB128)
const simd = { load: [0x00], load8x8s: [0x01], const: [0x0c], i32x4ExtractLane: [0x1b], i32x4Add: uleb(0xae), i32x4DotI16x8s: uleb(0xba) };

const zero = [op.simd, ...simd.const, ...new Array(16).fill(0)];
const lane = (l: number) => [op.get, ACC, op.simd, ...simd.i32x4ExtractLane, l];
const addTo = (local: number, n: number) => [op.get, local, op.i32Const, n, op.i32Add, op.set, local];

const body = [
  // locals: 5 × i32, 1 × v128
  2, 5, 0x7f, 1, 0x7b,
  op.block, op.void, op.loop, op.void,
  op.get, R, op.get, N, op.i32GeU, op.brIf, 1,
  op.get, Q, op.get, R, op.get, HD, op.i32Mul, op.i32Const, 1, op.i32Shl, op.i32Add, op.set, QROW,
  op.i32Const, 0, op.set, TT,
  op.block, op.void, op.loop, op.void,
  op.get, TT, op.get, T, op.i32GeU, op.brIf, 1,
  op.get, K, op.get, TT, op.get, STRIDE, op.i32Mul, op.i32Add, op.set, KROW,
  ...zero, op.set, ACC, op.i32Const, 0, op.set, I,
  op.loop, op.void,
  op.get, ACC,
  op.get, QROW, op.get, I, op.i32Const, 1, op.i32Shl, op.i32Add, op.simd, ...simd.load, 1, 0,
  op.get, KROW, op.get, I, op.i32Add, op.simd, ...simd.load8x8s, 0, 0,
  op.simd, ...simd.i32x4DotI16x8s, op.simd, ...simd.i32x4Add, op.set, ACC,
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

const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  // type 0: (i32 × 7) -> ()
  ...section(1, [1, 0x60, 7, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
  ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]),
  ...section(3, [1, 0]),
  ...section(7, [1, ...name('dots'), 0x00, 0]),
  ...section(10, [1, ...uleb(body.length), ...body]),
]);

type DotsFn = (q: number, n: number, k: number, tokens: number, stride: number, headDim: number, out: number) => void;

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

/**
 * One question's int16 query rows against frame after frame of int8 keys: `setQueries` once, then
 * per frame `loadKeys` and `dots` for each run of rows (one KV group's). In WebAssembly memory where
 * SIMD compiles and headDim is a multiple of 8, plain loops otherwise; the same integers either way.
 */
export class Int8Logits {
  private readonly dotsFn: DotsFn | null;
  private readonly memory: WebAssembly.Memory | null;
  private queries: Int16Array = new Int16Array(0);
  private keys: Int8Array = new Int8Array(0);
  private keysAt = 0;
  private outAt = 0;

  constructor(readonly headDim: number) {
    if (compiledModule === undefined) compiledModule = compileSimdModule(MODULE);
    const module = headDim % 8 === 0 ? compiledModule : null;
    if (module) {
      this.memory = new WebAssembly.Memory({ initial: 1 });
      this.dotsFn = new WebAssembly.Instance(module, { env: { mem: this.memory } }).exports.dots as DotsFn;
    } else {
      this.memory = null;
      this.dotsFn = null;
    }
  }

  /** Whether the dot products run in WebAssembly SIMD. */
  get simd(): boolean {
    return this.dotsFn !== null;
  }

  /** The question's rows, int16 [rows, headDim]; frames' keys follow them in memory. */
  setQueries(codes: Int16Array): void {
    if (codes.length % this.headDim !== 0) throw new RangeError(`Int8Logits: ${codes.length} query values are not rows of ${this.headDim}`);
    if (!this.memory) {
      this.queries = codes;
      return;
    }
    this.keysAt = codes.byteLength;
    this.ensure(this.keysAt);
    new Int16Array(this.memory.buffer, 0, codes.length).set(codes);
  }

  /** One frame's int8 keys [tokens, stride] (copied next to the queries). */
  loadKeys(codes: Int8Array): void {
    if (!this.memory) {
      this.keys = codes;
      return;
    }
    // results after the keys, aligned for int32 stores
    this.outAt = this.keysAt + Math.ceil(codes.length / 16) * 16;
    this.ensure(this.outAt);
    new Int8Array(this.memory.buffer, this.keysAt, codes.length).set(codes);
  }

  /**
   * For query rows rowStart … rowStart+rowCount−1 and the loaded frame's tokens 0 … tokens−1:
   * Σ_d q[row][d] · keys[t·stride + offset + d], as [rowCount, tokens] int32. The result is a view
   * valid until the next call.
   */
  dots(tokens: number, stride: number, offset: number, rowStart: number, rowCount: number): Int32Array {
    const hd = this.headDim;
    if (!this.memory || !this.dotsFn) return plainInt8Dots(this.queries, this.keys, hd, tokens, stride, offset, rowStart, rowCount);
    const outBytes = rowCount * tokens * 4;
    this.ensure(this.outAt + outBytes);
    this.dotsFn(rowStart * hd * 2, rowCount, this.keysAt + offset, tokens, stride, hd, this.outAt);
    return new Int32Array(this.memory.buffer, this.outAt, rowCount * tokens);
  }

  private ensure(bytes: number): void {
    const memory = this.memory!;
    if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
  }
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
