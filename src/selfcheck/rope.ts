import type { KernelCheck } from './types';

export const ropeChecks: KernelCheck[] = [];
