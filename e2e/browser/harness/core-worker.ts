// A dedicated worker that acquires WebGPU and runs kernel checks: the engine will live in a
// worker, so the GPU core must work there too. Exposed through comlink, as the engine will be.
import * as Comlink from 'comlink';
import { GpuDevice } from '../../../src/gpu/device';
import { runChecks } from '../../../src/selfcheck/index';

const api = {
  async run(filter: string) {
    const gpu = await GpuDevice.acquire();
    const reports = await runChecks(gpu, { filter, precisions: ['f32'] });
    gpu.destroy();
    return { architecture: gpu.adapter.architecture, inWorker: typeof (globalThis as { document?: unknown }).document === 'undefined', reports };
  },
};
export type CoreWorkerApi = typeof api;
Comlink.expose(api);
