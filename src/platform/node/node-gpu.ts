import { GpuDevice } from '../../gpu/device';
import { GpuUnavailableError } from '../../errors';
import { cpuAdapterPacing, isCpuAdapter } from './cpu-adapter-pacing';
import { findVulkanLoader, type VulkanLoader } from './vulkan-loader';

/** The `webgpu` package's entry points (Dawn for Node). */
interface Dawn {
  create(flags: string[]): GPU;
  globals: object;
}

/** Dawn instances in use. Kept reachable on purpose: a collected instance takes its devices down. */
const instances: GPU[] = [];

/**
 * Loads Dawn. `webgpu` is an optional dependency (a browser app can leave its 130 MB of native
 * binaries out), and its binary exists only for some platforms: either failure is one clear line.
 */
async function loadDawn(): Promise<Dawn> {
  try {
    return (await import('webgpu')) as unknown as Dawn;
  } catch (cause) {
    const message = (cause as Error).message ?? '';
    const platform = `${process.platform}-${process.arch}`;
    if ((cause as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && /'webgpu'/.test(message)) {
      throw new GpuUnavailableError('the webgpu package (Dawn for Node) is not installed', 'Run `npm install webgpu` beside streamvlm (it is an optional dependency, left out by --omit=optional).', { cause });
    }
    if (/dawn\.node/.test(message)) {
      throw new GpuUnavailableError(`Dawn (the webgpu package) has no prebuilt binary for ${platform}`, 'Use Linux x64/arm64, macOS or Windows x64/arm64, or the browser SDK.', { cause });
    }
    const advice =
      process.platform === 'darwin'
        ? 'Reinstall the webgpu package with its install script allowed (it clears macOS quarantine from dawn.node), or run: xattr -d com.apple.quarantine node_modules/webgpu/dist/darwin-universal/dawn.node'
        : 'Reinstall the webgpu package; on Linux its binary needs glibc 2.34+ and libstdc++ with GLIBCXX_3.4.30 (Ubuntu 22.04, Debian 12 or newer).';
    throw new GpuUnavailableError(`Dawn (the webgpu package) could not be loaded on ${platform}: ${message.split('\n')[0]}`, advice, { cause });
  }
}

/** Why no adapter came up, as far as can be told. */
function noAdapter(loader: VulkanLoader | null): string {
  return process.platform === 'linux' && !loader ? 'Dawn found no GPU adapter: there is no Vulkan loader (libvulkan.so.1) on this machine' : 'Dawn found no GPU adapter';
}

/** What to install when no adapter came up, for this platform. */
function installAdvice(loader: VulkanLoader | null): string {
  if (process.platform !== 'linux') return 'Update the GPU driver; Dawn needs Metal (macOS) or Direct3D 12 (Windows).';
  if (!loader) {
    return 'No Vulkan loader (libvulkan.so.1) was found: install it (Debian/Ubuntu: apt install libvulkan1 mesa-vulkan-drivers; Fedora: dnf install vulkan-loader mesa-vulkan-drivers), or Chromium, whose SwiftShader serves as a CPU fallback.';
  }
  return 'Install your GPU\'s Vulkan driver (Debian/Ubuntu: apt install mesa-vulkan-drivers; NVIDIA: its proprietary driver), or Chromium, whose SwiftShader serves as a CPU fallback.';
}

export interface NodeGpuOptions {
  disableF16?: boolean;
  /** Called once with the adapter in use, e.g. to tell the user (the CLI does, on stderr). */
  onAdapter?: (description: string) => void;
}

/**
 * WebGPU in Node through Dawn (the `webgpu` package). `DAWN_TOGGLES` passes Dawn toggles (e.g. to
 * expose shader-f16 on NVIDIA). On Linux a Vulkan loader is found first (the system's, else a
 * browser's: src/platform/node/vulkan-loader.ts). When the system's Vulkan drivers give no adapter Dawn
 * accepts (none installed, or only Mesa's lavapipe, which Dawn rejects), falls back to SwiftShader
 * beside a browser's loader; the Vulkan loader reads VK_ICD_FILENAMES per instance, so a second
 * instance sees it. Failure is a GpuUnavailableError that names what to install.
 */
export async function acquireNodeGpu(options: NodeGpuOptions = {}): Promise<GpuDevice> {
  const loader = findVulkanLoader();
  const dawn = await loadDawn();
  Object.assign(globalThis, dawn.globals);
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const acquire = () => {
    const gpu = dawn.create(process.env.DAWN_TOGGLES ? [process.env.DAWN_TOGGLES] : []);
    instances.push(gpu);
    return GpuDevice.acquire({ gpu, disableF16: options.disableF16 });
  };
  let device: GpuDevice;
  let software = false;
  try {
    device = await acquire();
  } catch (error) {
    if (!(error instanceof GpuUnavailableError)) throw error;
    const canFallBack = !process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && loader?.swiftshaderIcd;
    // an adapter that would not open a device is not a missing driver
    if (/requestDevice/.test(error.message)) throw new GpuUnavailableError(`Dawn found a GPU adapter but could not open it (${error.message})`, 'Close other programs using the GPU, or update its driver.', { cause: error });
    if (!canFallBack) throw new GpuUnavailableError(noAdapter(loader), installAdvice(loader), { cause: error });
    process.env.VK_ICD_FILENAMES = loader!.swiftshaderIcd!;
    software = true;
    try {
      device = await acquire();
    } catch (second) {
      if (!(second instanceof GpuUnavailableError)) throw second;
      throw new GpuUnavailableError(`${noAdapter(loader)}, not even SwiftShader`, installAdvice(loader), { cause: second });
    }
  }
  const a = device.adapter;
  if (isCpuAdapter(a)) device.paceWaits(cpuAdapterPacing());
  const name = [a.vendor, a.description || a.device || a.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
  const via = loader && loader.from !== 'system' ? `, Vulkan loader from ${loader.from}` : '';
  options.onAdapter?.(`${name}${software ? ' (software fallback)' : ''}${via}`);
  return device;
}
