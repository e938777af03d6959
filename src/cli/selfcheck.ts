import type { GpuDevice } from '../gpu/device';
import type { Precision } from '../kernels/common';
import { precisionsOf, runChecks, type CheckReport } from '../selfcheck/index';

/** `streamvlm selfcheck`: every kernel against its TypeScript reference on this machine's GPU. */
export async function selfcheckCommand(
  gpu: GpuDevice,
  options: { filter?: string; precision?: Precision; json: boolean },
): Promise<number> {
  const precisions = options.precision ? [options.precision] : precisionsOf(gpu);
  const print = (r: CheckReport) => {
    if (!options.json) {
      const err = Number.isFinite(r.maxAbsError) ? r.maxAbsError.toExponential(2) : String(r.maxAbsError);
      console.log(`${r.pass ? 'ok  ' : 'FAIL'} [${r.precision}] ${r.name}  max|e| ${err}${r.detail ? `  ${r.detail}` : ''}`);
    }
  };
  const reports = await runChecks(gpu, { filter: options.filter, precisions, onResult: print });
  const failed = reports.filter((r) => !r.pass).length;
  if (options.json) {
    console.log(JSON.stringify({ adapter: gpu.adapter, features: gpu.features, reports }));
  } else {
    console.log(`${reports.length - failed} passed, ${failed} failed`);
  }
  return failed === 0 && reports.length > 0 ? 0 : 1;
}
