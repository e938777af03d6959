import { expect, test } from '@playwright/test';
import { bf16ArrayToF16Bits, f32ArrayToF16Bits, plainBf16ArrayToF16Bits, plainF32ArrayToF16Bits } from '../../src/gpu/f16';
import { f16ConversionPath } from '../../src/gpu/f16-simd';
import { Random } from '../../src/reference/random';

// The weight loader's f32/bf16 → f16 conversion in WebAssembly SIMD (gpu/f16-simd.ts) against the
// plain loop it replaces, bit for bit: every bf16 pattern, f32 patterns spread over the whole
// 32-bit range, every boundary of the kernel's three cases (f16 subnormals, normals with the carry
// into the exponent and the overflow to inf, inf/NaN) with both signs, lengths that are not
// multiples of its 8 values a step, past its 2^18-value chunk, and at an offset into the output.

function firstMismatch(a: Uint16Array, b: Uint16Array, input: ArrayLike<number>): string | null {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `at ${i}: input 0x${(input[i] >>> 0).toString(16)} → SIMD 0x${a[i].toString(16)}, plain 0x${b[i].toString(16)}`;
  return null;
}

function checkF32(bits: Uint32Array, offset = 0): void {
  const values = new Float32Array(bits.buffer, bits.byteOffset, bits.length);
  const simd = new Uint16Array(bits.length + offset);
  const plain = new Uint16Array(bits.length + offset);
  f32ArrayToF16Bits(values, simd, offset);
  plainF32ArrayToF16Bits(values, plain, offset);
  expect(firstMismatch(simd.subarray(offset), plain.subarray(offset), bits)).toBeNull();
  expect(simd.subarray(0, offset).every((v) => v === 0)).toBe(true);
}

test('the converter runs in WebAssembly SIMD here', () => {
  expect(f16ConversionPath()).toBe('wasm-simd');
});

test('bf16 → f16: every one of the 65,536 patterns as the plain loop rounds it', () => {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const simd = new Uint16Array(65536);
  const plain = new Uint16Array(65536);
  bf16ArrayToF16Bits(all, simd);
  plainBf16ArrayToF16Bits(all, plain);
  expect(firstMismatch(simd, plain, all)).toBeNull();
});

test('f32 → f16: patterns across the whole range, and every boundary of the three cases', () => {
  // 2^24 patterns, one in every 256 of all 2^32, the low 8 bits varied by a hash of the index
  const spread = new Uint32Array(1 << 24);
  for (let i = 0; i < spread.length; i++) spread[i] = ((i << 8) | (Math.imul(i, 0x9e3779b1) >>> 24)) >>> 0;
  checkF32(spread);
  // each boundary ± 64 ulps, both signs: f16 subnormal steps and ties, the smallest normal, the
  // carry into the exponent, 65504 / 65520 (the last finite value and the first that rounds to
  // inf), f32 subnormals, inf, the NaNs
  const edges = [0, 0x00000001, 0x007fffff, 0x00800000, 0x33000000, 0x33800000, 0x387fc000, 0x387fe000, 0x387fffff, 0x38800000,
    0x38801000, 0x38802000, 0x3f7ff000, 0x3f7fe000, 0x3f800000, 0x477fe000, 0x477fefff, 0x477ff000, 0x477fffff, 0x47800000,
    0x7f7fffff, 0x7f800000, 0x7f800001, 0x7fc00000, 0x7fffffff];
  const near: number[] = [];
  for (const e of edges) for (let d = -64; d <= 64; d++) for (const s of [0, 0x80000000]) near.push(((e + d) >>> 0 | s) >>> 0);
  checkF32(Uint32Array.from(near));
});

test('f32 → f16: lengths that are not multiples of 8, past one chunk, at an output offset', () => {
  const rng = new Random(5);
  for (const n of [1, 7, 63, 64, 65, 1001, (1 << 18) + 13, (1 << 19) - 3]) {
    const values = Float32Array.from({ length: n }, () => rng.normal() * 0.05);
    checkF32(new Uint32Array(values.buffer), n % 5);
  }
});
