import type { ShardWorker } from '../../../src/memory/ranking-shard-protocol';

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
