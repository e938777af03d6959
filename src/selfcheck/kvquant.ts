import { roundToF16 } from '../gpu/f16';
import type { GpuDevice } from '../gpu/device';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import type { Precision } from '../kernels/common';
import {
  createKvQuantBlock,
  dequantizeKeys,
  dequantizeValues,
  destroyKvQuantBlock,
  type KvBits,
  type KvPartKind,
  quantizeKeys,
  quantizeValues,
  readKvQuantBlock,
} from '../kernels/kvquant';
import {
  dequantizeKeysRef,
  dequantizeValuesRef,
  keyScaleAt,
  quantizeKeysRef,
  quantizeValuesRef,
  unpackParam,
  valueScaleAt,
  type KvQuantRef,
} from '../kernels/kvquant-cpu';
import { Random } from '../reference/random';
import { compare } from './compare';
import type { CheckResult, KernelCheck } from './types';


/**
 * Keys with what makes per-channel quantization hard: a large offset per channel (min rounding to
 * f16 could then move the grid by many steps), spreads from tiny to large, a constant f16 channel
 * (scale 0), a constant non-f16 channel and a nearly constant one (f16-subnormal scale at 8 bits).
 */
function keyData(rng: Random, tokens: number, channels: number): Float32Array {
  const x = new Float32Array(tokens * channels);
  for (let c = 0; c < channels; c++) {
    const offset = 8 * rng.normal();
    const spread = rng.uniform(0.05, 2);
    for (let t = 0; t < tokens; t++) {
      let v = offset + spread * rng.normal();
      if (c === 0) v = 0.5;
      if (c === 1) v = 0.1;
      if (c === 2) v = 3 + 1e-4 * rng.normal();
      x[t * channels + c] = v;
    }
  }
  return x;
}

/** Values: per-token scales vary (some tokens are outliers). */
function valueData(rng: Random, tokens: number, channels: number): Float32Array {
  const x = new Float32Array(tokens * channels);
  for (let t = 0; t < tokens; t++) {
    const std = t % 7 === 3 ? 6 : rng.uniform(0.2, 1.5);
    for (let c = 0; c < channels; c++) x[t * channels + c] = std * rng.normal();
  }
  return x;
}

function countDifferent(a: Uint32Array, b: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) n++;
  return n + Math.abs(a.length - b.length);
}

/**
 * Each element must reconstruct within half a quantization step of its group, plus the f32
 * rounding of x − min and of min + code·scale (a few ulp), plus, in the f16 variant, the rounding
 * of the f16 output: one f16 ulp of the larger of |x| and |deq|, since WGSL leaves the direction
 * of f32 → f16 rounding to the implementation.
 */
function boundViolations(x: Float32Array, deq: Float32Array, q: KvQuantRef, tokens: number, channels: number, keyGroup: number, kind: KvPartKind, bits: number, precision: Precision) {
  let violations = 0;
  let firstViolation = '';
  let worstRatio = 0; // |error| / scale
  const levels = 2 ** bits - 1;
  for (let t = 0; t < tokens; t++) {
    for (let c = 0; c < channels; c++) {
      const i = t * channels + c;
      const scale = kind === 'keys' ? keyScaleAt(q, t, c, channels, keyGroup) : valueScaleAt(q, t, c, channels);
      const err = Math.abs(deq[i] - x[i]);
      const f32Slack = 2 ** -22 * (Math.abs(x[i]) + Math.abs(deq[i]) + levels * scale);
      const f16Slack = precision === 'f16' ? 2 ** -10 * Math.max(Math.abs(x[i]), Math.abs(deq[i])) + 2 ** -24 : 0;
      if (!(err <= scale / 2 + f32Slack + f16Slack)) {
        if (violations++ === 0) firstViolation = ` (first: ${kind} [${t}, ${c}] x ${x[i]} deq ${deq[i]} scale ${scale})`;
      }
      if (scale > 0) worstRatio = Math.max(worstRatio, err / scale);
    }
  }
  return { violations, worstRatio, firstViolation };
}

async function roundTrip(gpu: GpuDevice, precision: Precision, bits: KvBits, tokens: number, channels: number, keyGroup: number, offsets: boolean): Promise<CheckResult> {
  const rng = new Random(50 + bits * 7 + tokens);
  const prepare = (x: Float32Array) => (precision === 'f16' ? roundToF16(x) : x);
  const keys = prepare(keyData(rng, tokens, channels));
  const values = prepare(valueData(rng, tokens, channels));
  // optionally place the block inside longer tensors: source rows from 3, destination rows from 2
  const srcRow = offsets ? 3 : 0;
  const dstRow = offsets ? 2 : 0;
  const padded = (x: Float32Array, row: number, extra: number) => {
    const out = new Float32Array((tokens + extra) * channels).fill(-9);
    out.set(x, row * channels);
    return out;
  };
  const tk = Tensor.from(gpu, padded(keys, srcRow, srcRow + 2), [tokens + srcRow + 2, channels], precision);
  const tv = Tensor.from(gpu, padded(values, srcRow, srcRow + 2), [tokens + srcRow + 2, channels], precision);
  const outK = Tensor.empty(gpu, [tokens + dstRow + 1, channels], precision);
  const outV = Tensor.empty(gpu, [tokens + dstRow + 1, channels], precision);
  const block = createKvQuantBlock(gpu, { tokens, channels, keyBits: bits, keyGroup });
  const rec = new CommandRecorder(gpu);
  quantizeKeys(rec, tk, block, { row: srcRow });
  quantizeValues(rec, tv, block, { row: srcRow });
  dequantizeKeys(rec, block, outK, { row: dstRow });
  dequantizeValues(rec, block, outV, { row: dstRow });
  rec.submit();
  const data = await readKvQuantBlock(block);
  const slice = (a: Float32Array) => a.subarray(dstRow * channels, (dstRow + tokens) * channels);
  const deqK = slice(await outK.readFloat());
  const deqV = slice(await outV.readFloat());
  [tk, tv, outK, outV].forEach((t) => t.destroy());
  destroyKvQuantBlock(block);

  const refK = quantizeKeysRef(keys, tokens, channels, bits, keyGroup);
  const refV = quantizeValuesRef(values, tokens, channels, bits);
  const codeMismatches =
    countDifferent(data.keyCodes, refK.codes) + countDifferent(data.valueCodes, refV.codes);
  const paramMismatches =
    countDifferent(data.keyParams, refK.params) + countDifferent(data.valueParams, refV.params);
  // Dequantization of identical codes is the same f32 arithmetic: exact in f32. The f16 variant
  // rounds the f32 result to f16, whose rounding direction WGSL leaves to the implementation: one ulp.
  const tol = precision === 'f32' ? { atol: 0, rtol: 0 } : { atol: 2 ** -24, rtol: 2 ** -10 };
  const expectK = dequantizeKeysRef(refK, tokens, channels, bits, keyGroup);
  const expectV = dequantizeValuesRef(refV, tokens, channels, bits);
  const both = (a: Float32Array, b: Float32Array) => {
    const out = new Float32Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  const actual = both(deqK, deqV);
  const expected = both(expectK, expectV);
  const result = compare(actual, expected, tol);
  // how often the f32 → f16 output conversion did not round to nearest (allowed by WGSL)
  const nearest = precision === 'f16' ? roundToF16(expected) : expected;
  const notNearest = actual.reduce((n, v, i) => n + (v !== nearest[i] ? 1 : 0), 0);
  const boundK = boundViolations(keys, deqK, refK, tokens, channels, keyGroup, 'keys', bits, precision);
  const boundV = boundViolations(values, deqV, refV, tokens, channels, keyGroup, 'values', bits, precision);
  const zeroScales = Array.from(refK.params).filter((p) => unpackParam(p).scale === 0).length;
  const words = refK.codes.length + refV.codes.length;
  const pass = result.pass && codeMismatches === 0 && paramMismatches === 0 && boundK.violations + boundV.violations === 0;
  return {
    ...result,
    pass,
    tolerance: `codes/params identical; dequantized ${result.tolerance}; |x − deq| ≤ scale/2 (+ rounding)`,
    detail:
      `code words differing ${codeMismatches}/${words}, params differing ${paramMismatches}; ` +
      `max |x − deq|/scale keys ${boundK.worstRatio.toFixed(4)} values ${boundV.worstRatio.toFixed(4)}, ` +
      `bound violations ${boundK.violations + boundV.violations}${boundK.firstViolation}${boundV.firstViolation}; ` +
      `zero-scale key groups ${zeroScales}` +
      (precision === 'f16' ? `; f16 outputs not rounded to nearest ${notNearest}/${actual.length}` : '') +
      (result.detail ? `; ${result.detail}` : ''),
  };
}

// 150 × 192 (SmolVLM2's 3 KV heads × 64): a full key group of 128 tokens and a partial one of 22,
// the block inside longer tensors. 77 × 96 (a frame's rows, a test model's 3 × 32): one partial
// key group, block at row 0. 77 × 192 in key groups of 32 (blocks saved by memory format 2): two
// full groups and a partial one of 13.
const SHAPES = [
  { tokens: 150, channels: 192, keyGroup: 128, offsets: true },
  { tokens: 77, channels: 96, keyGroup: 128, offsets: false },
  { tokens: 77, channels: 192, keyGroup: 32, offsets: false },
];

export const kvquantChecks: KernelCheck[] = ([8, 4, 2] as const).flatMap((bits) =>
  SHAPES.map(
    ({ tokens, channels, keyGroup, offsets }): KernelCheck => ({
      name: `kvquant ${bits}-bit ${tokens}×${channels}, key groups of ${keyGroup}${offsets ? ', at row offsets' : ''}`,
      family: 'kvquant',
      run: (gpu, precision) => roundTrip(gpu, precision, bits, tokens, channels, keyGroup, offsets),
    }),
  ),
);
