/**
 * Where the memory store moves K/V payloads when they exceed its RAM budget (MemoryStore's
 * `ramBudgetBytes`). An hour of stream at 4 bits is ~2.3 GB of payloads for 256M; a browser tab that
 * holds several hours of them in RAM is killed by the browser, losing everything. The store keeps
 * every frame's key summary, thumbnail and retrieval rows in RAM (questions rank without touching
 * the disk) and reads a spilled payload back only for the frames a question restores.
 *
 * Implementations: OpfsSpill in the browser, FsSpill in Node (src/platform/). A spill is scratch space for one
 * engine's lifetime, not a saved memory (persist.ts does that).
 */
export interface PayloadSpill {
  /** Stores block `index`'s payload; once this resolves the store drops its RAM copy. */
  write(index: number, payload: Uint8Array): Promise<void>;
  /** Reads back what write stored; a missing or wrong-sized file rejects with a MemoryFileError. */
  read(index: number, bytes: number): Promise<Uint8Array>;
  /** Releases the spill (its files are removed). */
  destroy(): Promise<void>;
}
