import { roundToF16 } from '../gpu/f16';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { embedding } from '../kernels/embedding';
import { embeddingRef } from '../reference/embedding';
import { Random } from '../reference/random';
import { compare } from './compare';
import type { KernelCheck } from './types';

const VOCAB = 50;
// A gather copies values: the result must be exact. (In the f16 variant the table values are
// f16-representable, so even an f32 table converts exactly.)
const EXACT = { atol: 0, rtol: 0 };

/** Token ids: in range (first and last row too), and out of range (= VOCAB, far, 2³²−1). */
function tokenIds(rng: Random): Uint32Array {
  const ids = [0, VOCAB - 1, VOCAB, 1_000_000, 0xffffffff];
  for (let i = 0; i < 6; i++) ids.push(rng.int(0, VOCAB));
  return new Uint32Array(ids);
}

function check(tableType: 'f32' | 'f16', width: number, split = false): KernelCheck {
  return {
    // 75 is odd: with an f16 table, every other row starts in the high half of a word
    name: `embedding ${tableType} table ${VOCAB}×${width}${split ? ' split in two bindings' : ''}`,
    family: 'embedding',
    async run(gpu, precision) {
      const rng = new Random(40 + width);
      const raw = rng.normals(VOCAB * width);
      const table = tableType === 'f16' || precision === 'f16' ? roundToF16(raw) : raw;
      const ids = tokenIds(rng);
      const tids = Tensor.from(gpu, ids, [ids.length], 'u32');
      const out = Tensor.empty(gpu, [ids.length, width], precision);
      // the output starts non-zero: out-of-range ids must write their zeros
      out.write(new Float32Array(ids.length * width).fill(7));
      const parts = split ? [0, 20] : [0]; // first rows of each binding
      const tables = parts.map((first, p) => {
        const end = parts[p + 1] ?? VOCAB;
        return Tensor.from(gpu, table.subarray(first * width, end * width), [end - first, width], tableType);
      });
      const rec = new CommandRecorder(gpu);
      tables.forEach((t, p) => embedding(rec, tids, t, out, { firstRow: parts[p], missing: p === 0 ? 'zero' : 'keep' }));
      rec.submit();
      const result = compare(await out.readFloat(), embeddingRef(ids, table, width), EXACT);
      [tids, out, ...tables].forEach((t) => t.destroy());
      return result;
    },
  };
}

export const embeddingChecks: KernelCheck[] = [
  check('f32', 75),
  check('f16', 75),
  check('f32', 576),
  check('f16', 576),
  check('f16', 75, true),
];
