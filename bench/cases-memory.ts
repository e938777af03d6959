import { Tensor } from '../src/gpu/tensor';
import type { Precision } from '../src/kernels/common';
import { createKvQuantBlock, destroyKvQuantBlock, dequantizeKeys, dequantizeValues, kvQuantBlockBytes, type KvBits } from '../src/kernels/kvquant';
import { rmsNorm } from '../src/kernels/norm';
import { argmax, sampleTopP } from '../src/kernels/sampling';
import { Random } from '../src/reference/random';
import type { BenchCase } from './measure';

const BYTES: Record<Precision, number> = { f32: 4, f16: 2 };

/**
 * KV dequantization: restoring retrieved frames to the GPU at question time. 256M shapes: C = 3 KV
 * heads × 64 = 192 channels; 4096 tokens ≈ 64 frames of 64 tokens, one layer. GB/s counts the
 * quantized bytes read and the activations written.
 */
export function kvDequantCases(precision: Precision, quick: boolean): BenchCase[] {
  const tokens = quick ? 256 : 4096;
  const channels = 192;
  return ([8, 4, 2] as KvBits[]).map((bits) => ({
    name: `KV dequantize K+V ${tokens}×${channels} ${bits}-bit`,
    unit: 'GB/s' as const,
    work: kvQuantBlockBytes(tokens, channels, bits) + 2 * tokens * channels * BYTES[precision],
    setup(gpu) {
      const block = createKvQuantBlock(gpu, { tokens, channels, keyBits: bits });
      const k = Tensor.empty(gpu, [tokens, channels], precision);
      const v = Tensor.empty(gpu, [tokens, channels], precision);
      return {
        record(rec) {
          dequantizeKeys(rec, block, k);
          dequantizeValues(rec, block, v);
        },
        destroy: () => (destroyKvQuantBlock(block), k.destroy(), v.destroy()),
      };
    },
  }));
}

/** Per-token work that is not matmul: the final norm and choosing the next token over a 49280 vocab. */
export function decodeTailCases(precision: Precision, quick: boolean): BenchCase[] {
  const vocab = quick ? 4096 : 49280;
  const hidden = 576;
  return [
    {
      name: `RMSNorm 64×${hidden}`,
      unit: 'GB/s',
      work: 2 * 64 * hidden * BYTES[precision] + hidden * 4,
      setup(gpu) {
        const x = Tensor.from(gpu, new Random(1).floats(64 * hidden), [64, hidden], precision);
        const w = Tensor.from(gpu, new Random(2).floats(hidden), [hidden], 'f32');
        const out = Tensor.empty(gpu, [64, hidden], precision);
        return { record: (rec) => rmsNorm(rec, x, w, out), destroy: () => (x.destroy(), w.destroy(), out.destroy()) };
      },
    },
    {
      name: `argmax over ${vocab} logits`,
      unit: 'GB/s',
      work: vocab * 4,
      setup(gpu) {
        const logits = Tensor.from(gpu, new Random(3).normals(vocab, 3), [vocab], 'f32');
        const id = Tensor.empty(gpu, [1], 'u32');
        return { record: (rec) => argmax(rec, logits, id), destroy: () => (logits.destroy(), id.destroy()) };
      },
    },
    {
      name: `top-p 0.9 sampling over ${vocab} logits`,
      unit: 'GB/s',
      work: vocab * 4,
      setup(gpu) {
        const logits = Tensor.from(gpu, new Random(4).normals(vocab, 3), [vocab], 'f32');
        const id = Tensor.empty(gpu, [1], 'u32');
        return {
          record: (rec) => sampleTopP(rec, logits, id, { temperature: 0.7, topP: 0.9, u: 0.5 }),
          destroy: () => (logits.destroy(), id.destroy()),
        };
      },
    },
  ];
}
