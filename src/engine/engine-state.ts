import type { FrameBlock, Thumbnail } from '../memory/frame-block';
import type { PayloadSpill } from '../memory/spill';
import type { FrameInputs, MemoryStore } from '../memory/store';

/**
 * What survives a lost GPU device: everything a stream is, except GPU buffers. The memory store
 * (key summaries, thumbnails and retrieval rows in RAM; K/V payloads in RAM or on the OPFS spill)
 * never touches the GPU; the window's frames live on the GPU, so each keeps a raw copy of its K/V
 * rows in RAM (`backup`, read back right after its prefill) from which a successor engine on a new
 * device rebuilds them bit for bit. StreamEngine.handOver produces it, StreamEngine.create's
 * `host.resume` consumes it.
 */
export interface EngineState {
  store: MemoryStore;
  spill: PayloadSpill | null;
  /** The window's frames, oldest first; a frame with no backup cannot be rebuilt and is counted lost. */
  window: { index: number; timestampMs: number; thumbnail: Thumbnail; backup: FrameBlock | null; inputs?: FrameInputs | null }[];
  nextIndex: number;
  lastTimestampMs: number | null;
  /** Window frames lost with earlier devices. */
  framesLost: number;
}
