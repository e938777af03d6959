import { roundToF16 } from '../gpu/f16';
import type { GpuDevice } from '../gpu/device';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import type { Precision } from '../kernels/common';
import { keySummary } from '../kernels/kv-summary';
import { keySummaryRef } from '../reference/kv-summary';
import { Random } from '../reference/random';
import { compare } from './compare';
import type { CheckResult, KernelCheck } from './types';

/**
 * The frame-block key summary: a block of `tokens` rows inside a longer cache, written at an offset of
 * a longer output (as the engine writes one layer's slot). f32 sums in the same order → exact in f32;
 * f16 inputs are the f16-rounded data, also summed in f32 → exact too.
 */
async function run(gpu: GpuDevice, precision: Precision, tokens: number, channels: number): Promise<CheckResult> {
  const rng = new Random(900 + tokens + channels);
  const rows = tokens + 5;
  let data: Float32Array = new Float32Array(rows * channels);
  for (let i = 0; i < data.length; i++) data[i] = 3 * rng.normal() + (i % channels) * 0.1;
  if (precision === 'f16') data = roundToF16(data);
  const keys = Tensor.from(gpu, data, [rows, channels], precision);
  const out = Tensor.from(gpu, new Float32Array(channels * 3).fill(-7), [channels * 3], 'f32');
  const rec = new CommandRecorder(gpu);
  keySummary(rec, keys, tokens, out, { row: 3, outOffset: channels });
  rec.submit();
  const got = await out.readFloat();
  keys.destroy();
  out.destroy();
  const expected = new Float32Array(channels * 3).fill(-7);
  expected.set(keySummaryRef(data, tokens, channels, 3), channels);
  return compare(got, expected, { atol: 1e-6, rtol: 1e-6 });
}

export const kvSummaryChecks: KernelCheck[] = [
  { name: 'key summary 70 rows × 192 channels', family: 'kvquant', run: (gpu, p) => run(gpu, p, 70, 192) },
  { name: 'key summary 1 row × 64 channels', family: 'kvquant', run: (gpu, p) => run(gpu, p, 1, 64) },
  { name: 'key summary 37 rows × 100 channels', family: 'kvquant', run: (gpu, p) => run(gpu, p, 37, 100) },
];
