import { resolvePrecision } from '../settings/index';
import { navigatorGpu } from '../platform/browser/webgpu';

/**
 * The activation precision for this page's GPU, checked on the page before the worker starts (the
 * rule is resolvePrecision's, the CLI's too). The worker asks for the same high-performance adapter;
 * where WebGPU is missing this returns f32 and the worker's load reports GpuUnavailableError.
 */
export async function choosePrecision(requested: 'auto' | 'f16' | 'f32'): Promise<'f16' | 'f32'> {
  if (requested === 'f32') return 'f32';
  const gpu = navigatorGpu();
  const adapter = gpu ? await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null) : null;
  return resolvePrecision(requested, adapter ? adapter.features.has('shader-f16') : null, 'StreamVLM.load: precision');
}
