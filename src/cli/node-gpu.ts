import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { GpuDevice } from '../gpu/device';
import { GpuUnavailableError } from '../errors';

/** Debian's Chromium ships SwiftShader, a CPU Vulkan driver: the fallback adapter on machines without a GPU. */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Dawn instances in use. Kept reachable on purpose: a collected instance takes its devices down. */
const instances: GPU[] = [];

function acquire(disableF16?: boolean): Promise<GpuDevice> {
  const gpu = create(process.env.DAWN_TOGGLES ? [process.env.DAWN_TOGGLES] : []);
  instances.push(gpu);
  return GpuDevice.acquire({ gpu, disableF16 });
}

/**
 * WebGPU in Node through Dawn (the `webgpu` package). `DAWN_TOGGLES` passes Dawn toggles (e.g. to
 * expose shader-f16 on NVIDIA). When the system's Vulkan drivers give no adapter Dawn accepts
 * (none installed, or only Mesa's lavapipe, which Dawn rejects), falls back to Chromium's
 * SwiftShader; the Vulkan loader reads VK_ICD_FILENAMES per instance, so a second instance sees it.
 */
export async function acquireNodeGpu(options: { disableF16?: boolean } = {}): Promise<GpuDevice> {
  Object.assign(globalThis, globals);
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  try {
    return await acquire(options.disableF16);
  } catch (error) {
    const canFallBack = !process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && existsSync(SWIFTSHADER_ICD);
    if (!(error instanceof GpuUnavailableError) || !canFallBack) throw error;
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    return acquire(options.disableF16);
  }
}
