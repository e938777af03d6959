// A ranking worker in the browser (memory/ranking-shard-worker.ts), started from the engine's own
// worker by ranking-workers.ts: it keeps a share of the stored frames' retrieval keys and scores them.
import type { ShardRequest } from '../../memory/ranking-shard-protocol';
import { createShardHandler } from '../../memory/ranking-shard-worker';

const scope = self as unknown as { postMessage(message: unknown, transfer: Transferable[]): void; onmessage: ((e: MessageEvent<ShardRequest>) => void) | null };
const handle = createShardHandler((reply, transfer) => scope.postMessage(reply, transfer));
scope.onmessage = (e) => handle(e.data);
