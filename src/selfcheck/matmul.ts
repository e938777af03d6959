import type { KernelCheck } from './types';

export const matmulChecks: KernelCheck[] = [];
