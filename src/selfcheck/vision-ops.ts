import { roundToF16 } from '../gpu/f16';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { patchify } from '../kernels/patchify';
import { pixelShuffle } from '../kernels/pixel-shuffle';
import { patchifyRef } from '../reference/patchify';
import { pixelShuffleRef } from '../reference/pixel-shuffle';
import { Random } from '../reference/random';
import { compare, TOLERANCE } from './compare';
import type { KernelCheck } from './types';

// Both kernels are pure gathers: f32 is exact, f16 only rounds the values once (the reference
// rounds the same way). Element counts are not multiples of the 256-thread workgroup.

/** [n, C, H, W, p, firstTile, tiles]: non-square images, a batch starting past image 0. */
const PATCHIFY: [number, number, number, number, number, number, number][] = [
  [3, 3, 40, 24, 8, 0, 3], // 45 patches × 192 = 8640 elements
  [4, 3, 48, 32, 16, 1, 2], // tiles 1..2 of 4
  [1, 3, 20, 20, 4, 0, 1],
];

/** [n, seq, E, s]: scale 2, 3 and 4 (SmolVLM2's), odd widths. */
const SHUFFLE: [number, number, number, number][] = [
  [3, 36, 20, 3],
  [2, 64, 13, 2],
  [2, 64, 12, 4],
  [1, 16, 7, 2],
];

function patchifyCheck([n, c, h, w, p, first, tiles]: (typeof PATCHIFY)[number]): KernelCheck {
  return {
    name: `patchify ${n}×${c}×${h}×${w} p${p} tiles ${first}+${tiles}`,
    family: 'vision-ops',
    async run(gpu, precision) {
      const pixels = new Random(11 + p).floats(n * c * h * w, -1, 1);
      const tp = Tensor.from(gpu, pixels, [n, c, h, w], 'f32');
      const rows = tiles * (h / p) * (w / p);
      const out = Tensor.empty(gpu, [rows, c * p * p], precision);
      const rec = new CommandRecorder(gpu);
      patchify(rec, tp, out, { patchSize: p, firstTile: first, tiles });
      rec.submit();
      const per = c * h * w;
      let expected = patchifyRef(pixels.subarray(first * per, (first + tiles) * per), tiles, c, h, w, p);
      if (precision === 'f16') expected = roundToF16(expected);
      const result = compare(await out.readFloat(), expected, TOLERANCE[precision]);
      tp.destroy();
      out.destroy();
      return result;
    },
  };
}

function shuffleCheck([n, seq, e, s]: (typeof SHUFFLE)[number]): KernelCheck {
  return {
    name: `pixel_shuffle ${n}×${seq}×${e} s${s}`,
    family: 'vision-ops',
    async run(gpu, precision) {
      let x = new Random(29 + s).floats(n * seq * e, -4, 4);
      if (precision === 'f16') x = roundToF16(x);
      const tx = Tensor.from(gpu, x, [n, seq, e], precision);
      const out = Tensor.empty(gpu, [n, seq / (s * s), e * s * s], precision);
      const rec = new CommandRecorder(gpu);
      pixelShuffle(rec, tx, out, s);
      rec.submit();
      const result = compare(await out.readFloat(), pixelShuffleRef(x, n, seq, e, s), TOLERANCE[precision]);
      tx.destroy();
      out.destroy();
      return result;
    },
  };
}

export const visionOpsChecks: KernelCheck[] = [...PATCHIFY.map(patchifyCheck), ...SHUFFLE.map(shuffleCheck)];
