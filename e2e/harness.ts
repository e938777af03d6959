// The page Playwright drives for kernel parity tests: it acquires the GPU once and exposes the
// self-check registry, so each test runs real kernels in this Chromium's WebGPU.
import { GpuDevice } from '../src/gpu/device';
import type { Precision } from '../src/kernels/common';
import { checks, runChecks, type CheckReport } from '../src/selfcheck/index';

declare global {
  interface Window {
    harness: {
      adapter: () => Promise<{ vendor: string; architecture: string; f16: boolean; subgroups: boolean; timestamps: boolean }>;
      families: () => string[];
      names: (family: string) => string[];
      run: (filter: string, precision: Precision) => Promise<CheckReport[]>;
    };
  }
}

const gpuPromise = GpuDevice.acquire();

window.harness = {
  async adapter() {
    const gpu = await gpuPromise;
    return { vendor: gpu.adapter.vendor, architecture: gpu.adapter.architecture, ...gpu.features };
  },
  families: () => [...new Set(checks.map((c) => c.family))],
  names: (family) => checks.filter((c) => c.family === family).map((c) => c.name),
  async run(filter, precision) {
    const gpu = await gpuPromise;
    return runChecks(gpu, { filter, precisions: [precision] });
  },
};
document.getElementById('status')!.textContent = 'ready';
