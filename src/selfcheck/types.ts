import type { GpuDevice } from '../gpu/device';
import type { Precision } from '../kernels/common';

/** Outcome of running one kernel on random data and comparing it with the TypeScript reference. */
export interface CheckResult {
  /** Largest |gpu − reference| over the output. */
  maxAbsError: number;
  /** The bound that was asserted, as text (e.g. "|e| ≤ 1e-5 + 1e-5·|ref|"). */
  tolerance: string;
  pass: boolean;
  /** Anything worth reporting beside the error (counts of mismatches, chosen ids). */
  detail?: string;
}

export interface KernelCheck {
  /** Unique, e.g. "matmul q4 67×45×70 bias". */
  name: string;
  /** Kernel family, e.g. "matmul": tests group checks by family. */
  family: string;
  run(gpu: GpuDevice, precision: Precision): Promise<CheckResult>;
}
