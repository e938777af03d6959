import type { KvCodec, KvCodecKernels } from './codec';
import { kiviKernels } from './kivi-kernels';
import { RAW_KERNELS } from './raw-kernels';
import type { KvCodecId } from './registry';

/**
 * Each codec's GPU side, by the codec's id (apart from registry.ts because these import shaders,
 * which the memory-file parsers must not: they run in plain Node). A Record over every id, so a
 * codec added to the registry without its kernels does not compile.
 */
const KERNELS: Record<KvCodecId, KvCodecKernels> = {
  raw: RAW_KERNELS,
  'kivi-8': kiviKernels(8),
  'kivi-4': kiviKernels(4),
  'kivi-2': kiviKernels(2),
};

export function kernelsOf(codec: KvCodec): KvCodecKernels {
  return KERNELS[codec.id as KvCodecId];
}
