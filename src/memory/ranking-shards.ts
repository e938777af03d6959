import type { LogitReduction, PreparedQuestion } from './kept-frame-scores';
import type { ShardReply, ShardWorker, SpawnShardWorker } from './ranking-shard-protocol';

/** A ranking worker died or could not be started: its frames' keys are gone (the index starts again in-thread). */
export class ShardLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardLostError';
  }
}

interface Pending {
  resolve: (scores: Float32Array) => void;
  reject: (error: Error) => void;
}

/**
 * Every stored frame's retrieval keys spread over worker threads, frame i on worker i mod n, and a
 * question scored by all of them at once: the ranking's cost, which grows with the store (its
 * first pass reads every frame), divided by the threads. Each worker keeps its frames in its own
 * WebAssembly memory (no SharedArrayBuffer, so no cross-origin isolation is needed) and scores them
 * with the same loop as the engine's thread (kept-frame-scores.ts): the same scores, bit for bit.
 *
 * A worker that dies takes its frames' keys with it: every call from then on throws ShardLostError,
 * and the index rebuilds its keys in the engine's thread from the store (TokenKeysIndex.restart).
 */
export class RankingShards {
  private readonly workers: ShardWorker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** Why a store failed in a worker (its frame has no keys there), reported by the next question. */
  private storeFailure: string | null = null;
  private lostReason: string | null = null;
  private workersSimd: boolean | null = null;

  constructor(
    spawn: SpawnShardWorker,
    threads: number,
    headDim: number,
    kvHeads: number,
  ) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`RankingShards: ${threads} threads`);
    try {
      for (let w = 0; w < threads; w++) {
        const worker = spawn();
        this.workers.push(worker);
        worker.listen(
          (reply) => this.onReply(reply),
          (reason) => this.lose(`ranking worker ${w} failed: ${reason}`),
        );
        worker.send({ type: 'init', headDim, kvHeads }, []);
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  /** Why the workers were lost, or null while they serve. */
  get lost(): string | null {
    return this.lostReason;
  }

  /** Whether the workers score in WebAssembly SIMD (null before their first answer). */
  get simd(): boolean | null {
    return this.workersSimd;
  }

  /** Frame i's int8 keys [tokens, kvHeads·headDim] and scales [tokens, kvHeads], handed to its worker (the arrays are transferred). */
  store(i: number, codes: Int8Array, scales: Float32Array, tokens: number): void {
    if (this.lostReason) throw new ShardLostError(this.lostReason);
    const own = (a: ArrayBufferView): ArrayBuffer[] => (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer ? [a.buffer] : []);
    this.workers[i % this.workers.length].send({ type: 'store', frame: i, codes, scales, tokens }, [...own(codes), ...own(scales)]);
  }

  /**
   * Each listed frame's score (kept-frame-scores.ts), in the order listed, every worker scoring its
   * own frames at once. The frames must have been stored (AttentionKeys checks); a worker asked for
   * one it lacks fails the question with a RangeError.
   */
  async score(question: PreparedQuestion, frames: ArrayLike<number>, reduce: LogitReduction): Promise<Float32Array> {
    if (this.lostReason) throw new ShardLostError(this.lostReason);
    if (this.storeFailure) throw new RangeError(`RankingShards: a frame's keys could not be kept: ${this.storeFailure}`);
    const n = this.workers.length;
    const counts = new Int32Array(n);
    for (let j = 0; j < frames.length; j++) counts[frames[j] % n]++;
    const lists = Array.from(counts, (c) => new Int32Array(c));
    const filled = new Int32Array(n);
    for (let j = 0; j < frames.length; j++) lists[frames[j] % n][filled[frames[j] % n]++] = frames[j];
    const parts = await Promise.all(
      lists.map((list, w) => {
        if (list.length === 0) return Promise.resolve(new Float32Array(0));
        const id = this.nextId++;
        return new Promise<Float32Array>((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          this.workers[w].send({ type: 'score', id, question, frames: list, reduce }, [list.buffer]);
        });
      }),
    );
    const out = new Float32Array(frames.length);
    filled.fill(0);
    for (let j = 0; j < frames.length; j++) {
      const w = frames[j] % n;
      out[j] = parts[w][filled[w]++];
    }
    return out;
  }

  close(): void {
    for (const w of this.workers) w.terminate();
    this.lose('the ranking workers were closed');
  }

  private onReply(reply: ShardReply): void {
    if (reply.type === 'failed' && reply.id === null) {
      this.storeFailure ??= reply.message;
      return;
    }
    const waiting = this.pending.get(reply.id!);
    if (!waiting) return;
    this.pending.delete(reply.id!);
    if (reply.type === 'scores') {
      this.workersSimd = reply.simd;
      waiting.resolve(reply.scores);
    } else waiting.reject(new RangeError(`RankingShards: ${reply.message}`));
  }

  private lose(reason: string): void {
    if (this.lostReason) return;
    this.lostReason = reason;
    for (const w of this.workers) w.terminate();
    for (const p of this.pending.values()) p.reject(new ShardLostError(reason));
    this.pending.clear();
  }
}
