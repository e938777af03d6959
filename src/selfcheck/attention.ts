import type { KernelCheck } from './types';

export const attentionChecks: KernelCheck[] = [];
