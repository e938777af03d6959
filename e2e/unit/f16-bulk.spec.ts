// The bulk f16 conversions a model load runs over every weight (a table lookup for f16 → f32, a
// loop over the f32 bit patterns for f32 → f16) against the per-value definitions, exhaustively
// where the domain is small (every f16 pattern) and on seeded values where it is not.
import { expect, test } from '@playwright/test';
import { f16BitsToF32, f32ArrayToF16Bits, f32ToF16Bits, fromF16Bits, toF16Bits } from '../../src/gpu/f16';
import { packF16Bits, packWeight } from '../../src/kernels/weight-packing';
import { toF16BitsInto, toFloat32, type TensorEntry } from '../../src/model/safetensors';

/** f16 bits → value by the IEEE definition, written independently of src/gpu/f16.ts. */
function decode(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 31;
  const m = bits & 1023;
  if (e === 31) return m ? NaN : sign * Infinity;
  return e === 0 ? sign * m * Math.pow(2, -24) : sign * Math.pow(2, e - 15) * (1 + m / 1024);
}

function seededValues(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const out = new Float32Array(count);
  // every scale from f16's subnormals to past its overflow, both signs, and exact ties
  for (let i = 0; i < count; i++) out[i] = (next() < 0.5 ? -1 : 1) * Math.pow(2, -30 + 48 * next()) * (1 + next());
  out.set([0, -0, 65504, 65520, 2 ** -25, 3 * 2 ** -25, 1 + 2 ** -11, Infinity, -Infinity, NaN], 0);
  return out;
}

test('every f16 pattern decodes to its IEEE value, through the table and through fromF16Bits', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const bulk = fromF16Bits(all);
  for (let b = 0; b < 65536; b++) {
    const want = decode(b);
    const one = f16BitsToF32(b);
    if (Number.isNaN(want)) {
      expect(Number.isNaN(one) && Number.isNaN(bulk[b]), `pattern ${b.toString(16)}`).toBe(true);
      continue;
    }
    if (!Object.is(one, want) || !Object.is(bulk[b], want)) expect([b.toString(16), one, bulk[b]]).toEqual([b.toString(16), want, want]);
    // every finite pattern and the infinities round-trip through f32 → f16
    if (!Object.is(f32ToF16Bits(want), b)) expect([b.toString(16), f32ToF16Bits(want)]).toEqual([b.toString(16), b]);
  }
});

test('f32ArrayToF16Bits, toF16Bits and packWeight f16 round each value as f32ToF16Bits does', () => {
  const values = seededValues(20_001, 7);
  const out = new Uint16Array(values.length + 3);
  f32ArrayToF16Bits(values, out, 3);
  const packed = toF16Bits(values);
  expect(packed.length).toBe(values.length + 1); // padded to whole u32 words
  for (let i = 0; i < values.length; i++) {
    const want = f32ToF16Bits(values[i]);
    if (out[i + 3] !== want || packed[i] !== want) expect([i, values[i], out[i + 3], packed[i]]).toEqual([i, values[i], want, want]);
  }
  // a [3, 45] matrix: rows padded to 64 with zeros, in both the Float32Array and the plain-array path
  const m = seededValues(3 * 45, 11).map((x) => (Number.isFinite(x) ? x : 1));
  for (const source of [m, Array.from(m)]) {
    const w = packWeight(source, 3, 45, 'f16');
    expect(w.rowStride).toBe(64);
    const bits = w.data as Uint16Array;
    for (let n = 0; n < 3; n++) {
      for (let k = 0; k < 64; k++) expect(bits[n * 64 + k]).toBe(k < 45 ? f32ToF16Bits(m[n * 45 + k]) : 0);
    }
  }
});

test('tensor bytes straight to f16 bits (F16 as stored; F32 and BF16 rounded) equal the trip through f32, and packF16Bits equals packWeight f16', () => {
  const values = seededValues(4_001, 5);
  const f16 = toF16Bits(values).subarray(0, values.length);
  // BF16: the top half of each f32 (bf16 → f32 is exact, so the trip's rounding is f16's alone)
  const bf16 = new Uint16Array(values.length).map((_, i) => new Uint32Array(values.buffer)[i] >>> 16);
  const cases: [TensorEntry['dtype'], Uint8Array][] = [
    ['F16', new Uint8Array(f16.buffer, f16.byteOffset, f16.byteLength)],
    ['F32', new Uint8Array(values.buffer)],
    ['BF16', new Uint8Array(bf16.buffer)],
  ];
  for (const [dtype, raw] of cases) {
    // at an odd byte offset in a larger buffer too, as a tensor can sit in a safetensors file
    for (const offset of [0, 1]) {
      const file = new Uint8Array(raw.length + offset);
      file.set(raw, offset);
      const entry: TensorEntry = { name: 't', dtype, shape: [values.length], begin: 0, end: raw.length };
      const bytes = file.subarray(offset);
      const direct = new Uint16Array(values.length + 2);
      toF16BitsInto(entry, bytes, direct, 2);
      const viaF32 = new Uint16Array(values.length);
      f32ArrayToF16Bits(toFloat32(entry, bytes), viaF32);
      for (let i = 0; i < values.length; i++) {
        // NaN: any NaN pattern (the F16 copy keeps the file's payload)
        const a = direct[i + 2];
        const b = viaF32[i];
        const nan = (x: number) => (x & 0x7c00) === 0x7c00 && (x & 0x3ff) !== 0;
        if (a !== b && !(nan(a) && nan(b))) expect([dtype, offset, i, a, b]).toEqual([dtype, offset, i, b, b]);
      }
    }
  }
  // [3, 45] (rows padded to 64) and [2, 64] (no padding: the bits themselves)
  for (const [out, inF] of [[3, 45], [2, 64]]) {
    const m = seededValues(out * inF, 13).map((x) => (Number.isFinite(x) ? x : 1));
    const bits = toF16Bits(m).subarray(0, out * inF);
    const direct = packF16Bits(bits, out, inF);
    const packed = packWeight(fromF16Bits(bits), out, inF, 'f16');
    expect({ ...direct, data: Array.from(direct.data) }).toEqual({ ...packed, data: Array.from(packed.data) });
  }
  expect(() => packF16Bits(new Uint16Array(10), 3, 4)).toThrow(RangeError);
});
