import type { LogitReduction, PreparedQuestion } from './kept-frame-scores';

/**
 * What the engine's thread tells a ranking worker (ranking-shards.ts → ranking-shard-worker.ts):
 * the key geometry once, each of its frames' int8 keys as they are stored, and questions to score
 * a list of its frames against. Messages to one worker are handled in order, so a question sees
 * every frame stored before it.
 */
export type ShardRequest =
  | { type: 'init'; headDim: number; kvHeads: number }
  | { type: 'store'; frame: number; codes: Int8Array; scales: Float32Array; tokens: number }
  | { type: 'score'; id: number; question: PreparedQuestion; frames: Int32Array; reduce: LogitReduction };

/** A worker's answers: a question's scores (in the order of its frames), or why a request failed (id null: a store). */
export type ShardReply = { type: 'scores'; id: number; scores: Float32Array; simd: boolean } | { type: 'failed'; id: number | null; message: string };

/**
 * One ranking worker as the platform makes it (a Web Worker in the browser): requests go in,
 * replies and the worker's own failure (it died, a message could not be read) come out.
 */
export interface ShardWorker {
  send(request: ShardRequest, transfer: ArrayBuffer[]): void;
  /** Sets the handlers, once, before the first request. */
  listen(onReply: (reply: ShardReply) => void, onFailure: (reason: string) => void): void;
  terminate(): void;
}

/** Starts one ranking worker; throws where the platform cannot (no Worker, a policy that forbids it). */
export type SpawnShardWorker = () => ShardWorker;

/**
 * The ranking workers `rankingThreads: 'auto'` starts on a machine of `cores` logical cores: half of
 * them, at most 8 (the engine's thread, the page and the GPU process keep the rest), and none below
 * 4 cores, where a single worker would only move the work, not share it.
 */
export function autoRankingThreads(cores: number): number {
  const half = Math.min(8, Math.floor(cores / 2));
  return half >= 2 ? half : 0;
}

/** Ranking spread over worker threads: how to start one, and how many. */
export interface ParallelRanking {
  spawn: SpawnShardWorker;
  threads: number;
}
