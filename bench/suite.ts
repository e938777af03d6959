import type { GpuDevice } from '../src/gpu/device';
import { Tensor } from '../src/gpu/tensor';
import type { Precision } from '../src/kernels/common';
import { copyBytes } from '../src/kernels/copy';
import { attentionCases, matmulCases, matvecCases, plainMatmulCases } from './cases-compute';
import { decodeTailCases, kvDequantCases } from './cases-memory';
import { measure, type BenchCase, type BenchResult } from './measure';

export interface SuiteOptions {
  /** Tiny sizes: proves the harness end to end on a CPU adapter (SwiftShader); figures meaningless. */
  quick: boolean;
  precisions: Precision[];
  onResult?: (r: BenchResult & { precision: Precision | '-' }) => void;
  /** Only the kernel cases whose name contains this (the baselines always run: they are the yardstick). */
  filter?: string;
}

/** Physical baselines measured in the same run: what the kernels' figures are compared against. */
function baselineCases(quick: boolean): BenchCase[] {
  const bytes = quick ? 4 << 20 : 256 << 20;
  return [
    {
      name: `copyBufferToBuffer ${bytes >> 20} MiB`,
      unit: 'GB/s',
      work: 2 * bytes, // read + write
      setup(gpu) {
        const a = Tensor.empty(gpu, [bytes / 4], 'u32'), b = Tensor.empty(gpu, [bytes / 4], 'u32');
        return { record: (rec) => rec.copy(a.buffer, 0, b.buffer, 0, bytes), destroy: () => (a.destroy(), b.destroy()) };
      },
    },
    {
      name: `compute copy (vec4<u32>) ${bytes >> 20} MiB`,
      unit: 'GB/s',
      work: 2 * bytes,
      setup(gpu) {
        const a = Tensor.empty(gpu, [bytes / 4], 'u32'), b = Tensor.empty(gpu, [bytes / 4], 'u32');
        return { record: (rec) => copyBytes(rec, a, 0, b, 0, bytes), destroy: () => (a.destroy(), b.destroy()) };
      },
    },
  ];
}

/** Kernel cases per precision; each family module appends its own. */
export type CaseFactory = (precision: Precision, quick: boolean) => BenchCase[];

export const kernelCaseFactories: CaseFactory[] = [
  plainMatmulCases,
  matmulCases,
  matvecCases,
  attentionCases,
  kvDequantCases,
  decodeTailCases,
];

export async function runSuite(gpu: GpuDevice, options: SuiteOptions): Promise<(BenchResult & { precision: Precision | '-' })[]> {
  const results: (BenchResult & { precision: Precision | '-' })[] = [];
  const minMs = options.quick ? 1 : 30;
  for (const c of baselineCases(options.quick)) {
    const r = { ...(await measure(gpu, c, minMs)), precision: '-' as const };
    results.push(r);
    options.onResult?.(r);
  }
  for (const precision of options.precisions) {
    for (const factory of kernelCaseFactories) {
      for (const c of factory(precision, options.quick)) {
        if (options.filter && !c.name.includes(options.filter)) continue;
        const r = { ...(await measure(gpu, c, minMs)), precision };
        results.push(r);
        options.onResult?.(r);
      }
    }
  }
  return results;
}
