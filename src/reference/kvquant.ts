/**
 * The CPU codec of the KV quantization is runtime code (a restored memory's keys are dequantized on
 * the CPU for retrieval), so it lives in src/kernels/kvquant-cpu.ts; tests and benchmarks that treat
 * it as the kernels' reference import it from here.
 */
export * from '../kernels/kvquant-cpu';
