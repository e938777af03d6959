/**
 * IEEE half-precision conversion on the CPU. Node 20 has no Float16Array, and f16 tensors are
 * stored as raw 16-bit patterns (two per u32 word) so one layout serves both shader variants:
 * `array<f16>` where `shader-f16` exists and `array<u32>` + `unpack2x16float` where it does not.
 */
import { f16Kernel } from './f16-simd';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Round-to-nearest-even f32 → f16 bit pattern. */
export function f32ToF16Bits(value: number): number {
  f32[0] = value;
  return f32BitsToF16Bits(u32[0]);
}

/** The exact value of an f16 bit pattern (the definition; f16BitsToF32 reads it from a table). */
function f16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

// Every f16 value, indexed by its bit pattern (256 KiB, built on first use): a load converts
// hundreds of millions of weights, where computing each with 2 ** e costs ~40 ns and a lookup ~1.
let f16Table: Float32Array | null = null;
function table(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) f16Table[b] = f16Value(b);
  }
  return f16Table;
}

export function f16BitsToF32(bits: number): number {
  return table()[bits & 0xffff];
}

/** Packs values as f16 bit patterns; the result's byte length is padded to a multiple of 4. */
export function toF16Bits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length + (values.length & 1));
  if (values instanceof Float32Array) {
    f32ArrayToF16Bits(values, out);
    return out;
  }
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i]);
  return out;
}

/**
 * f32ToF16Bits over a whole array, into `out` from `outOffset`: the same rounding, read from the
 * f32 bit patterns directly (no per-element store and reload through a scratch Float32Array).
 */
export function f32ArrayToF16Bits(values: Float32Array, out: Uint16Array, outOffset = 0): void {
  const src = f32Bits(values);
  // a weight matrix at a time in WebAssembly SIMD where it compiles (f16-simd.ts: the same bits)
  roundF32BitsFrom(src, out, outOffset, simdPrefix(src, out, outOffset));
}

/** bf16 bit patterns rounded to f16 as f32ToF16Bits rounds them (bf16 → f32 is exact: a shift). */
export function bf16ArrayToF16Bits(bf16: Uint16Array, out: Uint16Array, outOffset = 0): void {
  roundBf16From(bf16, out, outOffset, simdPrefix(bf16, out, outOffset));
}

/** The plain loops of f32ArrayToF16Bits and bf16ArrayToF16Bits (the reference of the SIMD kernel). */
export function plainF32ArrayToF16Bits(values: Float32Array, out: Uint16Array, outOffset = 0): void {
  roundF32BitsFrom(f32Bits(values), out, outOffset, 0);
}

export function plainBf16ArrayToF16Bits(bf16: Uint16Array, out: Uint16Array, outOffset = 0): void {
  roundBf16From(bf16, out, outOffset, 0);
}

/** Shorter arrays stay in the plain loops: copying into the kernel's memory would cost more. */
const SIMD_FROM = 64;

/** Values the SIMD kernel converted from the start (a multiple of 8), or 0 where it does not run. */
function simdPrefix(bits: Uint32Array | Uint16Array, out: Uint16Array, outOffset: number): number {
  return bits.length >= SIMD_FROM ? (f16Kernel()?.convert(bits, out, outOffset) ?? 0) : 0;
}

const f32Bits = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);

function roundF32BitsFrom(src: Uint32Array, out: Uint16Array, outOffset: number, from: number): void {
  for (let i = from; i < src.length; i++) out[outOffset + i] = f32BitsToF16Bits(src[i]);
}

function roundBf16From(bf16: Uint16Array, out: Uint16Array, outOffset: number, from: number): void {
  for (let i = from; i < bf16.length; i++) out[outOffset + i] = f32BitsToF16Bits((bf16[i] << 16) >>> 0);
}

/** f32ToF16Bits of an f32 given as its bit pattern. */
function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && (r & 1))) r++;
    return sign | r;
  }
  let r = mant >>> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1))) {
    r++;
    if (r === 0x400) {
      r = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

export function fromF16Bits(bits: Uint16Array, count = bits.length): Float32Array {
  const out = new Float32Array(count);
  const t = table();
  for (let i = 0; i < count; i++) out[i] = t[bits[i]];
  return out;
}

/** Rounds each value through f16 and back: what an f16 tensor holds. */
export function roundToF16(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f16BitsToF32(f32ToF16Bits(values[i]));
  return out;
}
