import { roundToF16 } from '../gpu/f16';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { softmax } from '../kernels/softmax';
import { Random } from '../reference/random';
import { softmaxRef } from '../reference/softmax';
import { compare, type Tolerance } from './compare';
import type { KernelCheck } from './types';

// Probabilities are small (≈ 1/N for a vocabulary of 49280), so the generic absolute tolerance
// (1e-5) would accept anything: bound the relative error instead. f32: exp is accurate to a few
// ulp and the sum of ≤ 49280 terms to ~1e-6 relative. f16: the outputs are f16 (half an ulp is
// 2⁻¹² relative; tiny probabilities are f16 subnormals, steps of 6e-8).
const SOFTMAX_TOLERANCE: Record<'f32' | 'f16', Tolerance> = {
  f32: { atol: 1e-9, rtol: 1e-4 },
  f16: { atol: 1e-7, rtol: 1e-2 },
};

// N = 1 (every output is 1), 100 (fewer elements than threads), 300 (not a multiple of 256),
// 512 (a multiple) and the SmolVLM2 vocabulary; two rows each.
const WIDTHS = [1, 100, 300, 512, 49280];
const ROWS = 2;

function check(width: number): KernelCheck {
  return {
    name: `softmax ${ROWS}×${width}`,
    family: 'softmax',
    async run(gpu, precision) {
      // logit-like spread; the second row is shifted by +100, where exp without the max
      // subtraction overflows f32 (exp(89) does)
      const raw = new Random(30 + width).normals(ROWS * width, 4);
      for (let i = width; i < 2 * width; i++) raw[i] += 100;
      const x = precision === 'f16' ? roundToF16(raw) : raw;
      const tx = Tensor.from(gpu, x, [ROWS, width], precision);
      const out = Tensor.empty(gpu, [ROWS, width], precision);
      const rec = new CommandRecorder(gpu);
      softmax(rec, tx, out);
      rec.submit();
      const result = compare(await out.readFloat(), softmaxRef(x, width), SOFTMAX_TOLERANCE[precision]);
      [tx, out].forEach((t) => t.destroy());
      return result;
    },
  };
}

export const softmaxChecks: KernelCheck[] = WIDTHS.map(check);
