import { roundToF16 } from '../gpu/f16';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { add, geluTanh, siluMul } from '../kernels/elementwise';
import { addRef, geluTanhRef, siluMulRef } from '../reference/elementwise';
import { Random } from '../reference/random';
import { compare, TOLERANCE } from './compare';
import type { KernelCheck } from './types';

// 1000 and 70001 are not multiples of the 256-thread workgroup; 70001 also needs >1 row of workgroups
// on adapters with small dispatch limits.
const SIZES = [1000, 70001];

function checksFor(size: number): KernelCheck[] {
  const inputs = (seed: number, precision: 'f32' | 'f16', lo = -4, hi = 4) => {
    const x = new Random(seed).floats(size, lo, hi);
    return precision === 'f16' ? roundToF16(x) : x;
  };
  return [
    {
      name: `add ${size}`,
      family: 'elementwise',
      async run(gpu, precision) {
        const a = inputs(1, precision), b = inputs(2, precision);
        const ta = Tensor.from(gpu, a, [size], precision), tb = Tensor.from(gpu, b, [size], precision);
        const out = Tensor.empty(gpu, [size], precision);
        const rec = new CommandRecorder(gpu);
        add(rec, ta, tb, out);
        rec.submit();
        const result = compare(await out.readFloat(), addRef(a, b), TOLERANCE[precision]);
        [ta, tb, out].forEach((t) => t.destroy());
        return result;
      },
    },
    {
      name: `gelu_tanh ${size}`,
      family: 'elementwise',
      async run(gpu, precision) {
        const a = inputs(3, precision, -8, 8);
        const ta = Tensor.from(gpu, a, [size], precision);
        const out = Tensor.empty(gpu, [size], precision);
        const rec = new CommandRecorder(gpu);
        geluTanh(rec, ta, out);
        rec.submit();
        const result = compare(await out.readFloat(), geluTanhRef(a), TOLERANCE[precision]);
        [ta, out].forEach((t) => t.destroy());
        return result;
      },
    },
    {
      name: `silu_mul ${size}`,
      family: 'elementwise',
      async run(gpu, precision) {
        const g = inputs(4, precision, -8, 8), u = inputs(5, precision);
        const tg = Tensor.from(gpu, g, [size], precision), tu = Tensor.from(gpu, u, [size], precision);
        const out = Tensor.empty(gpu, [size], precision);
        const rec = new CommandRecorder(gpu);
        siluMul(rec, tg, tu, out);
        rec.submit();
        const result = compare(await out.readFloat(), siluMulRef(g, u), TOLERANCE[precision]);
        [tg, tu, out].forEach((t) => t.destroy());
        return result;
      },
    },
  ];
}

export const elementwiseChecks: KernelCheck[] = SIZES.flatMap(checksFor);
