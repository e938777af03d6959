import { compileSimd, i32Const, locals, op, simd, simdModule, v128Const } from '../wasm-asm';

/**
 * Dot products of one query vector with many f32 rows, in WebAssembly SIMD (f32x4): the host-side
 * part of retrieval. Ranking an hour of stored frames reads ~4 M floats per question; scalar
 * JavaScript does ~0.3 G multiply-adds/s there (one per ~8 cycles, no vector units), which made the
 * time to the first answer token grow with the stream. Four lanes and two accumulators bring it to
 * memory speed.
 *
 * The module is tiny, so it is assembled here from its instructions (wasm-asm.ts) rather than
 * shipped as a binary blob or pulled in through a toolchain. In text form:
 *
 *   (func (export "dots") (param $q i32) (param $rows i32) (param $n i32) (param $bytes i32) (param $out i32)
 *     ;; for r < n: out[r] = Σ q[i]·rows[r][i]; a row is $bytes long (a multiple of 32)
 *     (local $r i32) (local $i i32) (local $p i32) (local $a v128) (local $b v128)
 *     (block $done (loop $row
 *       (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
 *       (local.set $a (v128.const 0)) (local.set $b (v128.const 0)) (local.set $i (i32.const 0))
 *       (local.set $p (i32.add (local.get $rows) (i32.mul (local.get $r) (local.get $bytes))))
 *       (loop $col
 *         (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load (i32.add (local.get $q) (local.get $i)))
 *                                                           (v128.load (i32.add (local.get $p) (local.get $i))))))
 *         (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (i32.add (local.get $q) (local.get $i)))
 *                                                           (v128.load offset=16 (i32.add (local.get $p) (local.get $i))))))
 *         (local.set $i (i32.add (local.get $i) (i32.const 32)))
 *         (br_if $col (i32.lt_u (local.get $i) (local.get $bytes))))
 *       (local.set $a (f32x4.add (local.get $a) (local.get $b)))
 *       (f32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2)))
 *         (f32.add (f32.add (f32x4.extract_lane 0 (local.get $a)) (f32x4.extract_lane 1 (local.get $a)))
 *                  (f32.add (f32x4.extract_lane 2 (local.get $a)) (f32x4.extract_lane 3 (local.get $a)))))
 *       (local.set $r (i32.add (local.get $r) (i32.const 1)))
 *       (br $row)))
 *
 * with the memory imported as env.mem.
 */

// locals: 0 q, 1 rows, 2 n, 3 bytes, 4 out (params); 5 r, 6 i, 7 p (i32); 8 a, 9 b (v128)
const Q = 0;
const ROWS = 1;
const N = 2;
const BYTES = 3;
const OUT = 4;
const R = 5;
const I = 6;
const P = 7;
const A = 8;
const B = 9;

const v128Load = (offset: number) => [...simd.v128Load, 4, offset]; // align 2^4, offset < 128
const loadPair = (base: number, offset: number) => [op.get, base, op.get, I, op.i32Add, ...v128Load(offset)];
const lane = (l: number) => [op.get, A, ...simd.f32x4ExtractLane, l];
const zero = v128Const(new Array(16).fill(0));

const body = [
  ...locals(3, 2),
  op.block, op.void, op.loop, op.void,
  op.get, R, op.get, N, op.i32GeU, op.brIf, 1,
  ...zero, op.set, A, ...zero, op.set, B, ...i32Const(0), op.set, I,
  op.get, ROWS, op.get, R, op.get, BYTES, op.i32Mul, op.i32Add, op.set, P,
  op.loop, op.void,
  op.get, A, ...loadPair(Q, 0), ...loadPair(P, 0), ...simd.f32x4Mul, ...simd.f32x4Add, op.set, A,
  op.get, B, ...loadPair(Q, 16), ...loadPair(P, 16), ...simd.f32x4Mul, ...simd.f32x4Add, op.set, B,
  op.get, I, ...i32Const(32), op.i32Add, op.set, I,
  op.get, I, op.get, BYTES, op.i32LtU, op.brIf, 0,
  op.end,
  op.get, A, op.get, B, ...simd.f32x4Add, op.set, A,
  op.get, OUT, op.get, R, ...i32Const(2), op.i32Shl, op.i32Add,
  ...lane(0), ...lane(1), op.f32Add, ...lane(2), ...lane(3), op.f32Add, op.f32Add,
  op.f32Store, 2, 0,
  op.get, R, ...i32Const(1), op.i32Add, op.set, R,
  op.br, 0,
  op.end, op.end,
  op.end,
];

const MODULE = simdModule(5, [{ name: 'dots', body }]);

type DotsFn = (q: number, rows: number, n: number, bytes: number, out: number) => void;

/** Which ranking path runs here, and why the fast one does not. */
export type RankingPath = 'wasm-simd' | 'js';
let fallbackReason: string | null = null;

/**
 * The compiled module, or null where WebAssembly SIMD is missing (then callers use plain loops).
 * Compiling WebAssembly is refused by a Content-Security-Policy whose script-src lacks
 * 'wasm-unsafe-eval' (a CompileError, or an EvalError in some engines): that is the usual reason
 * on a strict page, and it is reported (rankingFallbackReason), not thrown. Compiled on first use,
 * not at import: the page imports this module's registry neighbours (settings name the retrieval
 * policies) without ranking anything, and must not attempt a compile its policy may refuse.
 */
let compiledModule: WebAssembly.Module | null | undefined;
function compiled(): WebAssembly.Module | null {
  if (compiledModule === undefined) compiledModule = compileSimdModule(MODULE);
  return compiledModule;
}

/**
 * Compiles a WebAssembly SIMD module of the ranking path, or null (with the reason kept for
 * rankingFallbackReason) where this realm has no WebAssembly, no SIMD, or a policy refusing compiles.
 */
export function compileSimdModule(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Module | null {
  const result = compileSimd(bytes);
  if ('module' in result) return result.module;
  fallbackReason = result.reason;
  return null;
}

/** Whether dot products run in WebAssembly SIMD in this realm (compiles the module on first call). */
export function simdAvailable(): boolean {
  return compiled() !== null;
}

/** The path ranking takes in this realm (the worker's, for the SDK). */
export function rankingPath(): RankingPath {
  return compiled() ? 'wasm-simd' : 'js';
}

/** Why ranking runs in plain JavaScript here, or null when it runs in WebAssembly SIMD. */
export function rankingFallbackReason(): string | null {
  compiled();
  return fallbackReason;
}

const PAGE = 65536;

/**
 * A growing matrix of f32 rows of one width in WebAssembly memory, with the query dot products
 * computed there. Views (`rows()`) are valid until the next append that grows it.
 */
export class RowMatrix {
  private memory: WebAssembly.Memory | null;
  private data: Float32Array;
  private count = 0;
  private readonly dotsFn: DotsFn | null;

  constructor(readonly width: number) {
    // the kernel takes 8 floats a step; other widths (no SmolVLM has them) use the plain loops
    const module = width % 8 === 0 ? compiled() : null;
    if (module) {
      this.memory = new WebAssembly.Memory({ initial: 1 });
      this.dotsFn = new WebAssembly.Instance(module, { env: { mem: this.memory } }).exports.dots as DotsFn;
      this.data = new Float32Array(this.memory.buffer);
    } else {
      this.memory = null;
      this.dotsFn = null;
      this.data = new Float32Array(64 * width);
    }
  }

  /** A matrix holding `rows` ([n, width], contiguous). */
  static from(rows: Float32Array, width: number): RowMatrix {
    const m = new RowMatrix(width);
    for (let r = 0; r < rows.length / width; r++) m.append().set(rows.subarray(r * width, (r + 1) * width));
    return m;
  }

  get length(): number {
    return this.count;
  }

  /** Rows 0 … length−1, contiguous. */
  rows(): Float32Array {
    return this.data.subarray(0, this.count * this.width);
  }

  /** Appends one row; returns it (a view, to fill in place). */
  append(): Float32Array {
    this.reserve((this.count + 1) * this.width, true);
    const row = this.data.subarray(this.count * this.width, (this.count + 1) * this.width);
    row.fill(0);
    this.count++;
    return row;
  }

  /** q · row for every row (q has `width` values). */
  dotAll(q: Float32Array): Float32Array {
    return this.dotRows(q, null);
  }

  /** q · row for the given rows (all rows when null). */
  dotRows(q: Float32Array, indices: Int32Array | null): Float32Array {
    const w = this.width;
    const n = indices ? indices.length : this.count;
    if (q.length !== w) throw new Error(`RowMatrix: a query of ${q.length} values for rows of ${w}`);
    if (!this.dotsFn) return plainDots(q, this.data, w, indices ?? rangeOf(n));
    // scratch after the rows: the query, then the results
    const qAt = this.count * w;
    const outAt = qAt + w;
    this.reserve(outAt + n, false);
    this.data.set(q, qAt);
    const bytes = w * 4;
    if (indices) for (let j = 0; j < n; j++) this.dotsFn(qAt * 4, indices[j] * bytes, 1, bytes, (outAt + j) * 4);
    else this.dotsFn(qAt * 4, 0, n, bytes, outAt * 4);
    return this.data.slice(outAt, outAt + n);
  }

  /** Room for `need` floats: rows grow by doubling (amortised appends), scratch by what it needs. */
  private reserve(need: number, doubling: boolean): void {
    if (need <= this.data.length) return;
    if (this.memory) {
      const bytes = Math.max(need * 4, doubling ? this.memory.buffer.byteLength * 2 : 0);
      this.memory.grow(Math.ceil((bytes - this.memory.buffer.byteLength) / PAGE));
      this.data = new Float32Array(this.memory.buffer);
    } else {
      const grown = new Float32Array(Math.max(need, this.data.length * 2));
      grown.set(this.data.subarray(0, this.count * this.width));
      this.data = grown;
    }
  }
}

function rangeOf(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** The same dot products in plain JavaScript (where WebAssembly SIMD is missing). */
export function plainDots(q: Float32Array, rows: Float32Array, width: number, indices: Int32Array): Float32Array {
  const out = new Float32Array(indices.length);
  for (let j = 0; j < indices.length; j++) {
    const base = indices[j] * width;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < width; i += 4) {
      s0 += q[i] * rows[base + i];
      s1 += q[i + 1] * rows[base + i + 1];
      s2 += q[i + 2] * rows[base + i + 2];
      s3 += q[i + 3] * rows[base + i + 3];
    }
    out[j] = s0 + s1 + s2 + s3;
  }
  return out;
}
