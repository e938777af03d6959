/**
 * f32 and bf16 → f16 bit patterns in WebAssembly SIMD, for the weight loader: a SmolVLM2 checkpoint
 * is bf16 (the hub's) or f32 (exports, fixtures), f16 weights are what the GPU keeps, and the
 * plain loop (f16.ts) costs ~6 ns a value: 1.5 s of a 256M model's load on one core. Same rounding
 * as f32BitsToF16Bits (round to nearest even; overflow to ±inf; NaN → 0x7e00 with its sign), bit
 * for bit on every input (e2e/unit/f16-simd.spec.ts: every bf16 pattern, and f32 patterns across
 * the whole range and at every boundary).
 *
 * Each lane of four f32 bit patterns x, with a = x & 0x7fffffff:
 *   normal  (a ≥ 2^-14, 0x38800000):  min_u((a − 0x38000000 + 0xfff + bit 13 of a) >> 13, 0x7c00)
 *           (rebias the exponent, round the 13 dropped bits to even — a carry moves the exponent —
 *           and anything at or past 65520 becomes inf)
 *   small   (a < 2^-14: f16 subnormals and zeros): bits(f32(a) + 0.5) − bits(0.5), since adding
 *           0.5 puts 2^-24, the f16 subnormal step, at the f32 ulp and the addition rounds to even
 *   inf/NaN (a ≥ 0x7f800000): 0x7c00, or 0x7e00 for a NaN
 * then the sign (x >> 16 & 0x8000), and eight results narrowed to u16 into one store.
 *
 * Where the compile is refused (wasm-asm.ts compileSimd: e.g. a Content-Security-Policy without
 * 'wasm-unsafe-eval'), the plain loop runs.
 */
import { compileSimd, i32Const, locals, op, simd, simdModule, v128Const } from '../wasm-asm';

// locals: 0 src, 1 dst, 2 n (params: byte addresses, values, n a multiple of 8); 3 end (i32);
// 4 x, 5 a, 6 r (v128)
const SRC = 0;
const DST = 1;
const N = 2;
const END = 3;
const X = 4;
const A = 5;
const R = 6;

const splat = (n: number) => v128Const(Array.from({ length: 16 }, (_, i) => (n >>> (8 * (i % 4))) & 0xff));
const load = (offset: number) => [op.get, SRC, ...simd.v128Load, 4, offset];

/** Converts the f32 bit patterns in local X to f16 bit patterns in four i32 lanes, left on the stack. */
const convertX = [
  op.get, X, ...splat(0x7fffffff), ...simd.v128And, op.set, A,
  // small: bits(f32(a) + 0.5) − 0x3f000000
  op.get, A, ...splat(0x3f000000), ...simd.f32x4Add, ...splat(0x3f000000), ...simd.i32x4Sub,
  // normal: min_u((a − 0x38000000 + 0xfff + ((a >> 13) & 1)) >> 13, 0x7c00)
  op.get, A, ...splat(0x38000000), ...simd.i32x4Sub, ...splat(0xfff), ...simd.i32x4Add,
  op.get, A, ...i32Const(13), ...simd.i32x4ShrU, ...splat(1), ...simd.v128And, ...simd.i32x4Add,
  ...i32Const(13), ...simd.i32x4ShrU, ...splat(0x7c00), ...simd.i32x4MinU,
  // a < 0x38800000 ? small : normal
  op.get, A, ...splat(0x38800000), ...simd.i32x4LtU, ...simd.v128Bitselect, op.set, R,
  // a ≥ 0x7f800000 ? (a > 0x7f800000 ? 0x7e00 : 0x7c00) : r
  ...splat(0x7e00), ...splat(0x7c00), op.get, A, ...splat(0x7f800000), ...simd.i32x4GtU, ...simd.v128Bitselect,
  op.get, R, op.get, A, ...splat(0x7f800000), ...simd.i32x4GeU, ...simd.v128Bitselect,
  // | sign
  op.get, X, ...i32Const(16), ...simd.i32x4ShrU, ...splat(0x8000), ...simd.v128And, ...simd.v128Or,
];

/** The loop around eight values a step: `firstFour` / `lastFour` leave the step's first and last four f32 bit patterns on the stack. */
function converter(firstFour: number[], lastFour: number[], srcBytesPerStep: number): number[] {
  return [
    ...locals(1, 3),
    op.get, DST, op.get, N, op.get, N, op.i32Add, op.i32Add, op.set, END,
    op.block, op.void, op.loop, op.void,
    op.get, DST, op.get, END, op.i32GeU, op.brIf, 1,
    op.get, DST,
    ...firstFour, op.set, X, ...convertX,
    ...lastFour, op.set, X, ...convertX,
    ...simd.i16x8NarrowI32x4U,
    ...simd.v128Store, 4, 0,
    op.get, SRC, ...i32Const(srcBytesPerStep), op.i32Add, op.set, SRC,
    op.get, DST, ...i32Const(16), op.i32Add, op.set, DST,
    op.br, 0,
    op.end, op.end,
    op.end,
  ];
}

const MODULE_BYTES = simdModule(3, [
  // f32: two loads of four
  { name: 'f32', body: converter(load(0), load(16), 32) },
  // bf16: one load of eight u16, widened and shifted up to f32 bit patterns (exact)
  {
    name: 'bf16',
    body: converter(
      [...load(0), ...simd.i32x4ExtendLowI16x8U, ...i32Const(16), ...simd.i32x4Shl],
      [...load(0), ...simd.i32x4ExtendHighI16x8U, ...i32Const(16), ...simd.i32x4Shl],
      16,
    ),
  },
]);

type ConvertFn = (src: number, dst: number, n: number) => void;

/** Values converted per call: the arena holds this many inputs (4 bytes each) and outputs (2). */
const CHUNK = 1 << 18;

class F16Kernel {
  private readonly memory = new WebAssembly.Memory({ initial: (CHUNK * 6) / 65536 });
  private readonly f32Fn: ConvertFn;
  private readonly bf16Fn: ConvertFn;

  constructor(module: WebAssembly.Module) {
    const exports = new WebAssembly.Instance(module, { env: { mem: this.memory } }).exports;
    this.f32Fn = exports.f32 as ConvertFn;
    this.bf16Fn = exports.bf16 as ConvertFn;
  }

  /** Converts the first n − n % 8 values of `bits` (u32 f32 patterns or u16 bf16 ones) into `out`. */
  convert(bits: Uint32Array | Uint16Array, out: Uint16Array, outOffset: number): number {
    const whole = bits.length - (bits.length % 8);
    const fn = bits instanceof Uint32Array ? this.f32Fn : this.bf16Fn;
    const input = bits instanceof Uint32Array ? new Uint32Array(this.memory.buffer, 0, CHUNK) : new Uint16Array(this.memory.buffer, 0, CHUNK);
    const dst = CHUNK * 4;
    const output = new Uint16Array(this.memory.buffer, dst, CHUNK);
    for (let at = 0; at < whole; at += CHUNK) {
      const n = Math.min(CHUNK, whole - at);
      input.set(bits.subarray(at, at + n));
      fn(0, dst, n);
      out.set(output.subarray(0, n), outOffset + at);
    }
    return whole;
  }
}

let kernel: F16Kernel | null | undefined;

/** The SIMD converter, or null where WebAssembly SIMD is missing or a policy refuses compiling it. */
export function f16Kernel(): F16Kernel | null {
  if (kernel === undefined) {
    const compiled = compileSimd(MODULE_BYTES);
    try {
      kernel = 'module' in compiled ? new F16Kernel(compiled.module) : null;
    } catch {
      kernel = null; // no memory for its arena: the plain loop
    }
  }
  return kernel;
}

/** Whether f16 conversion runs in WebAssembly SIMD here ('wasm-simd') or in plain JavaScript. */
export function f16ConversionPath(): 'wasm-simd' | 'js' {
  return f16Kernel() ? 'wasm-simd' : 'js';
}
