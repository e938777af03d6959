import source from '../../shaders/rope.wgsl?raw';
import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import { defineKernel, read, readWrite } from '../gpu/kernel-contract';
import type { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { dispatchKernel, expectDType, grid, type Precision } from './common';

const ropeKernel = defineKernel({
  name: 'rope',
  body: [source],
  uniforms: {
    pairs: 'u32', // tokens * heads * half_dim
    heads: 'u32',
    half_dim: 'u32',
    max_positions: 'u32',
  },
  bindings: {
    x: read('array<act>'),
    positions: read('array<u32>'),
    table: read('array<f32>'),
    out: readWrite('array<act>'),
    // The in-place entry point reads and writes this one (WebGPU forbids binding a buffer twice
    // when one binding is writable).
    x_in_place: readWrite('array<act>'),
  },
  constants: { WG: 256 },
});

export interface RopeConfig {
  /** Head dimension D (even; the attention kernels need a multiple of 8). */
  headDim: number;
  /** `rope_theta` of the config (SmolVLM2's Llama: 100000). */
  theta: number;
  /** Positions 0 … maxPositions−1 can be used. */
  maxPositions: number;
}

/**
 * transformers' Llama inverse frequencies in f32: `1 / theta ** (arange(0, D, 2).float() / D)`, every
 * step rounded to f32 as torch computes it.
 */
export function ropeInvFreq(headDim: number, theta: number): Float32Array {
  const out = new Float32Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) {
    out[i] = Math.fround(1 / Math.fround(Math.pow(theta, Math.fround(Math.fround(2 * i) / headDim))));
  }
  return out;
}

/**
 * Host data of a RoPE table, [maxPositions, 2, D/2] f32: row p holds cos then sin of
 * f32(f32(p) · inv_freq[i]) (the angle rounded to f32 exactly as transformers forms it; cos and sin
 * then in f64 and rounded, at least as precise as torch's f32 cos/sin).
 */
export function ropeTableData({ headDim, theta, maxPositions }: RopeConfig): Float32Array {
  const half = headDim / 2;
  const invFreq = ropeInvFreq(headDim, theta);
  const data = new Float32Array(maxPositions * headDim);
  for (let p = 0; p < maxPositions; p++) {
    const row = p * headDim;
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(Math.fround(p) * invFreq[i]);
      data[row + i] = Math.cos(angle);
      data[row + half + i] = Math.sin(angle);
    }
  }
  return data;
}

/**
 * cos/sin of every position, uploaded once and indexed by position in the kernels. Built on the CPU
 * because GPU cos/sin of large angles (positions run into the tens of thousands) is imprecise.
 * `tensor` is [maxPositions, 2, D/2] f32 in both precisions (it is small and read once per key).
 */
export class RopeTable {
  private constructor(
    readonly config: Readonly<RopeConfig>,
    readonly tensor: Tensor,
  ) {}

  get headDim(): number {
    return this.config.headDim;
  }

  get maxPositions(): number {
    return this.config.maxPositions;
  }

  static create(gpu: GpuDevice, config: RopeConfig): RopeTable {
    const { headDim, theta, maxPositions } = config;
    if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2) throw new InputError(`RoPE head dimension must be a positive even integer, got ${headDim}`);
    if (!(theta > 0)) throw new InputError(`rope_theta must be positive, got ${theta}`);
    if (!Number.isInteger(maxPositions) || maxPositions <= 0) throw new InputError(`RoPE maxPositions must be a positive integer, got ${maxPositions}`);
    const tensor = Tensor.from(gpu, ropeTableData(config), [maxPositions, 2, headDim / 2], 'f32', 'rope table');
    return new RopeTable({ ...config }, tensor);
  }

  destroy(): void {
    this.tensor.destroy();
  }
}

/**
 * out = RoPE(x) with token t rotated to `positions[t]`, every head alike (Hugging Face rotate-half form).
 * x and out: [T, H, D] activations (f32 or f16, the precision follows their dtype); positions: [T] u32,
 * each < table.maxPositions. `out` may be `x` itself (rotated in place).
 */
export function applyRope(rec: CommandRecorder, x: Tensor, positions: Tensor, table: RopeTable, out: Tensor): void {
  if (x.shape.length !== 3) throw new InputError(`applyRope: x must be [tokens, heads, headDim], got [${x.shape.join(', ')}]`);
  const [tokens, heads, headDim] = x.shape;
  if (headDim !== table.headDim) throw new InputError(`applyRope: x has head dimension ${headDim}, the RoPE table ${table.headDim}`);
  if (out.dtype !== x.dtype || out.shape.join() !== x.shape.join()) {
    throw new InputError(`applyRope: out is ${out.dtype} [${out.shape.join(', ')}], x is ${x.dtype} [${x.shape.join(', ')}]`);
  }
  if (x.dtype !== 'f32' && x.dtype !== 'f16') throw new InputError(`applyRope: x must be f32 or f16, got ${x.dtype}`);
  expectDType(positions, 'u32', 'applyRope positions');
  if (positions.size !== tokens) throw new InputError(`applyRope: ${positions.size} positions for ${tokens} tokens`);
  const precision = x.dtype as Precision;
  const inPlace = out === x;
  const gpu = rec.gpu;
  const pairs = tokens * heads * (headDim / 2);
  const uniforms = { pairs, heads, half_dim: headDim / 2, max_positions: table.maxPositions };
  const bindings = inPlace ? { positions, table: table.tensor, x_in_place: x } : { x, positions, table: table.tensor, out };
  const call = { precision, entryPoint: inPlace ? 'rope_in_place' : 'rope' };
  dispatchKernel(rec, ropeKernel, call, uniforms, bindings, grid(gpu, Math.ceil(pairs / ropeKernel.constants.WG)));
}
