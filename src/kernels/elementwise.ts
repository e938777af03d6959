import source from '../../shaders/elementwise.wgsl?raw';
import { InputError } from '../errors';
import { defineKernel, read, readWrite } from '../gpu/kernel-contract';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { dispatchKernel, grid, type Precision } from './common';

const elementwiseKernel = defineKernel({
  name: 'elementwise',
  body: [source],
  uniforms: { count: 'u32' },
  bindings: { a: read('array<act>'), b: read('array<act>'), out: readWrite('array<act>') },
  constants: { WG: 256 },
});

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
  const workgroups = grid(rec.gpu, Math.ceil(out.size / elementwiseKernel.constants.WG));
  dispatchKernel(rec, elementwiseKernel, { precision, entryPoint }, { count: out.size }, { a, b, out }, workgroups);
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
