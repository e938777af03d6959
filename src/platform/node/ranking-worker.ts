// A ranking worker thread in Node (memory/ranking-shard-worker.ts), built as dist-node/ranking-worker.js
// beside the CLI and started by platform/node/ranking-workers.ts.
import { parentPort } from 'node:worker_threads';
import { createShardHandler } from '../../memory/ranking-shard-worker';

const port = parentPort;
if (!port) throw new Error('ranking-worker.js runs as a worker thread (platform/node/ranking-workers.ts starts it)');
port.on('message', createShardHandler((reply, transfer) => port.postMessage(reply, transfer)));
