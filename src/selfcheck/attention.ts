import { roundToF16 } from '../gpu/f16';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { attentionDecode, attentionPrefill, attentionScratchElements, type AttentionMask, type DecodeOptions, type PrefillOptions } from '../kernels/attention';
import { applyRope, RopeTable } from '../kernels/rope';
import { attentionRef, type MaskRef } from '../reference/attention';
import { applyRopeRef } from '../reference/rope';
import { Random } from '../reference/random';
import { compare, compareFused, TOLERANCE, type Tolerance } from './compare';
import type { KernelCheck } from './types';

const THETA = 100000;
const MAX_POSITION = 20000;

interface AttentionCase {
  kernel: 'prefill' | 'decode';
  tq: number;
  keys: number;
  /** Rows of the K/V buffers; rows past `keys` hold large values that must not leak in. */
  capacity?: number;
  hq: number;
  hkv: number;
  headDim: number;
  mask: AttentionMask;
  sinks?: number;
  window?: number;
  /** RoPE on the keys from scrambled, non-contiguous positions. */
  rope: boolean;
  /** f16 K/V cache (with f32 math: read as packed pairs). */
  kvF16?: boolean;
  /** Give the kernel scratch (key splits); `splits` / `keysPerChunk` force their count. */
  scratch?: boolean;
  splits?: number;
  keysPerChunk?: number;
  /** q given unrotated with its positions (qPositions): the kernel rotates it (decode: as it reads q). */
  rotateQ?: boolean;
}

// Prefill tiles: 64 query rows (Tq·Hq/Hkv) and 32 keys at D = 64 (16 at D = 128), keys in groups of 4.
// Decode tiles: 16 keys at D = 64 (8 at D = 128). Most sizes are deliberately not multiples; one
// prefill case is.
const CASES: AttentionCase[] = [
  { kernel: 'prefill', tq: 37, keys: 70, hq: 6, hkv: 2, headDim: 64, mask: 'causal', rope: true },
  { kernel: 'prefill', tq: 37, keys: 70, hq: 6, hkv: 2, headDim: 64, mask: 'causal', rope: true, scratch: true, splits: 3 },
  // the vision tower's case: bidirectional, no RoPE; the buffers are larger than the valid keys
  { kernel: 'prefill', tq: 50, keys: 50, capacity: 64, hq: 4, hkv: 4, headDim: 64, mask: 'bidirectional', rope: false },
  { kernel: 'prefill', tq: 37, keys: 70, hq: 9, hkv: 3, headDim: 64, mask: 'sinks-window', sinks: 4, window: 16, rope: true },
  // whole tiles are skipped between the sinks and the window here, and one split sees nothing
  { kernel: 'prefill', tq: 10, keys: 150, hq: 9, hkv: 3, headDim: 64, mask: 'sinks-window', sinks: 4, window: 16, rope: true, scratch: true, splits: 3 },
  // exact tile multiples: 32 queries × 2 heads per kv head = 64 rows, 64 keys
  { kernel: 'prefill', tq: 32, keys: 64, hq: 4, hkv: 2, headDim: 64, mask: 'causal', rope: true },
  { kernel: 'prefill', tq: 20, keys: 45, hq: 4, hkv: 2, headDim: 128, mask: 'causal', rope: true, kvF16: true },
  { kernel: 'decode', tq: 1, keys: 1, hq: 9, hkv: 3, headDim: 64, mask: 'causal', rope: true, scratch: true },
  // 300 keys: 19 chunks of 16 (default plan), the last one 12 keys long
  { kernel: 'decode', tq: 1, keys: 300, hq: 9, hkv: 3, headDim: 64, mask: 'causal', rope: true, scratch: true },
  // 44 chunks: the merge's four-at-a-time loop runs, then its tail
  { kernel: 'decode', tq: 1, keys: 700, hq: 9, hkv: 3, headDim: 64, mask: 'causal', rope: true, scratch: true },
  // 5 chunks of 64 (4 tiles each), three of them entirely outside the sinks and the window
  { kernel: 'decode', tq: 1, keys: 300, hq: 9, hkv: 3, headDim: 64, mask: 'sinks-window', sinks: 4, window: 16, rope: true, scratch: true, keysPerChunk: 64 },
  // chunks of 96 keys (6 tiles), three queries × 3 heads per kv head
  { kernel: 'decode', tq: 3, keys: 300, hq: 15, hkv: 5, headDim: 64, mask: 'causal', rope: true, scratch: true, keysPerChunk: 96 },
  // no scratch: one workgroup per kv head walks the whole cache; f16 cache, larger buffers
  { kernel: 'decode', tq: 1, keys: 300, capacity: 320, hq: 9, hkv: 3, headDim: 64, mask: 'causal', rope: true, kvF16: true },
  { kernel: 'decode', tq: 2, keys: 100, hq: 4, hkv: 2, headDim: 128, mask: 'sinks-window', sinks: 4, window: 40, rope: true, scratch: true },
  // queries rotated by the kernels (qPositions): decode as it reads them, one chunk and split; prefill in place first
  { kernel: 'decode', tq: 1, keys: 70, hq: 9, hkv: 3, headDim: 64, mask: 'causal', rope: true, rotateQ: true },
  { kernel: 'decode', tq: 3, keys: 300, hq: 15, hkv: 5, headDim: 64, mask: 'causal', rope: true, scratch: true, keysPerChunk: 96, rotateQ: true },
  { kernel: 'decode', tq: 2, keys: 100, hq: 4, hkv: 2, headDim: 128, mask: 'causal', rope: true, kvF16: true, rotateQ: true },
  { kernel: 'prefill', tq: 37, keys: 70, hq: 6, hkv: 2, headDim: 64, mask: 'causal', rope: true, rotateQ: true },
];

/**
 * f32: outputs are convex mixes of V (|v| ≲ 4) with scores of order 10; f32 rounding of the dot
 * products and exp leaves ~1e-6, so 1e-4 absolute is a loose but meaningful bound (a wrong key,
 * position or mask moves outputs by ~0.1). f16: inputs are f16 in both kernel and reference, the math
 * is f32 inside, and the output is rounded once to f16: ≤ 2^-11 relative, well inside TOLERANCE.f16.
 */
const ATTENTION_TOLERANCE: Record<'f32' | 'f16', Tolerance> = { f32: { atol: 1e-4, rtol: 0 }, f16: TOLERANCE.f16 };

function describe(c: AttentionCase): string {
  const parts = [`${c.kernel} ${c.mask}`, `Hq=${c.hq}/Hkv=${c.hkv} D=${c.headDim}`, `Tq=${c.tq} S=${c.keys}`];
  if (c.mask === 'sinks-window') parts.push(`sinks=${c.sinks} window=${c.window}`);
  parts.push(c.rope ? 'RoPE keys' : 'no RoPE');
  if (c.capacity) parts.push(`capacity=${c.capacity}`);
  if (c.kvF16) parts.push('f16 cache');
  if (c.splits) parts.push(`splits=${c.splits}`);
  if (c.keysPerChunk) parts.push(`chunk=${c.keysPerChunk}`);
  if (c.scratch && !c.splits && !c.keysPerChunk) parts.push('scratch');
  if (c.rotateQ) parts.push('q rotated in the kernel');
  return parts.join(' ');
}

function check(c: AttentionCase, index: number): KernelCheck {
  return {
    name: `attention ${describe(c)}`,
    family: 'attention',
    async run(gpu, precision) {
      const rng = new Random(2000 + index);
      const capacity = c.capacity ?? c.keys;
      const kvDType = c.kvF16 ? 'f16' : precision;
      const round = (x: Float32Array, f16: boolean) => (f16 ? roundToF16(x) : x);
      const q = round(rng.normals(c.tq * c.hq * c.headDim), precision === 'f16');
      const k = round(rng.normals(capacity * c.hkv * c.headDim), kvDType === 'f16');
      const v = round(rng.normals(capacity * c.hkv * c.headDim), kvDType === 'f16');
      // rows past the valid keys: values that would dominate any output they leaked into
      k.fill(100, c.keys * c.hkv * c.headDim);
      v.fill(100, c.keys * c.hkv * c.headDim);
      // scrambled, non-contiguous positions: a key rotated to its cache index instead would be far off
      const positions = new Uint32Array(capacity).map(() => rng.int(0, MAX_POSITION));

      const qStart = c.keys - c.tq;
      // rotateQ: the queries' positions are their cache rows' (as a model step writes them); the
      // reference gets q rotated on the CPU and rounded to the activation dtype, as the kernels keep it
      const qPositions = positions.slice(qStart, qStart + c.tq);
      const qRef = c.rotateQ ? round(applyRopeRef(q, c.tq, c.hq, c.headDim, qPositions, THETA), precision === 'f16') : q;
      const mask: MaskRef =
        c.mask === 'bidirectional'
          ? { kind: 'bidirectional' }
          : c.mask === 'causal'
            ? { kind: 'causal', qStart }
            : { kind: 'sinks-window', qStart, sinks: c.sinks!, window: c.window! };
      const expected = attentionRef({
        q: qRef, k, v, tq: c.tq, keys: c.keys, hq: c.hq, hkv: c.hkv, headDim: c.headDim, mask,
        rope: c.rope ? { positions, theta: THETA } : undefined,
      });

      const tq = Tensor.from(gpu, q, [c.tq, c.hq, c.headDim], precision);
      const tk = Tensor.from(gpu, k, [capacity, c.hkv, c.headDim], kvDType);
      const tv = Tensor.from(gpu, v, [capacity, c.hkv, c.headDim], kvDType);
      const out = Tensor.empty(gpu, [c.tq, c.hq, c.headDim], precision);
      const tensors = [tq, tk, tv, out];
      const table = c.rope ? RopeTable.create(gpu, { headDim: c.headDim, theta: THETA, maxPositions: MAX_POSITION }) : undefined;
      const kPositions = c.rope ? Tensor.from(gpu, positions, [capacity], 'u32') : undefined;
      if (kPositions) tensors.push(kPositions);
      // the default plans get exactly what attentionScratchElements asks for; forced splits a generous size
      const forced = c.splits !== undefined || c.keysPerChunk !== undefined;
      const scratchSize = forced
        ? c.tq * c.hq * 16 * (c.headDim + 4)
        : attentionScratchElements({ tq: c.tq, hq: c.hq, hkv: c.hkv, headDim: c.headDim, keys: c.keys });
      const scratch = c.scratch ? Tensor.empty(gpu, [Math.max(1, scratchSize)], 'f32') : undefined;
      if (scratch) tensors.push(scratch);

      const qPositionsTensor = c.rotateQ ? Tensor.from(gpu, qPositions, [c.tq], 'u32') : undefined;
      if (qPositionsTensor) tensors.push(qPositionsTensor);
      const options: PrefillOptions & DecodeOptions = {
        mask: c.mask, keys: c.keys, sinks: c.sinks, window: c.window,
        rope: table, kPositions, scratch, splits: c.splits, keysPerChunk: c.keysPerChunk, qPositions: qPositionsTensor,
      };
      const rec = new CommandRecorder(gpu);
      if (c.kernel === 'prefill') attentionPrefill(rec, tq, tk, tv, out, options);
      else attentionDecode(rec, tq, tk, tv, out, options);
      rec.submit();
      const result = compare(await out.readFloat(), expected, ATTENTION_TOLERANCE[precision]);
      tensors.forEach((t) => t.destroy());
      table?.destroy();
      return result;
    },
  };
}

/**
 * The decode kernel's query rotation against applyRope then the decode kernel on the rotated q:
 * the fused rotation uses rope.wgsl's expressions and rounding, so in f32 math the model's decode
 * steps keep their bits (compareFused: in f16 math within its tolerance).
 */
const rotateQAgreement: KernelCheck = {
  name: 'attention decode: q rotated in the kernel = applyRope + decode bits, Hq=9/Hkv=3 D=64 Tq=1 S=300',
  family: 'attention',
  async run(gpu, precision) {
    const [hq, hkv, headDim, keys] = [9, 3, 64, 300];
    const rng = new Random(4242);
    const round = (x: Float32Array) => (precision === 'f16' ? roundToF16(x) : x);
    const positions = new Uint32Array(keys).map(() => rng.int(0, MAX_POSITION));
    const table = RopeTable.create(gpu, { headDim, theta: THETA, maxPositions: MAX_POSITION });
    const qValues = round(rng.normals(hq * headDim));
    const q = [Tensor.from(gpu, qValues, [1, hq, headDim], precision), Tensor.from(gpu, qValues, [1, hq, headDim], precision)];
    const k = Tensor.from(gpu, round(rng.normals(keys * hkv * headDim)), [keys, hkv, headDim], precision);
    const v = Tensor.from(gpu, round(rng.normals(keys * hkv * headDim)), [keys, hkv, headDim], precision);
    const kPositions = Tensor.from(gpu, positions, [keys], 'u32');
    const qPositions = Tensor.from(gpu, positions.slice(keys - 1), [1], 'u32');
    const outs = [Tensor.empty(gpu, [1, hq, headDim], precision), Tensor.empty(gpu, [1, hq, headDim], precision)];
    const base = { mask: 'causal' as const, keys, rope: table, kPositions };
    const rec = new CommandRecorder(gpu);
    attentionDecode(rec, q[0], k, v, outs[0], { ...base, qPositions });
    applyRope(rec, q[1], qPositions, table, q[1]);
    attentionDecode(rec, q[1], k, v, outs[1], base);
    rec.submit();
    const [a, b] = await Promise.all(outs.map((o) => o.readFloat()));
    const result = compareFused(a, b, precision);
    for (const t of [...q, k, v, kPositions, qPositions, ...outs]) t.destroy();
    table.destroy();
    return result;
  },
};

export const attentionChecks: KernelCheck[] = [...CASES.map(check), rotateQAgreement];
