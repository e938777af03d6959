import { Worker } from 'node:worker_threads';
import type { CaseResult } from './run-case';

export interface PoolOptions {
  workers: number;
  /** A case still running after this long is a hang: its worker is terminated and replaced. */
  timeoutMs: number;
  /** Each worker's V8 heap limit: a case that needs more dies of it, a crash. */
  heapMB: number;
}

export interface CaseJob {
  target: string;
  seed: number;
  index: number;
}

/**
 * Runs cases in worker threads, each case under a watchdog: a time limit (terminate the worker: a
 * hang) and a memory limit (resourceLimits: the worker dies, a crash). Dead workers are replaced and
 * the run goes on, so one bad case never stops the rest.
 */
export async function runPool(script: URL, jobs: Iterable<CaseJob>, options: PoolOptions, onResult: (r: CaseResult) => void): Promise<void> {
  const queue = jobs[Symbol.iterator]();
  const spawn = () =>
    new Worker(script, {
      workerData: { fuzzWorker: true },
      resourceLimits: { maxOldGenerationSizeMb: options.heapMB, maxYoungGenerationSizeMb: 64, stackSizeMb: 4 },
    });

  const lane = async () => {
    let worker = spawn();
    for (let next = queue.next(); !next.done; next = queue.next()) {
      const job = next.value;
      const result = await new Promise<CaseResult>((resolve) => {
        let settled = false;
        const finish = (r: CaseResult, replace: boolean) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          // only this case's listeners: removeAllListeners would also drop the Worker's own, which
          // start its message port, and the next case's result would never arrive
          worker.off('message', onMessage).off('error', onError).off('exit', onExit);
          if (replace) {
            void worker.terminate();
            worker = spawn();
          }
          resolve(r);
        };
        const timer = setTimeout(() => finish({ target: job.target, index: job.index, outcome: 'hang', ms: options.timeoutMs, memoryMB: 0 }, true), options.timeoutMs);
        const onMessage = (r: CaseResult) => finish(r, false);
        const onError = (e: Error) => finish({ target: job.target, index: job.index, outcome: 'crash', ms: 0, memoryMB: 0, detail: `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}` }, true);
        const onExit = (code: number) => finish({ target: job.target, index: job.index, outcome: 'crash', ms: 0, memoryMB: 0, detail: `worker exited (${code})` }, true);
        worker.on('message', onMessage).on('error', onError).on('exit', onExit);
        worker.postMessage(job);
      });
      onResult(result);
    }
    await worker.terminate();
  };
  await Promise.all(Array.from({ length: options.workers }, lane));
}
