import { InputError } from '../errors';
import { navigatorGpu } from '../platform/browser/webgpu';

/**
 * The activation precision for 'auto' (f16 where the adapter has shader-f16, else f32), checked on
 * the page before the worker starts. The worker asks for the same high-performance adapter; where
 * WebGPU is missing this returns f32 and the worker's load reports GpuUnavailableError.
 */
export async function choosePrecision(requested: 'auto' | 'f16' | 'f32'): Promise<'f16' | 'f32'> {
  if (requested === 'f32') return 'f32';
  const gpu = navigatorGpu();
  const adapter = gpu ? await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null) : null;
  const f16 = adapter?.features.has('shader-f16') ?? false;
  if (requested === 'f16' && adapter && !f16) throw new InputError("StreamVLM.load: precision 'f16' needs the shader-f16 feature, which this GPU lacks; use 'auto' or 'f32'");
  return f16 ? 'f16' : 'f32';
}
