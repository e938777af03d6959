/**
 * The KIVI-style KV quantization of `shaders/kvquant.wgsl` on the CPU (layouts in
 * src/kernels/kvquant.ts): runtime code (a restored memory's keys are dequantized here for
 * retrieval) and the kernel's reference (src/reference/kvquant.ts re-exports it). Unlike the other references this one mirrors the kernel's f32 steps
 * (Math.fround) so its codes must equal the GPU's bit for bit; the parity check then also bounds
 * the reconstruction error against the inputs, which does not depend on these steps.
 */
import { f16BitsToF32, f32ToF16Bits } from '../gpu/f16';
import { KEY_GROUP_TOKENS as KEY_GROUP, VALUE_GROUP_CHANNELS as VALUE_GROUP, keyCodeOffset } from './kvquant-layout';
const F16_MAX = 0x7bff;

export interface KvQuantRef {
  codes: Uint32Array;
  params: Uint32Array;
}

/** Clamps ±inf to ±65504, as the kernel does (it keeps the grid finite). */
function finite(bits: number): number {
  return (bits & 0x7fff) > F16_MAX ? (bits & 0x8000) | F16_MAX : bits;
}

/** The f16 just below `bits` (bits of −0 and +0 both step to the negative subnormal). */
function stepDown(bits: number): number {
  if (bits === 0) return 0x8001;
  return finite(bits & 0x8000 ? bits + 1 : bits - 1);
}

/** The f16 just above `bits`. */
function stepUp(bits: number): number {
  if (bits === 0x8000) return 0x0001;
  return finite(bits & 0x8000 ? bits - 1 : bits + 1);
}

/** Bits of the largest f16 ≤ x (nearest, then one step down if that overshot). */
export function f16BitsDown(x: number): number {
  const bits = finite(f32ToF16Bits(x));
  return f16BitsToF32(bits) > x ? stepDown(bits) : bits;
}

/** Bits of the smallest f16 ≥ x. */
export function f16BitsUp(x: number): number {
  const bits = finite(f32ToF16Bits(x));
  return f16BitsToF32(bits) < x ? stepUp(bits) : bits;
}

/** A group's param word: f16 scale (low half) and min (high half); min rounded down, scale up. */
function groupParam(values: readonly number[], bits: number): number {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const minBits = f16BitsDown(lo);
  const min16 = f16BitsToF32(minBits);
  const invLevels = Math.fround(1 / (2 ** bits - 1));
  const scaleBits = f16BitsUp(Math.fround(Math.fround(hi - min16) * invLevels));
  return (scaleBits | (minBits << 16)) >>> 0;
}

export function unpackParam(word: number): { scale: number; min: number } {
  return { scale: f16BitsToF32(word & 0xffff), min: f16BitsToF32(word >>> 16) };
}

/** Nearest code (ties up) of x on the grid min + k·scale, k ∈ [0, 2^bits − 1], with d = f32(x − min). */
function quantizeOne(x: number, param: number, bits: number): number {
  const { scale, min } = unpackParam(param);
  if (scale === 0) return 0;
  const d = Math.fround(x - min);
  // k·scale and (k + ½)·scale are exact (few significant bits), so these comparisons are exact
  let k = Math.floor(d / scale);
  if (d < k * scale) k--;
  else if (d >= (k + 1) * scale) k++;
  if (d >= (k + 0.5) * scale) k++;
  return Math.min(Math.max(k, 0), 2 ** bits - 1);
}

/**
 * Quantizes one group: `values` are its valid elements (a partial key group has fewer);
 * its codes go from word `codeStart`.
 */
function quantizeGroup(values: readonly number[], bits: number, codes: Uint32Array, params: Uint32Array, group: number, codeStart: number): void {
  const param = groupParam(values, bits);
  params[group] = param;
  const perWord = 32 / bits;
  values.forEach((x, j) => {
    codes[codeStart + Math.floor(j / perWord)] |= quantizeOne(x, param, bits) << ((j % perWord) * bits);
  });
}

/** Keys x [tokens, channels]: per channel, groups of `keyGroup` tokens. */
export function quantizeKeysRef(x: Float32Array, tokens: number, channels: number, bits: number, keyGroup = KEY_GROUP): KvQuantRef {
  const tokenGroups = Math.ceil(tokens / keyGroup);
  const codes = new Uint32Array(keyCodeOffset(tokens, channels, bits, keyGroup, Math.floor(tokens / keyGroup), channels));
  const params = new Uint32Array(tokenGroups * channels);
  for (let tg = 0; tg < tokenGroups; tg++) {
    for (let c = 0; c < channels; c++) {
      const values: number[] = [];
      for (let t = tg * keyGroup; t < Math.min(tokens, (tg + 1) * keyGroup); t++) values.push(x[t * channels + c]);
      quantizeGroup(values, bits, codes, params, tg * channels + c, keyCodeOffset(tokens, channels, bits, keyGroup, tg, c));
    }
  }
  return { codes, params };
}

/** Values x [tokens, channels]: per token, groups of VALUE_GROUP_CHANNELS channels. */
export function quantizeValuesRef(x: Float32Array, tokens: number, channels: number, bits: number): KvQuantRef {
  const size = VALUE_GROUP;
  const groups = channels / size;
  const words = (size * bits) / 32;
  const codes = new Uint32Array(tokens * groups * words);
  const params = new Uint32Array(tokens * groups);
  for (let t = 0; t < tokens; t++) {
    for (let g = 0; g < groups; g++) {
      const start = t * channels + g * size;
      quantizeGroup(Array.from(x.subarray(start, start + size)), bits, codes, params, t * groups + g, (t * groups + g) * words);
    }
  }
  return { codes, params };
}

function codeAt(q: KvQuantRef, codeStart: number, j: number, bits: number): number {
  const perWord = 32 / bits;
  return (q.codes[codeStart + Math.floor(j / perWord)] >>> ((j % perWord) * bits)) & (2 ** bits - 1);
}

/** x = f32(min + code · scale), as the kernel computes it (the product is exact). */
function dequantizeOne(q: KvQuantRef, group: number, codeStart: number, j: number, bits: number): number {
  const { scale, min } = unpackParam(q.params[group]);
  return Math.fround(min + codeAt(q, codeStart, j, bits) * scale);
}

/** Dequantized keys [tokens, channels]. */
export function dequantizeKeysRef(q: KvQuantRef, tokens: number, channels: number, bits: number, keyGroup = KEY_GROUP): Float32Array {
  const out = new Float32Array(tokens * channels);
  for (let t = 0; t < tokens; t++) {
    const tg = Math.floor(t / keyGroup);
    for (let c = 0; c < channels; c++) out[t * channels + c] = dequantizeOne(q, tg * channels + c, keyCodeOffset(tokens, channels, bits, keyGroup, tg, c), t % keyGroup, bits);
  }
  return out;
}

/** Dequantized values [tokens, channels]. */
export function dequantizeValuesRef(q: KvQuantRef, tokens: number, channels: number, bits: number): Float32Array {
  const out = new Float32Array(tokens * channels);
  const size = VALUE_GROUP;
  const groups = channels / size;
  const words = (size * bits) / 32;
  for (let t = 0; t < tokens; t++) {
    for (let c = 0; c < channels; c++) {
      const group = t * groups + Math.floor(c / size);
      out[t * channels + c] = dequantizeOne(q, group, group * words, c % size, bits);
    }
  }
  return out;
}

/** The scale of the group holding element (t, c): the quantization step that bounds its error. */
export function keyScaleAt(q: KvQuantRef, t: number, c: number, channels: number, keyGroup = KEY_GROUP): number {
  return unpackParam(q.params[Math.floor(t / keyGroup) * channels + c]).scale;
}

export function valueScaleAt(q: KvQuantRef, t: number, c: number, channels: number): number {
  const size = VALUE_GROUP;
  return unpackParam(q.params[t * (channels / size) + Math.floor(c / size)]).scale;
}
