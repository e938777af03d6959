import type { GpuDevice } from '../gpu/device';
import type { Precision } from '../kernels/common';
import type { WeightFormat } from '../kernels/weights';
import type { ModelLoadOptions } from '../families/family';
import { CLI_DEFAULTS, resolvePrecision } from '../settings/index';
import type { ParsedArgs } from './args';
import { sdkOptionsFrom } from './sdk-options';

/** The model options both `generate` and `watch` take: --weights and --precision. */
export const LOAD_OPTION_NAMES = ['weights', 'precision'] as const;

export interface CliLoadOptions {
  weightFormat: WeightFormat;
  /** 'auto': f16 math where the adapter has shader-f16, else f32. */
  precision: Precision | 'auto';
}

/** --weights (default f16) and --precision (default f32, the exact-parity setting), by the SDK's rules. */
export function loadOptions(args: ParsedArgs): CliLoadOptions {
  const o = sdkOptionsFrom(args, LOAD_OPTION_NAMES);
  return { weightFormat: o.weightFormat ?? CLI_DEFAULTS.weightFormat, precision: o.precision ?? CLI_DEFAULTS.precision };
}

/** The model load options for this GPU; f16 math on an adapter without shader-f16 is an InputError. */
export function modelLoadOptions(o: CliLoadOptions, gpu: GpuDevice): ModelLoadOptions {
  return { weightFormat: o.weightFormat, precision: resolvePrecision(o.precision, gpu.features.f16, '--precision') };
}
