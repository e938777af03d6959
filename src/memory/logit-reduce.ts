import { i32Const, locals, op, simd, v128Const } from '../wasm-asm';

/**
 * The second half of token-level ranking (int8-logits.ts): a row of integer dot products becomes
 * logits (dot · the row's scale · each token's key scale), and the row is reduced to its max and
 * Σ exp(logit − max) — the log-sum-exp's parts, and max-sim's max. Math.exp over every (question
 * token, head, frame token) was half of a question's ranking once the dot products ran in SIMD; here
 * exp is Cephes' single-precision polynomial (relative error ~2·10⁻⁷) on four lanes.
 *
 * Everything is f32 with a fixed order of operations, and `plainLogitReduce` repeats that order
 * with Math.fround after every operation, so the WebAssembly path and the plain one (a strict
 * Content-Security-Policy) give the same bits and rank the same frames.
 *
 * Rows are `T` long, T a multiple of 4: the frame's tokens, then padding whose key scale is 0 and
 * whose mask is −∞ (logit −∞, so it moves neither the max nor, after the clamp at −87.3, the sum:
 * e^−87.3 ≈ 1.2·10⁻³⁸ against a sum ≥ 1). The logits are written over the dots (same row, f32).
 *
 *   (func (export "reduce") (param $dots i32) (param $n i32) (param $T i32) (param $ks i32) (param $mask i32) (param $rs i32) (param $out i32)
 *     for r < n:
 *       x[t] = f32(dots[r·T + t]) · rs[r] · ks[t] + mask[t]        (4 lanes at a time, stored back)
 *       m = max over t of x[t]
 *       s[lane] = Σ over t ≡ lane (mod 4), in order, of exp(max(x[t] − m, −87.3))
 *       out[2r] = m;  out[2r + 1] = (s[0] + s[1]) + (s[2] + s[3])
 */

const f = Math.fround;
const LOG2E = f(Math.LOG2E);
const C1 = f(0.693359375);
const C2 = f(-2.12194440e-4);
const P = [1.987569150e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1].map(f);
const CLAMP = f(-87.3);

/** e^x for an f32 x in [−87.3, 0], in the kernel's operations and order. */
export function expF32(x: number): number {
  const fx = roundHalfEven(f(x * LOG2E));
  let r = f(x - f(fx * C1));
  r = f(r - f(fx * C2));
  let p = P[0];
  for (let i = 1; i < P.length; i++) p = f(f(p * r) + P[i]);
  p = f(f(f(p * f(r * r)) + r) + 1);
  return f(p * 2 ** fx);
}

/** f32x4.nearest: to the nearest integer, ties to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The kernel's reduction in plain JavaScript: `dots` rows [n, T] (read), `out` [n, 2] (written). */
export function plainLogitReduce(dots: Int32Array, n: number, T: number, ks: Float32Array, mask: Float32Array, rs: Float32Array, out: Float32Array): void {
  const x = new Float32Array(T);
  for (let r = 0; r < n; r++) {
    let m = -Infinity;
    for (let t = 0; t < T; t++) {
      x[t] = f(f(f(f(dots[r * T + t]) * rs[r]) * ks[t]) + mask[t]);
      if (x[t] > m) m = x[t];
    }
    const s = [0, 0, 0, 0];
    for (let t = 0; t < T; t++) s[t % 4] = f(s[t % 4] + expF32(Math.max(f(x[t] - m), CLAMP)));
    out[2 * r] = m;
    out[2 * r + 1] = f(f(s[0] + s[1]) + f(s[2] + s[3]));
  }
}

// ---- the kernel, assembled (wasm-asm.ts; int8-logits.ts puts it in its module)

// params 0–6: dots, n, T, ks, mask, rs, out; locals 7–9 (i32): r, t, row; 10–17 (v128): vmax, vsum, x, rsv, mv, fx, rr, p
const [DOTS, N, T, KS, MASK, RS, OUT, R, TT, ROW, VMAX, VSUM, X, RSV, MV, FX, RR, PP] = Array.from({ length: 18 }, (_, i) => i);

const f32Bytes = (x: number) => Array.from(new Uint8Array(new Float32Array([x]).buffer));
/** An f32x4 constant with x in every lane. */
const splat = (x: number) => v128Const([...f32Bytes(x), ...f32Bytes(x), ...f32Bytes(x), ...f32Bytes(x)]);

/** address base + t·4 */
const at = (base: number) => [op.get, base, op.get, TT, ...i32Const(2), op.i32Shl, op.i32Add];
const lane = (local: number, l: number) => [op.get, local, ...simd.f32x4ExtractLane, l];
const step4 = [op.get, TT, ...i32Const(4), op.i32Add, op.set, TT, op.get, TT, op.get, T, op.i32LtU, op.brIf, 0];

/** e^X on four lanes, left on the stack (expF32's operations in order). */
const exp4 = [
  op.get, X, ...splat(LOG2E), ...simd.f32x4Mul, ...simd.f32x4Nearest, op.set, FX,
  op.get, X, op.get, FX, ...splat(C1), ...simd.f32x4Mul, ...simd.f32x4Sub,
  op.get, FX, ...splat(C2), ...simd.f32x4Mul, ...simd.f32x4Sub, op.set, RR,
  ...splat(P[0]),
  ...P.slice(1).flatMap((c) => [op.get, RR, ...simd.f32x4Mul, ...splat(c), ...simd.f32x4Add]),
  op.set, PP,
  op.get, PP, op.get, RR, op.get, RR, ...simd.f32x4Mul, ...simd.f32x4Mul, op.get, RR, ...simd.f32x4Add, ...splat(1), ...simd.f32x4Add, op.set, PP,
  // 2^fx as bits: (fx + 127) << 23
  op.get, PP, op.get, FX, ...simd.i32x4TruncSatF32x4S, ...i32Const(127), ...simd.i32x4Splat, ...simd.i32x4Add, ...i32Const(23), ...simd.i32x4Shl, ...simd.f32x4Mul,
];

export const LOGIT_REDUCE_BODY = [
  ...locals(3, 8),
  op.block, op.void, op.loop, op.void,
  op.get, R, op.get, N, op.i32GeU, op.brIf, 1,
  op.get, DOTS, op.get, R, op.get, T, op.i32Mul, ...i32Const(2), op.i32Shl, op.i32Add, op.set, ROW,
  op.get, RS, op.get, R, ...i32Const(2), op.i32Shl, op.i32Add, op.f32Load, 2, 0, ...simd.f32x4Splat, op.set, RSV,
  ...splat(-Infinity), op.set, VMAX,
  ...i32Const(0), op.set, TT,
  op.loop, op.void,
  ...at(ROW), ...simd.v128Load, 4, 0, ...simd.f32x4ConvertI32x4S, op.get, RSV, ...simd.f32x4Mul,
  ...at(KS), ...simd.v128Load, 4, 0, ...simd.f32x4Mul,
  ...at(MASK), ...simd.v128Load, 4, 0, ...simd.f32x4Add, op.set, X,
  ...at(ROW), op.get, X, ...simd.v128Store, 4, 0,
  op.get, VMAX, op.get, X, ...simd.f32x4Max, op.set, VMAX,
  ...step4,
  op.end,
  ...lane(VMAX, 0), ...lane(VMAX, 1), op.f32Max, ...lane(VMAX, 2), ...lane(VMAX, 3), op.f32Max, op.f32Max, ...simd.f32x4Splat, op.set, MV,
  ...splat(0), op.set, VSUM, ...i32Const(0), op.set, TT,
  op.loop, op.void,
  ...at(ROW), ...simd.v128Load, 4, 0, op.get, MV, ...simd.f32x4Sub, ...splat(CLAMP), ...simd.f32x4Max, op.set, X,
  op.get, VSUM, ...exp4, ...simd.f32x4Add, op.set, VSUM,
  ...step4,
  op.end,
  op.get, OUT, op.get, R, ...i32Const(3), op.i32Shl, op.i32Add, ...lane(MV, 0), op.f32Store, 2, 0,
  op.get, OUT, op.get, R, ...i32Const(3), op.i32Shl, op.i32Add,
  ...lane(VSUM, 0), ...lane(VSUM, 1), op.f32Add, ...lane(VSUM, 2), ...lane(VSUM, 3), op.f32Add, op.f32Add, op.f32Store, 2, 4,
  op.get, R, ...i32Const(1), op.i32Add, op.set, R,
  op.br, 0,
  op.end, op.end,
  op.end,
];
