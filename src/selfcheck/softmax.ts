import type { KernelCheck } from './types';

export const softmaxChecks: KernelCheck[] = [];
