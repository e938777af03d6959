/**
 * What the host's WebAssembly SIMD kernels (the ranking path's memory/simd-dot.ts, int8-logits.ts,
 * logit-reduce.ts; the weight loader's gpu/f16-simd.ts) are assembled from: the encodings, the
 * opcodes they use, and the module around their functions.
 * The kernels are tiny, so they are written as instruction lists in TypeScript rather than shipped
 * as binary blobs or built with a toolchain; this is the one table of the bytes those lists name.
 */

/** Unsigned LEB128, as WebAssembly encodes sizes, counts, indices and SIMD opcodes. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128, as i32.const encodes its value. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A module section: its id, then its size. */
const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
/** A name as the import and export sections spell it (ASCII here). */
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** Core opcodes (one byte each); `void` is the empty block type, `i32` / `v128` value types of locals. */
export const op = {
  block: 0x02, loop: 0x03, br: 0x0c, brIf: 0x0d, end: 0x0b, void: 0x40, call: 0x10,
  get: 0x20, set: 0x21, i32Const: 0x41, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32Shl: 0x74, i32GeU: 0x4f, i32LtU: 0x49, i32Eqz: 0x45,
  i32Load: 0x28, i32Store: 0x36, f32Load: 0x2a, f32Store: 0x38, f32Add: 0x92, f32Max: 0x97,
  i32: 0x7f, v128: 0x7b,
};

// SIMD opcodes, after the 0xfd prefix
const SIMD_OPCODES = {
  v128Load: 0x00, v128Load8x8S: 0x01, v128Store: 0x0b, v128Const: 0x0c,
  i32x4Splat: 0x11, f32x4Splat: 0x13, i32x4ExtractLane: 0x1b, f32x4ExtractLane: 0x1f, f32x4Nearest: 0x6a,
  i32x4Shl: 0xab, i32x4Add: 0xae, i32x4DotI16x8S: 0xba, f32x4Add: 0xe4, f32x4Sub: 0xe5, f32x4Mul: 0xe6,
  f32x4Max: 0xe9, i32x4TruncSatF32x4S: 0xf8, f32x4ConvertI32x4S: 0xfa,
  i32x4LtU: 0x3a, i32x4GtU: 0x3c, i32x4GeU: 0x40, v128And: 0x4e, v128Or: 0x50, v128Bitselect: 0x52,
  i16x8NarrowI32x4U: 0x86, i32x4ExtendLowI16x8U: 0xa9, i32x4ExtendHighI16x8U: 0xaa, i32x4ShrU: 0xad,
  i32x4Sub: 0xb1, i32x4MinU: 0xb7,
} as const;

/** Each SIMD instruction's bytes: the 0xfd prefix, then its opcode as unsigned LEB128. */
export const simd = Object.fromEntries(Object.entries(SIMD_OPCODES).map(([k, code]) => [k, [0xfd, ...uleb(code)]])) as Record<keyof typeof SIMD_OPCODES, number[]>;

/** `i32.const n`. */
export const i32Const = (n: number) => [op.i32Const, ...sleb(n)];

/** A v128 constant of 16 bytes. */
export const v128Const = (bytes: readonly number[]) => [...simd.v128Const, ...bytes];

/** The locals declaration of a body: `i32s` i32 locals, then `v128s` v128 locals. */
export const locals = (i32s: number, v128s: number) => [2, i32s, op.i32, v128s, op.v128];

/**
 * A module of functions `(i32 × params) -> ()` exported under their names, over a memory imported
 * as env.mem. `body` is each function's locals declaration and instructions (without its size).
 */
export function simdModule(params: number, functions: readonly { name: string; body: readonly number[] }[]): Uint8Array<ArrayBuffer> {
  const n = functions.length;
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    // type 0: (i32 × params) -> ()
    ...section(1, [1, 0x60, params, ...new Array<number>(params).fill(op.i32), 0]),
    // import env.mem: memory, min 1 page
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]),
    ...section(3, [n, ...new Array<number>(n).fill(0)]),
    ...section(7, [n, ...functions.flatMap((f, i) => [...name(f.name), 0x00, i])]),
    ...section(10, [n, ...functions.flatMap((f) => [...uleb(f.body.length), ...f.body])]),
  ]);
}

/**
 * Compiles a SIMD module, or says why it cannot here: no WebAssembly, no SIMD, or a
 * Content-Security-Policy whose script-src lacks 'wasm-unsafe-eval' (a CompileError, or an
 * EvalError in some engines) — reported, not thrown, so callers fall back to their plain loops.
 */
export function compileSimd(bytes: Uint8Array<ArrayBuffer>): { module: WebAssembly.Module } | { reason: string } {
  if (typeof WebAssembly !== 'object') return { reason: 'no WebAssembly' };
  if (!WebAssembly.validate(bytes)) return { reason: 'no WebAssembly SIMD' };
  try {
    return { module: new WebAssembly.Module(bytes) };
  } catch (e) {
    return { reason: `WebAssembly compilation refused (${(e as Error)?.name}: a Content-Security-Policy needs 'wasm-unsafe-eval' in script-src)` };
  }
}
