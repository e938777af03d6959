import { autoRankingThreads, type ParallelRanking, type ShardWorker } from '../../memory/ranking-shard-protocol';

/**
 * Ranking workers for the engine in its Web Worker (StreamEngine.create's `host.ranking`), started
 * from here as nested workers of the same origin (allowed by `worker-src 'self'`): `threads` of
 * them, by default autoRankingThreads of the logical cores the browser reports. Undefined for 0 or
 * where Worker is missing (ranking stays in the engine's thread).
 */
export function browserRankingWorkers(threads = defaultThreads()): ParallelRanking | undefined {
  if (typeof Worker === 'undefined' || threads < 1) return undefined;
  return {
    threads,
    spawn: (): ShardWorker => {
      const worker = new Worker(new URL('./ranking-worker.ts', import.meta.url), { type: 'module', name: 'streamvlm-ranking' });
      return {
        send: (request, transfer) => worker.postMessage(request, transfer),
        listen: (onReply, onFailure) => {
          worker.onmessage = (e) => onReply(e.data);
          worker.onerror = (e) => {
            e.preventDefault();
            onFailure(e.message || 'the worker failed to start or threw');
          };
          worker.onmessageerror = () => onFailure('a reply could not be read');
        },
        terminate: () => worker.terminate(),
      };
    },
  };
}

function defaultThreads(): number {
  return autoRankingThreads(typeof navigator !== 'undefined' && navigator.hardwareConcurrency > 0 ? navigator.hardwareConcurrency : 2);
}
