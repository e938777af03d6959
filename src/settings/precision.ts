import { InputError } from '../errors';

/**
 * 'auto' precision resolved, for every surface (the SDK on the page, the CLI on Dawn): f16 math
 * where the adapter has shader-f16, else f32. An explicit 'f16' on an adapter without it is an
 * InputError named by `label`. `adapterHasF16` null: no adapter to ask (no WebGPU on the page):
 * f32, and the load that follows reports the missing GPU.
 */
export function resolvePrecision(requested: 'auto' | 'f16' | 'f32', adapterHasF16: boolean | null, label: string): 'f16' | 'f32' {
  if (requested === 'f32') return 'f32';
  if (requested === 'f16' && adapterHasF16 === false) throw new InputError(`${label} f16 needs the shader-f16 feature, which this GPU adapter does not offer; use auto or f32`);
  return adapterHasF16 ? 'f16' : 'f32';
}
