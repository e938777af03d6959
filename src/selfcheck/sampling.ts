import type { KernelCheck } from './types';

export const samplingChecks: KernelCheck[] = [];
