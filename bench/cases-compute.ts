import { Tensor } from '../src/gpu/tensor';
import { attentionDecode, attentionPrefill, attentionScratchElements, type AttentionMask } from '../src/kernels/attention';
import type { Precision } from '../src/kernels/common';
import { matmulTiled, matvec, plainMatmul, type TileSize } from '../src/kernels/matmul';
import { RopeTable } from '../src/kernels/rope';
import { destroyWeight, uploadWeight, weightBytes, type WeightFormat } from '../src/kernels/weights';
import { Random } from '../src/reference/random';
import type { BenchCase } from './measure';

const FORMATS: WeightFormat[] = ['f16', 'q8', 'q4', 'f32'];

/** The yardstick: a plain 64×64-tile matmul (8×8 threads, 8×8 outputs each), in the run's precision. */
export function plainMatmulCases(precision: Precision, quick: boolean): BenchCase[] {
  const n = quick ? 128 : 4096;
  return [
    {
      name: `plain tiled matmul ${n}³ (peak yardstick)`,
      unit: 'GFLOP/s',
      work: 2 * n ** 3,
      setup(gpu) {
        const a = Tensor.from(gpu, new Random(1).floats(n * n), [n, n], precision);
        const b = Tensor.from(gpu, new Random(2).floats(n * n), [n, n], precision);
        const c = Tensor.empty(gpu, [n, n], precision);
        return { record: (rec) => plainMatmul(rec, a, b, c), destroy: () => (a.destroy(), b.destroy(), c.destroy()) };
      },
    },
  ];
}

interface Shape {
  label: string;
  m: number;
  k: number;
  n: number;
}

/**
 * Prefill matmul: Y = X·Wᵀ with Hugging Face `[out, in]` weights. The square shape compares directly
 * with the yardstick; the others are SmolVLM2-256M's: SigLIP fc1 over one frame's 1024 patches, the
 * connector, and the language model's MLP over 1024 prompt tokens.
 */
export function matmulCases(precision: Precision, quick: boolean): BenchCase[] {
  const shapes: Shape[] = quick
    ? [{ label: 'small', m: 67, k: 96, n: 70 }]
    : [
        { label: 'square', m: 4096, k: 4096, n: 4096 },
        { label: 'SigLIP fc1 (1 frame)', m: 1024, k: 768, n: 3072 },
        { label: 'connector (16 frames)', m: 1024, k: 12288, n: 576 },
        { label: 'LM gate/up (1024 tokens)', m: 1024, k: 576, n: 1536 },
      ];
  const cases: BenchCase[] = [];
  // a frame's prefill (~80 tokens) through the language model's linear layers, with each tile size
  // (matmulTiled picks 32 there: tiledTileSize), to show what the choice is worth on this GPU
  const prefill: (Shape & { tile: TileSize })[] = quick
    ? [32, 64].map((tile) => ({ label: 'small', m: 67, k: 96, n: 70, tile: tile as TileSize }))
    : [
        { label: 'LM q/k/v (77 tokens)', m: 77, k: 576, n: 960 },
        { label: 'LM gate/up (77 tokens)', m: 77, k: 576, n: 3072 },
        { label: 'LM down (77 tokens)', m: 77, k: 1536, n: 576 },
      ].flatMap((s) => [32, 64].map((tile) => ({ ...s, tile: tile as TileSize })));
  for (const s of prefill) {
    cases.push({
      name: `matmul ${s.label} ${s.m}×${s.k}×${s.n} f16 weights, tile ${s.tile}`,
      unit: 'GFLOP/s',
      work: 2 * s.m * s.k * s.n,
      setup(gpu) {
        const x = Tensor.from(gpu, new Random(3).floats(s.m * s.k), [s.m, s.k], precision);
        const w = uploadWeight(gpu, new Random(4).normals(s.n * s.k, 0.05), s.n, s.k, 'f16');
        const y = Tensor.empty(gpu, [s.m, s.n], precision);
        return { record: (rec) => matmulTiled(rec, x, w, y, { tile: s.tile }), destroy: () => (x.destroy(), destroyWeight(w), y.destroy()) };
      },
    });
  }
  for (const s of shapes) {
    for (const format of quick ? FORMATS : s.label === 'square' ? FORMATS : (['f16', 'q4'] as WeightFormat[])) {
      cases.push({
        name: `matmul ${s.label} ${s.m}×${s.k}×${s.n} ${format} weights`,
        unit: 'GFLOP/s',
        work: 2 * s.m * s.k * s.n,
        setup(gpu) {
          const x = Tensor.from(gpu, new Random(3).floats(s.m * s.k), [s.m, s.k], precision);
          const w = uploadWeight(gpu, new Random(4).normals(s.n * s.k, 0.05), s.n, s.k, format);
          const y = Tensor.empty(gpu, [s.m, s.n], precision);
          return { record: (rec) => matmulTiled(rec, x, w, y), destroy: () => (x.destroy(), destroyWeight(w), y.destroy()) };
        },
      });
    }
  }
  return cases;
}

/**
 * Decode matrix-vector: one token through the lm_head (49280×576) and the MLP down projection.
 * Memory-bound, so GB/s counts the weight bytes read; compare with the run's copy bandwidth.
 */
export function matvecCases(precision: Precision, quick: boolean): BenchCase[] {
  const shapes = quick
    ? [{ label: 'small', k: 200, n: 131 }]
    : [
        { label: 'lm_head', k: 576, n: 49280 },
        { label: 'down_proj', k: 1536, n: 576 },
      ];
  const cases: BenchCase[] = [];
  for (const s of shapes) {
    const values = new Random(5).normals(s.n * s.k, 0.05);
    for (const format of FORMATS) {
      cases.push({
        name: `matvec ${s.label} ${s.k}→${s.n} ${format} weights`,
        unit: 'GB/s',
        work: 0,
        setup(gpu) {
          const x = Tensor.from(gpu, new Random(6).floats(s.k), [1, s.k], precision);
          const w = uploadWeight(gpu, values, s.n, s.k, format);
          const y = Tensor.empty(gpu, [1, s.n], precision);
          return { record: (rec) => matvec(rec, x, w, y), destroy: () => (x.destroy(), destroyWeight(w), y.destroy()), work: weightBytes(w) };
        },
      });
    }
  }
  return cases;
}

interface AttnShape {
  label: string;
  tq: number;
  keys: number;
  hq: number;
  hkv: number;
  mask: AttentionMask;
  rope: boolean;
}

/**
 * Attention: SigLIP over one frame (1024 patches, bidirectional, no RoPE), the language model
 * prefilling a frame's 64 tokens against a long cache (keys rotated on load), and single-token
 * decode against 4k and 16k keys (memory-bound: GB/s of K and V read).
 */
export function attentionCases(precision: Precision, quick: boolean): BenchCase[] {
  const D = 64;
  const prefill: AttnShape[] = quick
    ? [{ label: 'small', tq: 37, keys: 70, hq: 6, hkv: 2, mask: 'causal', rope: true }]
    : [
        { label: 'SigLIP frame', tq: 1024, keys: 1024, hq: 12, hkv: 12, mask: 'bidirectional', rope: false },
        { label: 'LM 64 new tokens', tq: 64, keys: 4096, hq: 9, hkv: 3, mask: 'causal', rope: true },
        { label: 'LM 1024 tokens', tq: 1024, keys: 1024, hq: 9, hkv: 3, mask: 'causal', rope: true },
      ];
  const decode: AttnShape[] = quick
    ? [{ label: 'small', tq: 1, keys: 300, hq: 9, hkv: 3, mask: 'causal', rope: true }]
    : [
        { label: '4k cache', tq: 1, keys: 4096, hq: 9, hkv: 3, mask: 'causal', rope: true },
        { label: '16k cache', tq: 1, keys: 16384, hq: 9, hkv: 3, mask: 'causal', rope: true },
      ];
  const bytes = precision === 'f16' ? 2 : 4;
  const make = (s: AttnShape, kind: 'prefill' | 'decode'): BenchCase => {
    // causal work is about half the full score matrix when the queries span the keys
    const visible = s.mask === 'bidirectional' || s.tq === 1 ? s.keys : s.keys - s.tq / 2;
    return {
      name: `attention ${kind} ${s.label} Tq=${s.tq} S=${s.keys} H=${s.hq}/${s.hkv} ${s.mask}${s.rope ? ' +RoPE(K)' : ''}`,
      unit: kind === 'prefill' ? 'GFLOP/s' : 'GB/s',
      work: kind === 'prefill' ? 4 * s.tq * visible * D * s.hq : 2 * s.keys * s.hkv * D * bytes,
      setup(gpu) {
        const r = new Random(7);
        const q = Tensor.from(gpu, r.floats(s.tq * s.hq * D), [s.tq, s.hq, D], precision);
        const k = Tensor.from(gpu, r.floats(s.keys * s.hkv * D), [s.keys, s.hkv, D], precision);
        const v = Tensor.from(gpu, r.floats(s.keys * s.hkv * D), [s.keys, s.hkv, D], precision);
        const out = Tensor.empty(gpu, [s.tq, s.hq, D], precision);
        const rope = s.rope ? RopeTable.create(gpu, { headDim: D, theta: 100000, maxPositions: s.keys }) : undefined;
        const kPositions = s.rope ? Tensor.from(gpu, Uint32Array.from({ length: s.keys }, (_, i) => i), [s.keys], 'u32') : undefined;
        const scratchSize = attentionScratchElements({ tq: s.tq, hq: s.hq, hkv: s.hkv, headDim: D, keys: s.keys });
        const scratch = scratchSize > 0 ? Tensor.empty(gpu, [scratchSize], 'f32') : undefined;
        const options = { mask: s.mask, rope, kPositions, scratch };
        return {
          record: (rec) => (kind === 'prefill' ? attentionPrefill(rec, q, k, v, out, options) : attentionDecode(rec, q, k, v, out, options)),
          destroy: () => {
            for (const t of [q, k, v, out, kPositions, scratch]) t?.destroy();
            rope?.destroy();
          },
        };
      },
    };
  };
  return [...prefill.map((s) => make(s, 'prefill')), ...decode.map((s) => make(s, 'decode'))];
}
