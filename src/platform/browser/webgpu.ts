/**
 * The page's WebGPU entry point (navigator.gpu), or undefined where this browser has none.
 * (GpuDevice.acquire reads the same default itself when given no `gpu`: it is the WebGPU
 * standard's entry point and part of that public API.)
 */
export const navigatorGpu = (): GPU | undefined => (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
