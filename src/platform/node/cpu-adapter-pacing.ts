import type { AdapterDescription } from '../../gpu/device';

/**
 * CPU adapters (SwiftShader, llvmpipe/lavapipe): their "GPU" work runs on this machine's cores.
 * Dawn's Node binding waits for a map or onSubmittedWorkDone by polling from the event loop without
 * pause, so while the engine waits, the Node thread keeps a core busy that the work it waits for
 * needs. On a real GPU that poll costs nothing and answers fastest; on a CPU adapter it halves a
 * two-core machine.
 */
export function isCpuAdapter(a: AdapterDescription): boolean {
  return /swiftshader|llvmpipe|lavapipe/i.test(`${a.vendor} ${a.architecture} ${a.device} ${a.description}`);
}

/**
 * Paces waits for GPU work on a CPU adapter: while any wait is pending, the thread sleeps `sleepMs`
 * between the binding's polls (Atomics.wait on a private cell, which blocks the Node thread without
 * spinning), giving the core back to the adapter's threads. Measured on two cores (SwiftShader, the
 * needle model, a 60-frame watch with retrieval): 80 s polling without pause, 52 s with 1 ms sleeps,
 * 50 s with 2 ms; a wait ends at most `sleepMs` later than it would.
 */
export function cpuAdapterPacing(sleepMs = 1): <T>(pending: Promise<T>) => Promise<T> {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  let waiting = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  return async <T>(pending: Promise<T>): Promise<T> => {
    if (waiting++ === 0) timer = setInterval(() => Atomics.wait(cell, 0, 0, sleepMs), 0);
    try {
      return await pending;
    } finally {
      if (--waiting === 0) clearInterval(timer);
    }
  };
}
