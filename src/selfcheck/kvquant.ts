import type { KernelCheck } from './types';

export const kvquantChecks: KernelCheck[] = [];
