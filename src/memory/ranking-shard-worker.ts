import { Int8Logits } from './int8-logits';
import { scoreKeptFrames } from './kept-frame-scores';
import type { ShardReply, ShardRequest } from './ranking-shard-protocol';

/**
 * A ranking worker's side (its entries: platform/browser/ranking-worker.ts, platform/node/ranking-worker.ts): it keeps the int8 keys of the
 * frames it is given in its own Int8Logits (its own WebAssembly memory) and scores them against
 * questions with the same loop the engine's thread runs (kept-frame-scores.ts), so the scores are
 * the same bits. Returns the handler for each request; `reply` posts an answer back.
 */
export function createShardHandler(reply: (answer: ShardReply, transfer: ArrayBuffer[]) => void): (request: ShardRequest) => void {
  let kernel: Int8Logits | null = null;
  const ready = (): Int8Logits => {
    if (!kernel) throw new Error('ranking worker: a request came before its geometry');
    return kernel;
  };
  return (request) => {
    try {
      if (request.type === 'init') kernel = new Int8Logits(request.headDim, request.kvHeads);
      else if (request.type === 'store') ready().storeFrame(request.frame, request.codes, request.scales, request.tokens);
      else {
        const k = ready();
        const scores = scoreKeptFrames(k, request.question, request.frames, request.reduce);
        reply({ type: 'scores', id: request.id, scores, simd: k.simd }, [scores.buffer as ArrayBuffer]);
      }
    } catch (e) {
      const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      reply({ type: 'failed', id: request.type === 'score' ? request.id : null, message }, []);
    }
  };
}
