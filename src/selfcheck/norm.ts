import type { KernelCheck } from './types';

export const normChecks: KernelCheck[] = [];
