import { CommandRecorder } from '../src/gpu/recorder';
import type { GpuDevice } from '../src/gpu/device';
import { GpuTimer } from '../src/gpu/timer';

/** A benchmark case: what it moves or computes per iteration, and how to record one iteration. */
export interface BenchCase {
  name: string;
  /** What the figure means: GFLOP/s for compute-bound kernels, GB/s for memory-bound ones. */
  unit: 'GFLOP/s' | 'GB/s';
  /** FLOPs (for GFLOP/s) or bytes read + written (for GB/s) per iteration. */
  work: number;
  /**
   * Allocates inputs; returns how to record one iteration and how to free, and the work per
   * iteration when it is only known once the inputs exist (bytes of a packed weight).
   */
  setup(gpu: GpuDevice): { record(rec: CommandRecorder): void; destroy(): void; work?: number };
}

export interface BenchResult {
  name: string;
  unit: string;
  value: number;
  msPerIteration: number;
  iterations: number;
  timing: 'timestamp-query' | 'wall-clock';
}

async function submitAndWait(gpu: GpuDevice, record: (rec: CommandRecorder) => void, timer?: GpuTimer): Promise<void> {
  const rec = new CommandRecorder(gpu, timer);
  record(rec);
  rec.submit();
  await gpu.device.queue.onSubmittedWorkDone();
}

/**
 * GPU time per iteration: iterations recorded back to back in one compute pass (what a forward
 * pass looks like), timed with timestamp queries where the adapter has them, wall-clock around
 * submit-and-wait otherwise. Iterations grow until a run lasts at least `minMs`.
 */
export async function measure(gpu: GpuDevice, c: BenchCase, minMs = 30): Promise<BenchResult> {
  const { record, destroy, work = c.work } = c.setup(gpu);
  const timer = gpu.features.timestamps ? new GpuTimer(gpu.device, 4) : undefined;
  try {
    await submitAndWait(gpu, record); // warm-up: pipeline compilation, first-touch of buffers
    let iterations = 1;
    for (;;) {
      const t0 = performance.now();
      await submitAndWait(gpu, (rec) => {
        for (let i = 0; i < iterations; i++) record(rec);
      }, timer);
      const wallMs = performance.now() - t0;
      const gpuNs = timer ? (await timer.read()).reduce((a, b) => a + b, 0) : 0;
      const ms = gpuNs > 0 ? gpuNs / 1e6 : wallMs;
      if (ms >= minMs || iterations >= 4096) {
        const msPerIteration = ms / iterations;
        return {
          name: c.name,
          unit: c.unit,
          value: work / (msPerIteration / 1e3) / 1e9,
          msPerIteration,
          iterations,
          timing: gpuNs > 0 ? 'timestamp-query' : 'wall-clock',
        };
      }
      iterations = Math.min(4096, Math.max(iterations * 2, Math.ceil((iterations * minMs * 1.2) / Math.max(ms, 1e-3))));
    }
  } finally {
    destroy();
    timer?.destroy();
  }
}
