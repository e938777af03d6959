import source from '../../shaders/elementwise.wgsl?raw';
import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { UniformWriter } from '../gpu/uniforms';
import { grid, pipeline, type Precision } from './common';

const WG = 256;

function run(
  rec: CommandRecorder,
  entryPoint: 'add' | 'gelu_tanh' | 'silu_mul',
  a: Tensor,
  b: Tensor | null,
  out: Tensor,
): void {
  const precision = out.dtype as Precision;
  for (const t of b ? [a, b] : [a]) {
    if (t.dtype !== out.dtype) throw new InputError(`${entryPoint}: inputs are ${t.dtype}, output is ${out.dtype}`);
    if (t.size !== out.size) throw new InputError(`${entryPoint}: ${t.size} input elements, ${out.size} output elements`);
  }
  const gpu: GpuDevice = rec.gpu;
  const p = pipeline(gpu, { name: 'elementwise', source, precision, entryPoint });
  const uniforms = new UniformWriter().u32(out.size).finish();
  rec.dispatch(p, uniforms, [a, b, out], grid(gpu, Math.ceil(out.size / WG)));
}

/** out = a + b. `out` may be `a` only if the caller accepts aliasing (WebGPU forbids it in one dispatch): pass a distinct tensor. */
export function add(rec: CommandRecorder, a: Tensor, b: Tensor, out: Tensor): void {
  run(rec, 'add', a, b, out);
}

/** out = GELU(a), tanh approximation. */
export function geluTanh(rec: CommandRecorder, a: Tensor, out: Tensor): void {
  run(rec, 'gelu_tanh', a, null, out);
}

/** out = SiLU(gate) · up. */
export function siluMul(rec: CommandRecorder, gate: Tensor, up: Tensor, out: Tensor): void {
  run(rec, 'silu_mul', gate, up, out);
}
