import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { autoRankingThreads, type ParallelRanking, type ShardWorker } from '../../memory/ranking-shard-protocol';

/**
 * The ranking worker's file, dist-node/ranking-worker.js: beside this code where it is bundled into
 * dist-node/cli.js, one folder up from the benchmarks' shared chunks (dist-node/bench-chunks/).
 */
function workerFile(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, 'ranking-worker.js'), join(here, '..', 'ranking-worker.js')].find((f) => existsSync(f)) ?? null;
}

/**
 * Ranking worker threads for an engine in Node (StreamEngine.create's `host.ranking`): `threads`
 * of them ('auto': autoRankingThreads of the machine's cores), or undefined for 0 or where the worker
 * file was not built (ranking stays in this thread).
 */
export function nodeRankingWorkers(count: 'auto' | number = 'auto'): ParallelRanking | undefined {
  const threads = count === 'auto' ? autoRankingThreads(availableParallelism()) : count;
  const file = workerFile();
  if (!file || threads < 1) return undefined;
  return {
    threads,
    spawn: (): ShardWorker => {
      const worker = new Worker(file);
      // the CLI exits when its work is done, whether or not the engine was disposed
      worker.unref();
      return {
        send: (request, transfer) => worker.postMessage(request, transfer),
        listen: (onReply, onFailure) => {
          worker.on('message', onReply);
          worker.on('error', (e) => onFailure(e.message));
          worker.on('messageerror', () => onFailure('a reply could not be read'));
          worker.on('exit', (code) => onFailure(`the thread exited (code ${code})`));
        },
        terminate: () => void worker.terminate(),
      };
    },
  };
}
