import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { copyBytes } from '../kernels/copy';
import { Random } from '../reference/random';
import { compare } from './compare';
import type { KernelCheck } from './types';

export const copyChecks: KernelCheck[] = [
  {
    // 1000 words = 250 chunks: not a multiple of the 256-thread workgroup; offsets inside both buffers
    name: 'copy 4000 bytes at offsets',
    family: 'copy',
    async run(gpu) {
      const src = new Random(7).floats(1200);
      const ts = Tensor.from(gpu, src, [1200], 'f32');
      const td = Tensor.empty(gpu, [1300], 'f32');
      const rec = new CommandRecorder(gpu);
      copyBytes(rec, ts, 64, td, 160, 4000);
      rec.submit();
      const out = await td.readFloat();
      const expected = new Float32Array(1300);
      expected.set(src.subarray(16, 16 + 1000), 40);
      const result = compare(out, expected, { atol: 0, rtol: 0 });
      ts.destroy();
      td.destroy();
      return result;
    },
  },
];
