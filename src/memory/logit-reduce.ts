import { uleb } from './simd-dot';

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

// ---- the kernel, assembled (see simd-dot.ts for the module around it)

// params 0–6: dots, n, T, ks, mask, rs, out; locals 7–9 (i32): r, t, row; 10–17 (v128): vmax, vsum, x, rsv, mv, fx, rr, p
const [DOTS, N, T, KS, MASK, RS, OUT, R, TT, ROW, VMAX, VSUM, X, RSV, MV, FX, RR, PP] = Array.from({ length: 18 }, (_, i) => i);

const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const i32 = (n: number) => [0x41, ...sleb(n)];
const v = (opcode: number) => [0xfd, ...uleb(opcode)];
const f32Bytes = (x: number) => Array.from(new Uint8Array(new Float32Array([x]).buffer));
/** An f32x4 constant with x in every lane. */
const splat = (x: number) => [0xfd, 0x0c, ...f32Bytes(x), ...f32Bytes(x), ...f32Bytes(x), ...f32Bytes(x)];

const I32_ADD = 0x6a, I32_MUL = 0x6c, I32_SHL = 0x74, I32_GE_U = 0x4f, I32_LT_U = 0x49;
const F32_ADD = 0x92, F32_MAX = 0x97;
const F32_LOAD = [0x2a, 2], F32_STORE = 0x38;
const V128_LOAD = [...v(0x00), 4, 0];
const V128_STORE = [...v(0x0b), 4, 0];
const F32X4 = { splat: 0x13, extract: 0x1f, add: 0xe4, sub: 0xe5, mul: 0xe6, max: 0xe9, nearest: 0x6a, fromI32: 0xfa };
const I32X4 = { splat: 0x11, add: 0xae, shl: 0xab, truncSat: 0xf8 };
const [BLOCK, LOOP, END, BR, BR_IF, VOID] = [0x02, 0x03, 0x0b, 0x0c, 0x0d, 0x40];

function sleb(n: number): number[] {
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

/** address base + t·4 */
const at = (base: number) => [...get(base), ...get(TT), ...i32(2), I32_SHL, I32_ADD];
const lane = (local: number, l: number) => [...get(local), ...v(F32X4.extract), l];
const step4 = [...get(TT), ...i32(4), I32_ADD, ...set(TT), ...get(TT), ...get(T), I32_LT_U, BR_IF, 0];

/** e^X on four lanes, left on the stack (expF32's operations in order). */
const exp4 = [
  ...get(X), ...splat(LOG2E), ...v(F32X4.mul), ...v(F32X4.nearest), ...set(FX),
  ...get(X), ...get(FX), ...splat(C1), ...v(F32X4.mul), ...v(F32X4.sub),
  ...get(FX), ...splat(C2), ...v(F32X4.mul), ...v(F32X4.sub), ...set(RR),
  ...splat(P[0]),
  ...P.slice(1).flatMap((c) => [...get(RR), ...v(F32X4.mul), ...splat(c), ...v(F32X4.add)]),
  ...set(PP),
  ...get(PP), ...get(RR), ...get(RR), ...v(F32X4.mul), ...v(F32X4.mul), ...get(RR), ...v(F32X4.add), ...splat(1), ...v(F32X4.add), ...set(PP),
  // 2^fx as bits: (fx + 127) << 23
  ...get(PP), ...get(FX), ...v(I32X4.truncSat), ...i32(127), ...v(I32X4.splat), ...v(I32X4.add), ...i32(23), ...v(I32X4.shl), ...v(F32X4.mul),
];

export const LOGIT_REDUCE_BODY = [
  // locals: 3 × i32, 8 × v128
  2, 3, 0x7f, 8, 0x7b,
  BLOCK, VOID, LOOP, VOID,
  ...get(R), ...get(N), I32_GE_U, BR_IF, 1,
  ...get(DOTS), ...get(R), ...get(T), I32_MUL, ...i32(2), I32_SHL, I32_ADD, ...set(ROW),
  ...get(RS), ...get(R), ...i32(2), I32_SHL, I32_ADD, ...F32_LOAD, 0, ...v(F32X4.splat), ...set(RSV),
  ...splat(-Infinity), ...set(VMAX),
  ...i32(0), ...set(TT),
  LOOP, VOID,
  ...at(ROW), ...V128_LOAD, ...v(F32X4.fromI32), ...get(RSV), ...v(F32X4.mul),
  ...at(KS), ...V128_LOAD, ...v(F32X4.mul),
  ...at(MASK), ...V128_LOAD, ...v(F32X4.add), ...set(X),
  ...at(ROW), ...get(X), ...V128_STORE,
  ...get(VMAX), ...get(X), ...v(F32X4.max), ...set(VMAX),
  ...step4,
  END,
  ...lane(VMAX, 0), ...lane(VMAX, 1), F32_MAX, ...lane(VMAX, 2), ...lane(VMAX, 3), F32_MAX, F32_MAX, ...v(F32X4.splat), ...set(MV),
  ...splat(0), ...set(VSUM), ...i32(0), ...set(TT),
  LOOP, VOID,
  ...at(ROW), ...V128_LOAD, ...get(MV), ...v(F32X4.sub), ...splat(CLAMP), ...v(F32X4.max), ...set(X),
  ...get(VSUM), ...exp4, ...v(F32X4.add), ...set(VSUM),
  ...step4,
  END,
  ...get(OUT), ...get(R), ...i32(3), I32_SHL, I32_ADD, ...lane(MV, 0), F32_STORE, 2, 0,
  ...get(OUT), ...get(R), ...i32(3), I32_SHL, I32_ADD,
  ...lane(VSUM, 0), ...lane(VSUM, 1), F32_ADD, ...lane(VSUM, 2), ...lane(VSUM, 3), F32_ADD, F32_ADD, F32_STORE, 2, 4,
  ...get(R), ...i32(1), I32_ADD, ...set(R),
  BR, 0,
  END, END,
  END,
];
