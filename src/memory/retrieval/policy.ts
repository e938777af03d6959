import type { FrameBlock } from '../frame-block';
import type { ParallelRanking } from '../ranking-shard-protocol';
import type { RowMatrix } from '../simd-dot';

/** The model geometry a retrieval index is built for. */
export interface RetrievalGeometry {
  layers: number;
  /** Query heads. */
  heads: number;
  kvHeads: number;
  headDim: number;
  /** The decoder layer whose queries and per-token keys token-level policies compare (the engine's retrievalLayer). */
  layer: number;
}

/** A question as retrieval sees it: its pre-RoPE queries at every layer, [layers, tokens, heads·headDim]. */
export interface QuestionQueries {
  queries: Float32Array;
  tokens: number;
}

/** The k frames to restore (store positions, time order) and the scores of the frames scored. */
export interface Ranking {
  chosen: number[];
  scores: Map<number, number>;
}

/** What the store hands an index for each frame it stores. */
export interface StoredFrame {
  /** The frame's position in the store (stream order), what rankings return. */
  position: number;
  block: Pick<FrameBlock, 'index' | 'layers' | 'tokens' | 'channels' | 'bits' | 'codec' | 'keyGroup' | 'dtype'>;
  /** The key summary with unit-length (layer, KV head) slices, as the store keeps it. */
  unitSummary: Float32Array;
  /** The K/V payload, or null while it is on disk (a frame opened lazily from a saved memory). */
  payload: Uint8Array | null;
}

/** What an index may read of the store when ranking. */
export interface RankedStore {
  readonly frames: number;
  /** [frames, layers·kvHeads·headDim]: every frame's unit key summary (part of the saved memory). */
  unitSummaries(): RowMatrix;
}

/** A policy's index over the stored frames, kept in RAM beside the store (never spilled, never saved). */
export interface RetrievalIndex {
  /**
   * Indexes a frame as the store adds it. False when the index needs the payload and it was not at
   * hand: the store calls again with the payload before the next ranking.
   */
  add(frame: StoredFrame): boolean;
  /** RAM the index holds. */
  readonly bytes: number;
  /** The k stored frames to restore for a question, in time order. */
  rank(question: QuestionQueries, k: number, store: RankedStore): Promise<Ranking>;
  /** Worker threads ranking in parallel (0 or absent: the caller's thread alone). */
  readonly threads?: number;
  /**
   * Called before a ranking: true once after the index lost what it held (its ranking workers
   * died) and started again empty; the store then adds every frame again.
   */
  restart?(): boolean;
  /** Stops the index's workers, if any. */
  close?(): void;
}

/**
 * A way of choosing which stored frames a question restores: it indexes each frame as it is stored
 * and ranks the frames for a question. Policies are listed by name in registry.ts (the engine's
 * `retrieval` option).
 */
export interface RetrievalPolicy {
  readonly name: string;
  /** `parallel`: worker threads the index may rank with (policies whose ranking gains nothing ignore it). */
  createIndex(geometry: RetrievalGeometry, parallel?: ParallelRanking): RetrievalIndex;
}
