import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import type { Precision } from '../kernels/common';
import { WEIGHT_FORMATS, type WeightFormat } from '../kernels/weights';
import type { SmolVlmLoadOptions } from '../model/smolvlm';
import { option, type ParsedArgs } from './args';

/** The model options both `generate` and `watch` take: --weights and --precision. */
export const LOAD_OPTION_NAMES = ['weights', 'precision'] as const;

export interface CliLoadOptions {
  weightFormat: WeightFormat;
  /** 'auto': f16 math where the adapter has shader-f16, else f32. */
  precision: Precision | 'auto';
}

export function loadOptions(args: ParsedArgs): CliLoadOptions {
  const weights = option(args, 'weights') ?? 'f16';
  if (!WEIGHT_FORMATS.includes(weights as WeightFormat)) throw new InputError(`--weights must be one of ${WEIGHT_FORMATS.join(', ')}, not ${weights}`);
  const precision = option(args, 'precision') ?? 'f32';
  if (!['f32', 'f16', 'auto'].includes(precision)) throw new InputError(`--precision must be f32, f16 or auto, not ${precision}`);
  return { weightFormat: weights as WeightFormat, precision: precision as Precision | 'auto' };
}

/** SmolVlm.load's options for this GPU; f16 math on an adapter without shader-f16 is an InputError. */
export function smolVlmOptions(o: CliLoadOptions, gpu: GpuDevice): SmolVlmLoadOptions {
  const precision: Precision = o.precision === 'auto' ? (gpu.features.f16 ? 'f16' : 'f32') : o.precision;
  if (precision === 'f16' && !gpu.features.f16) throw new InputError('--precision f16 needs shader-f16, which this GPU adapter does not offer; use f32 or auto');
  return { weightFormat: o.weightFormat, precision };
}
