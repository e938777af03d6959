import type { KernelCheck } from './types';

export const embeddingChecks: KernelCheck[] = [];
