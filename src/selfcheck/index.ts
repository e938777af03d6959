import type { GpuDevice } from '../gpu/device';
import type { Precision } from '../kernels/common';
import { copyChecks } from './copy';
import { elementwiseChecks } from './elementwise';
import { resizeChecks } from './resize';
import { visionOpsChecks } from './vision-ops';
import { matmulChecks } from './matmul';
import { ropeChecks } from './rope';
import { attentionChecks } from './attention';
import { normChecks } from './norm';
import { softmaxChecks } from './softmax';
import { embeddingChecks } from './embedding';
import { kvquantChecks } from './kvquant';
import { kvSummaryChecks } from './kv-summary';
import { samplingChecks } from './sampling';
import type { CheckResult, KernelCheck } from './types';

export type { CheckResult, KernelCheck } from './types';

/**
 * Every kernel's parity check against its TypeScript reference. The demo page runs them as its
 * self-check, the Playwright suite runs them in Chromium, and `streamvlm selfcheck` in Node (Dawn).
 */
export const checks: readonly KernelCheck[] = [
  ...elementwiseChecks,
  ...copyChecks,
  ...matmulChecks,
  ...ropeChecks,
  ...attentionChecks,
  ...normChecks,
  ...softmaxChecks,
  ...embeddingChecks,
  ...kvquantChecks,
  ...kvSummaryChecks,
  ...samplingChecks,
  ...resizeChecks,
  ...visionOpsChecks,
];

export interface CheckReport extends CheckResult {
  name: string;
  family: string;
  precision: Precision;
  ms: number;
}

/** Precisions this device can run: f32 always, f16 with `shader-f16`. */
export function precisionsOf(gpu: GpuDevice): Precision[] {
  return gpu.features.f16 ? ['f32', 'f16'] : ['f32'];
}

/**
 * Runs checks and reports each: all of them, or with `filter` the family of that name, or else the
 * checks whose name contains it.
 */
export async function runChecks(
  gpu: GpuDevice,
  options: { filter?: string; precisions?: Precision[]; onResult?: (r: CheckReport) => void } = {},
): Promise<CheckReport[]> {
  const filter = options.filter;
  const isFamily = checks.some((c) => c.family === filter);
  const selected = checks.filter((c) => !filter || (isFamily ? c.family === filter : c.name.includes(filter)));
  const reports: CheckReport[] = [];
  for (const precision of options.precisions ?? precisionsOf(gpu)) {
    for (const check of selected) {
      const t0 = performance.now();
      let result: CheckResult;
      // Validation errors (a shader that does not compile, a bad binding) do not throw in WebGPU;
      // an error scope turns them into a failed check instead of a silent wrong answer.
      gpu.device.pushErrorScope('validation');
      try {
        result = await check.run(gpu, precision);
      } catch (e) {
        result = { maxAbsError: Infinity, tolerance: '', pass: false, detail: `threw: ${(e as Error).message}` };
      }
      const gpuError = await gpu.device.popErrorScope();
      if (gpuError) result = { ...result, pass: false, detail: `GPU validation error: ${gpuError.message}` };
      const report = { name: check.name, family: check.family, precision, ms: performance.now() - t0, ...result };
      reports.push(report);
      options.onResult?.(report);
    }
  }
  return reports;
}
