import type { ParallelRanking, ShardWorker } from '../../../src/memory/ranking-shard-protocol';
import { browserRankingWorkers } from '../../../src/platform/browser/ranking-workers';

/**
 * A real Web Worker that crashes like a ranking worker could: its script throws as it starts, or
 * its handler throws when the first question comes (after taking its frames' keys). The browser
 * reports the uncaught error to the Worker's onerror, which is what ranking-shards.ts listens to.
 */
export function crashingWorker(when: 'start' | 'question'): ShardWorker {
  const script = when === 'start' ? 'throw new Error("ranking worker crashed");' : 'onmessage = (e) => { if (e.data.type === "score") throw new Error("ranking worker crashed"); };';
  const worker = new Worker(URL.createObjectURL(new Blob([script], { type: 'text/javascript' })));
  return {
    send: (request, transfer) => worker.postMessage(request, transfer),
    listen: (_onReply, onFailure) => {
      worker.onerror = (e) => {
        e.preventDefault();
        onFailure(e.message);
      };
    },
    terminate: () => worker.terminate(),
  };
}

/** Two ranking workers, the second of which crashes (crashingWorker) at `when`; the first is a real one. */
export function twoWorkersOneCrashing(when: 'start' | 'question'): ParallelRanking {
  const real = browserRankingWorkers(1)!;
  let spawned = 0;
  return { threads: 2, spawn: () => (spawned++ === 1 ? crashingWorker(when) : real.spawn()) };
}
