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
 * submit-and-wait otherwise. A GPU idles at a low clock and takes a while to ramp up (an H100
 * went from 600 to 1980 MHz), so each case first runs until `warmMs` of GPU time have passed, then
 * reports the best of three runs of at least `minMs` each.
 */
export async function measure(gpu: GpuDevice, c: BenchCase, minMs = 30, warmMs = 200): Promise<BenchResult> {
  const { record, destroy, work = c.work } = c.setup(gpu);
  const timer = gpu.features.timestamps ? new GpuTimer(gpu.device, 4) : undefined;
  const run = async (iterations: number): Promise<{ ms: number; timed: boolean }> => {
    const t0 = performance.now();
    await submitAndWait(gpu, (rec) => {
      for (let i = 0; i < iterations; i++) record(rec);
    }, timer);
    const wallMs = performance.now() - t0;
    const gpuNs = timer ? (await timer.read()).reduce((a, b) => a + b, 0) : 0;
    return gpuNs > 0 ? { ms: gpuNs / 1e6, timed: true } : { ms: wallMs, timed: false };
  };
  try {
    await submitAndWait(gpu, record); // pipeline compilation, first touch of buffers
    let iterations = 1;
    let last = await run(iterations);
    while (last.ms < minMs && iterations < 4096) {
      iterations = Math.min(4096, Math.max(iterations * 2, Math.ceil((iterations * minMs * 1.2) / Math.max(last.ms, 1e-3))));
      last = await run(iterations);
    }
    for (let warm = last.ms; warm < warmMs; warm += (await run(iterations)).ms);
    let best = Infinity;
    let timed = false;
    for (let i = 0; i < 3; i++) {
      const r = await run(iterations);
      best = Math.min(best, r.ms);
      timed = r.timed;
    }
    const msPerIteration = best / iterations;
    return {
      name: c.name,
      unit: c.unit,
      value: work / (msPerIteration / 1e3) / 1e9,
      msPerIteration,
      iterations,
      timing: timed ? 'timestamp-query' : 'wall-clock',
    };
  } finally {
    destroy();
    timer?.destroy();
  }
}
